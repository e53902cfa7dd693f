"""Building blocks of a viewport's VTK scene: the image quad, line layers, corner text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkFiltersSources import vtkPlaneSource
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkTextActor,
    vtkTexture,
)

from workstation.viewer._vtk.vtk_fonts import use_unicode_font

TEXT_RGB = (0.95, 0.95, 0.95)


def set_text(actor: vtkTextActor, text: str) -> None:
    """Show ``text`` with a font that has its script (VTK's own fonts are Latin-1 only:
    a Cyrillic or CJK patient name came out blank)."""
    prop = actor.GetTextProperty()
    use_unicode_font(prop, bool(prop.GetBold()), text)
    actor.SetInput(text)


def text_actor(
    renderer: vtkRenderer, size: int, rgb: tuple[float, float, float], centred: bool = False
) -> vtkTextActor:
    """A shadowed text actor in ``renderer`` (a font with every script)."""
    actor = vtkTextActor()
    prop = actor.GetTextProperty()
    prop.SetFontSize(size)
    use_unicode_font(prop)
    prop.SetColor(*rgb)
    prop.ShadowOn()
    if centred:
        prop.SetJustificationToCentered()
        prop.SetVerticalJustificationToCentered()
    renderer.AddViewProp(actor)
    return actor


def to_vtk_matrix(m3: np.ndarray, z: float = 0.0) -> vtkMatrix4x4:
    m = vtkMatrix4x4()
    m.Identity()
    m.SetElement(0, 0, m3[0, 0])
    m.SetElement(0, 1, m3[0, 1])
    m.SetElement(0, 3, m3[0, 2])
    m.SetElement(1, 0, m3[1, 0])
    m.SetElement(1, 1, m3[1, 1])
    m.SetElement(1, 3, m3[1, 2])
    m.SetElement(2, 3, z)
    return m


def polydata(lines: Sequence[Sequence[tuple[float, float]]], closed: Sequence[bool]) -> vtkPolyData:
    points, cells = vtkPoints(), vtkCellArray()
    for line, loop in zip(lines, closed):
        ids = []
        for x, y in line:
            ids.append(points.InsertNextPoint(x, y, 0.0))
        if loop and ids:
            ids.append(ids[0])
        if len(ids) >= 2:
            cells.InsertNextCell(len(ids), ids)
    pd = vtkPolyData()
    pd.SetPoints(points)
    pd.SetLines(cells)
    return pd


class LineLayer:
    """Lines in image coordinates drawn over the image with the image's matrix."""

    def __init__(
        self,
        renderer: vtkRenderer,
        rgb: tuple[float, float, float],
        width: float,
        z: float = -1.0,
    ) -> None:
        #: Depth of the lines: slightly towards the camera, so the image never hides them.
        self.z = z
        self.mapper = vtkPolyDataMapper()
        self.actor = vtkActor()
        self.actor.SetMapper(self.mapper)
        prop = self.actor.GetProperty()
        prop.SetColor(*rgb)
        prop.SetLineWidth(width)
        prop.SetLighting(False)
        self.mapper.SetInputData(vtkPolyData())
        renderer.AddActor(self.actor)
        self._key: object = None

    def set(self, lines, closed, matrix: np.ndarray) -> None:
        key = (tuple(tuple(line) for line in lines), tuple(closed), matrix.tobytes())
        if key == self._key:
            return
        self._key = key
        self.mapper.SetInputData(polydata(lines, closed))
        self.actor.SetUserMatrix(to_vtk_matrix(matrix, z=self.z))
        self.actor.SetVisibility(bool(lines))


#: The image quad's fragment colour: the texel, opaque.  Replaces VTK's texture code
#: (ambient/diffuse colour times texel, a discard test on alpha), which costs about a
#: millisecond more per 860x860 frame on llvmpipe; with a constant alpha of 1 the
#: shader compiler also drops the discard, so depth can be tested early.
IMAGE_FRAGMENT = "fragOutput0 = vec4(texture(actortexture, tcoordVCVSOutput).rgb, 1.0);"


class ImageQuad:
    """The frame as a textured rectangle: the 8-bit picture is uploaded as a texture.

    Pixel (column, row) has its centre at (column, row): the rectangle spans -0.5 to
    size - 0.5.  A plain textured quad costs about a third less CPU per frame on
    llvmpipe than ``vtkImageActor``, whose shader also applies a window/level that the
    viewer has already done in numpy.  Grey frames are one-component textures (VTK
    shows them as grey through a texture swizzle), so an upload is a quarter of RGBA.
    """

    def __init__(self) -> None:
        self.image = vtkImageData()
        self.texture = vtkTexture()
        self.texture.SetInputData(self.image)
        self.texture.SetColorModeToDirectScalars()
        self.texture.InterpolateOn()
        self.texture.RepeatOff()
        self.texture.EdgeClampOn()
        self.plane = vtkPlaneSource()
        self.mapper = vtkPolyDataMapper()
        self.mapper.SetInputConnection(self.plane.GetOutputPort())
        self.actor = self.new_actor()
        self._size = (0, 0)

    def new_actor(self) -> vtkActor:
        """An actor drawing this quad (the magnifier shows the same texture)."""
        actor = vtkActor()
        actor.SetMapper(self.mapper)
        actor.SetTexture(self.texture)
        actor.GetProperty().SetLighting(False)
        actor.GetShaderProperty().AddFragmentShaderReplacement(
            "//VTK::TCoord::Impl", True, IMAGE_FRAGMENT, False
        )
        actor.SetVisibility(False)
        return actor

    def set_pixels(self, flat, cols: int, rows: int, comps: int) -> None:
        if (cols, rows) != self._size or self.image.GetNumberOfScalarComponents() != comps:
            self._size = (cols, rows)
            self.image.SetDimensions(cols, rows, 1)
            self.plane.SetOrigin(-0.5, -0.5, 0.0)
            self.plane.SetPoint1(cols - 0.5, -0.5, 0.0)
            self.plane.SetPoint2(-0.5, rows - 0.5, 0.0)
        self.image.GetPointData().SetScalars(flat)
        self.image.Modified()


class CornerText:
    """Text in the corners and at the edge midpoints, like ``vtkCornerAnnotation``.

    Positions: 0 lower left, 1 lower right, 2 upper left, 3 upper right, 4 lower edge,
    5 right edge, 6 left edge, 7 upper edge.  Plain text actors with a fixed font size:
    ``vtkCornerAnnotation`` re-fits its font on every change, which costs far more than
    the image itself on software GL.
    """

    MARGIN = 4

    def __init__(self, renderer: vtkRenderer, size: int = 14) -> None:
        self.actors = []
        for i in range(8):
            actor = vtkTextActor()
            prop = actor.GetTextProperty()
            prop.SetFontSize(size)
            prop.SetBold(i >= 4)
            use_unicode_font(prop, bold=i >= 4)
            prop.SetColor(*TEXT_RGB)
            prop.ShadowOn()
            prop.SetJustification((0, 2, 0, 2, 1, 2, 0, 1)[i])
            prop.SetVerticalJustification((0, 0, 2, 2, 0, 1, 1, 2)[i])
            renderer.AddViewProp(actor)
            self.actors.append(actor)
        self._texts = [""] * 8

    def SetText(self, i: int, text: str) -> None:
        if self._texts[i] != text:
            self._texts[i] = text
            set_text(self.actors[i], text)
            self.actors[i].SetVisibility(bool(text))

    def GetText(self, i: int) -> str:
        return self._texts[i]

    def place(self, width: int, height: int) -> None:
        m = self.MARGIN
        spots = [
            (m, m),
            (width - m, m),
            (m, height - m),
            (width - m, height - m),
            (width / 2, m),
            (width - m, height / 2),
            (m, height / 2),
            (width / 2, height - m),
        ]
        for actor, (x, y) in zip(self.actors, spots):
            actor.SetPosition(x, y)
