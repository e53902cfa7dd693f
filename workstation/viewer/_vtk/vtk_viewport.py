"""What one viewport draws with VTK: the image, overlays, annotations, lines, magnifier.

World coordinates equal the widget's pixel coordinates (x right, y down): the camera is
parallel, looks along +z with view-up -y, and shows exactly the widget.  The image quad
carries the model's image-to-screen matrix, so pixel (column, row) lands where the mouse
tools expect it.  Greyscale frames are windowed to 8 bits in numpy and uploaded as a
``uint8`` texture on a plain quad: on llvmpipe that costs 10-14 CPU ms per 800x800
offscreen frame against 14-22 for ``vtkImageActor`` with either 8-bit data or 16-bit
data and VTK's own window/level (``benchmarks/viewer_screen_bench.py`` measures all
three).  On screen a frame is presented by one colour blit (see ``__init__``).
"""

from __future__ import annotations

import logging

import numpy as np
import vtkmodules.vtkInteractionStyle
import vtkmodules.vtkRenderingFreeType
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (the OpenGL backend)
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkActor2D,
    vtkPolyDataMapper2D,
    vtkRenderer,
    vtkTextActor,
    vtkWindowToImageFilter,
)

from workstation.viewer._vtk.vtk_glyph_layer import VtkGlyphLayer
from workstation.viewer._vtk.vtk_layers import (
    TEXT_RGB,
    CornerText,
    ImageQuad,
    LineLayer,
    polydata,
    set_text,
    text_actor,
    to_vtk_matrix,
)
from workstation.viewer.glyphs import Glyph

logger = logging.getLogger(__name__)

REFERENCE_RGB = (0.3, 0.75, 1.0)
MESSAGE_RGB = (1.0, 0.45, 0.35)
HINT_RGB = (0.6, 0.6, 0.6)


class VtkViewport:
    """The VTK scene of one viewport."""

    def __init__(self, render_window) -> None:
        self.render_window = render_window
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0, 0, 0)
        # No multisampling: on software GL (llvmpipe) 8x MSAA multiplies every frame's cost.
        render_window.SetMultiSamples(0)
        # Present by one colour blit into the window's back buffer.  VTK's default
        # ("to hardware") also draws its depth buffer into the window with a full-window
        # shader pass that nothing here reads: about 5 of 23 CPU ms per 860x860 frame
        # on llvmpipe.  The picture on screen is the same (tests/viewer compare them).
        render_window.SetFrameBlitModeToBlitToCurrent()
        render_window.AddRenderer(self.renderer)
        self._quad = ImageQuad()
        self.image_actor = self._quad.actor
        self.renderer.AddViewProp(self.image_actor)
        self._refs = LineLayer(self.renderer, REFERENCE_RGB, 1.5)
        self._glyphs = VtkGlyphLayer(self.renderer)
        self.corners = CornerText(self.renderer)
        self.message = self._text_actor(16, MESSAGE_RGB, centred=True)
        self._message = ""
        self.message.SetVisibility(False)
        self._scale_line = vtkActor2D()
        self._scale_mapper = vtkPolyDataMapper2D()
        self._scale_mapper.SetInputData(vtkPolyData())
        self._scale_line.SetMapper(self._scale_mapper)
        self._scale_line.GetProperty().SetColor(*TEXT_RGB)
        self._scale_line.GetProperty().SetLineWidth(2)
        self.renderer.AddViewProp(self._scale_line)
        self._scale_text = self._text_actor(12, TEXT_RGB)
        self._border = vtkActor2D()
        self._border_mapper = vtkPolyDataMapper2D()
        self._border.SetMapper(self._border_mapper)
        self._border.GetProperty().SetLineWidth(2)
        self.renderer.AddViewProp(self._border)
        self.pixels_tag: object = None
        self._magnifier: vtkRenderer | None = None
        self._mag_actor: vtkActor | None = None
        self.view_size = (1, 1)
        self._matrix = np.eye(3)
        self._camera_ready = False
        self._scale_key: object = None
        self._active_key: object = None

    def _text_actor(self, size: int, rgb, centred: bool = False) -> vtkTextActor:
        return text_actor(self.renderer, size, rgb, centred)

    # Camera and image ------------------------------------------------------------
    def set_view_size(self, width: int, height: int) -> None:
        size = (max(1, width), max(1, height))
        if size == self.view_size and self._camera_ready:
            return
        self.view_size, self._camera_ready = size, True
        w, h = size
        cam = self.renderer.GetActiveCamera()
        cam.ParallelProjectionOn()
        cam.SetFocalPoint(w / 2, h / 2, 0.0)
        cam.SetPosition(w / 2, h / 2, -1000.0)
        cam.SetViewUp(0.0, -1.0, 0.0)
        cam.SetParallelScale(h / 2)
        cam.SetClippingRange(1.0, 2000.0)
        self.message.SetPosition(w / 2, h / 2)
        self.corners.place(w, h)

    def show_pixels(self, pixels: np.ndarray | None, tag: object = None) -> None:
        """Upload an 8-bit frame: (rows, cols) grey or (rows, cols, 3) RGB; None hides it.

        ``tag`` says what the picture was made from; :attr:`pixels_tag` returns it until
        the next call, so a caller can skip re-making the same picture.
        """
        self.pixels_tag = tag if pixels is not None else None
        if pixels is None:
            self.image_actor.SetVisibility(False)
            self._pixels = None
            if self._mag_actor is not None:
                self._mag_actor.SetVisibility(False)
            return
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        rows, cols = pixels.shape[:2]
        comps = 1 if pixels.ndim == 2 else pixels.shape[2]
        flat = pixels.reshape(rows * cols, comps) if comps > 1 else pixels.reshape(-1)
        self._pixels = pixels  # keep the buffer alive: VTK shares its memory
        self._quad.set_pixels(numpy_to_vtk(flat, deep=False), cols, rows, comps)
        self.image_actor.SetVisibility(True)
        if self._mag_actor is not None:
            self._mag_actor.SetVisibility(True)

    def warm_up(self) -> None:
        """Draw a tiny image and text once, so the GL context and the image and text
        shaders are built now (at start-up) rather than when the first study opens;
        on llvmpipe that first compile costs hundreds of milliseconds."""
        self.show_pixels(np.zeros((2, 2), dtype=np.uint8))
        self.set_message(".")
        self.render_window.Render()
        self.show_pixels(None)
        self.set_message("")

    def set_interactive(self, moving: bool) -> bool:
        """Nearest-neighbour sampling while the stack moves, linear when it rests.

        On llvmpipe linear filtering costs about a third of a frame at 860x860; while
        scrolling or playing cine the difference cannot be seen.  Returns True when the
        mode changed (the caller re-renders for the still picture).
        """
        texture = self._quad.texture
        nearest = not texture.GetInterpolate()
        if moving == nearest:
            return False
        texture.SetInterpolate(not moving)
        return True

    def set_matrix(self, matrix: np.ndarray) -> None:
        self._matrix = matrix
        self.image_actor.SetUserMatrix(to_vtk_matrix(matrix))

    def set_message(self, text: str, hint: bool = False) -> None:
        """A centred message (why a frame cannot be shown; a grey ``hint``), wrapped."""
        import textwrap

        self.message.GetTextProperty().SetColor(*(HINT_RGB if hint else MESSAGE_RGB))
        width = max(12, int(self.view_size[0] / 11))  # about 9.5 px per character at 16 pt
        wrapped = "\n".join(textwrap.wrap(text, width)) if text else ""
        set_text(self.message, wrapped)
        self.message.SetVisibility(bool(text))
        self._message = text

    @property
    def message_text(self) -> str:
        """The message as given (unwrapped)."""
        return self._message

    # Overlays -----------------------------------------------------------------
    def set_corners(
        self, top_left: str, top_right: str, bottom_left: str, bottom_right: str
    ) -> None:
        # vtkCornerAnnotation: 0 lower left, 1 lower right, 2 upper left, 3 upper right.
        for i, text in enumerate((bottom_left, bottom_right, top_left, top_right)):
            self.corners.SetText(i, text)

    def set_orientation(self, labels: dict[str, str]) -> None:
        # 4 lower edge, 5 right edge, 6 left edge, 7 upper edge.
        for i, edge in ((4, "bottom"), (5, "right"), (6, "left"), (7, "top")):
            self.corners.SetText(i, labels.get(edge, ""))

    def set_scale_bar(self, length_px: float, text: str) -> None:
        key = (round(length_px, 2), text, self.view_size)
        if key == self._scale_key:
            return
        self._scale_key = key
        w = self.view_size[0]
        x1 = w - 20
        y = 50  # display coordinates: from the bottom
        if length_px > 0:
            x0 = x1 - length_px
            pts = [((x0, y), (x1, y)), ((x0, y - 5), (x0, y + 5)), ((x1, y - 5), (x1, y + 5))]
            self._scale_mapper.SetInputData(polydata(pts, [False] * 3))
            self._scale_text.SetPosition(x1 - length_px / 2 - 4 * len(text), y + 6)
        else:
            self._scale_mapper.SetInputData(vtkPolyData())
            self._scale_text.SetPosition(x1 - 8 * len(text), y + 6)
        set_text(self._scale_text, text)

    def set_active(self, active: bool) -> None:
        key = (active, self.view_size)
        if key == self._active_key:
            return
        self._active_key = key
        w, h = self.view_size
        loop = [((1, 1), (w - 1, 1), (w - 1, h - 1), (1, h - 1))]
        self._border_mapper.SetInputData(polydata(loop, [True]))
        self._border.GetProperty().SetColor(*((0.95, 0.6, 0.1) if active else (0.25, 0.25, 0.25)))

    # Annotations and reference lines ------------------------------------------------
    def set_glyphs(self, glyphs: list[Glyph]) -> None:
        # World coordinates are the widget's pixels: one matrix for lines and labels.
        self._glyphs.set(glyphs, self._matrix, self._matrix, self.view_size)

    def set_reference_lines(
        self, segments: list[tuple[tuple[float, float], tuple[float, float]]]
    ) -> None:
        self._refs.set([list(s) for s in segments], [False] * len(segments), self._matrix)

    # Magnifier ---------------------------------------------------------------
    def set_magnifier(
        self, at: tuple[float, float] | None, factor: float = 3.0, size: int = 200
    ) -> None:
        """A square inset around the screen point ``at`` showing the image ``factor`` x bigger."""
        if at is None:
            if self._magnifier is not None:
                self._magnifier.SetDraw(False)
            return
        if self._magnifier is None:
            self._magnifier = vtkRenderer()
            self._magnifier.SetLayer(1)
            self._magnifier.SetBackground(0.05, 0.05, 0.05)
            self.render_window.SetNumberOfLayers(2)
            self.render_window.AddRenderer(self._magnifier)
            self._mag_actor = self._quad.new_actor()
            self._magnifier.AddViewProp(self._mag_actor)
            self._mag_border = vtkActor2D()
            self._mag_border_mapper = vtkPolyDataMapper2D()
            self._mag_border.SetMapper(self._mag_border_mapper)
            self._mag_border.GetProperty().SetColor(0.95, 0.6, 0.1)
            self._mag_border.GetProperty().SetLineWidth(2)
            self._magnifier.AddViewProp(self._mag_border)
        w, h = self.view_size
        x, y = at
        half = size / 2
        x0, y0 = min(max(x - half, 0), w - size), min(max(y - half, 0), h - size)
        # Viewport is given in normalised display coordinates (y from the bottom).
        self._magnifier.SetViewport(x0 / w, 1 - (y0 + size) / h, (x0 + size) / w, 1 - y0 / h)
        self._magnifier.SetDraw(True)
        # 2-D actors of a renderer draw in that renderer's own viewport pixels.
        frame = [((1, 1), (size - 1, 1), (size - 1, size - 1), (1, size - 1))]
        self._mag_border_mapper.SetInputData(polydata(frame, [True]))
        assert self._mag_actor is not None
        self._mag_actor.SetUserMatrix(to_vtk_matrix(self._matrix))
        self._mag_actor.SetVisibility(self._pixels is not None)
        cam = self._magnifier.GetActiveCamera()
        cam.ParallelProjectionOn()
        cam.SetFocalPoint(x, y, 0.0)
        cam.SetPosition(x, y, -1000.0)
        cam.SetViewUp(0.0, -1.0, 0.0)
        cam.SetParallelScale(half / factor)
        cam.SetClippingRange(1.0, 2000.0)

    # Frames and teardown --------------------------------------------------------
    def grab(self) -> np.ndarray:
        """The rendered picture as (height, width, 3) uint8, top row first."""
        f = vtkWindowToImageFilter()
        f.SetInput(self.render_window)
        f.SetInputBufferTypeToRGB()
        f.ReadFrontBufferOff()
        f.Update()
        out = f.GetOutput()
        w, h, _d = out.GetDimensions()
        arr = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, -1)
        return np.ascontiguousarray(arr[::-1, :, :3])

    def close(self) -> None:
        self.renderer.RemoveAllViewProps()
        if self._magnifier is not None:
            self._magnifier.RemoveAllViewProps()
        self._pixels = None
        self.pixels_tag = None
