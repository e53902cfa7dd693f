"""Two-point distance in the 3-D view: pick points on what is drawn (the ray-cast volume
where its opacity rises, or the iso-surface) and show the line with its length.

Picks use ``vtkVolumePicker``, which walks the ray through the volume's transfer
function and the actor's user matrix, so points come back in LPS millimetres.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkFiltersSources import vtkLineSource
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkTextActor,
)
from vtkmodules.vtkRenderingVolume import vtkVolumePicker

from workstation.viewer._vtk.vtk_fonts import use_unicode_font
from workstation.viewer._vtk.vtk_layers import set_text

#: Opacity at which a ray through the volume counts as having hit something.
PICK_OPACITY = 0.2
_COLOUR = (1.0, 0.85, 0.1)


def pick_point(renderer: vtkRenderer, x: float, y: float) -> np.ndarray | None:
    """The LPS point drawn at display pixel (x, y) (origin bottom-left), or None."""
    picker = vtkVolumePicker()
    picker.SetTolerance(0.0005)
    picker.SetVolumeOpacityIsovalue(PICK_OPACITY)
    picker.PickCroppingPlanesOff()
    if not picker.Pick(x, y, 0.0, renderer) or picker.GetProp3D() is None:
        return None
    return np.array(picker.GetPickPosition(), dtype=float)


class DistanceLine:
    """A line between two LPS points with its length written beside it."""

    def __init__(self, renderer: vtkRenderer) -> None:
        self.renderer = renderer
        self.source = vtkLineSource()
        mapper = vtkPolyDataMapper()
        mapper.SetInputConnection(self.source.GetOutputPort())
        self.line = vtkActor()
        self.line.SetMapper(mapper)
        self.line.GetProperty().SetColor(*_COLOUR)
        self.line.GetProperty().SetLineWidth(2.0)
        self.line.GetProperty().LightingOff()
        self.label = vtkTextActor()
        self.label.GetTextProperty().SetFontSize(16)
        self.label.GetTextProperty().SetColor(*_COLOUR)
        use_unicode_font(self.label.GetTextProperty())
        self.label.GetPositionCoordinate().SetCoordinateSystemToWorld()
        renderer.AddActor(self.line)
        renderer.AddViewProp(self.label)

    def show(self, a: np.ndarray, b: np.ndarray, text: str) -> None:
        self.source.SetPoint1(*a)
        self.source.SetPoint2(*b)
        self.label.GetPositionCoordinate().SetValue(*((a + b) / 2.0))
        set_text(self.label, text)
        self.line.SetVisibility(True)
        self.label.SetVisibility(True)

    def hide(self) -> None:
        self.line.SetVisibility(False)
        self.label.SetVisibility(False)

    def remove(self) -> None:
        self.renderer.RemoveActor(self.line)
        self.renderer.RemoveViewProp(self.label)
