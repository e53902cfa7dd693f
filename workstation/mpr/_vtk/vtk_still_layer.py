"""The 3-D view's renderers besides the live scene: a still picture and marks on top.

The window holds three renderers. The live scene's (layer 0) draws the ray-cast volume
or the iso-surface. The still layer (also layer 0, drawn instead of the scene's) shows
a finished picture, an RGB array drawn elsewhere (the still-picture worker), as the
renderer's textured background, pixel for pixel: showing it costs a texture upload, not
a ray cast. The marks overlay (layer 1) shares the scene's camera and holds what must
stay visible over either picture (the two-point distance): its depth buffer starts
empty, so marks are drawn over the volume, the same in both states.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow, vtkTexture


def marks_overlay_in(window: vtkRenderWindow, scene: vtkRenderer) -> vtkRenderer:
    """A renderer on layer 1 of `window` that sees through `scene`'s camera."""
    window.SetNumberOfLayers(max(2, window.GetNumberOfLayers()))
    overlay = vtkRenderer()
    overlay.SetLayer(1)
    overlay.SetInteractive(False)
    overlay.SetActiveCamera(scene.GetActiveCamera())
    window.AddRenderer(overlay)
    return overlay


class StillLayer:
    """Shows a finished picture in `window` in place of the `scene` renderer's drawing."""

    def __init__(self, window: vtkRenderWindow, scene: vtkRenderer) -> None:
        self.scene = scene
        self.renderer = vtkRenderer()
        self.renderer.SetLayer(0)
        self.renderer.SetInteractive(False)
        self.renderer.SetBackground(scene.GetBackground())
        self.texture = vtkTexture()
        self.texture.InterpolateOff()  # pixel for pixel
        self.texture.RepeatOff()
        self.texture.EdgeClampOn()
        self.renderer.SetBackgroundTexture(self.texture)
        self.renderer.TexturedBackgroundOn()
        self.renderer.SetDraw(False)
        self._pixels: np.ndarray | None = None  # kept alive: the texture shares it
        window.AddRenderer(self.renderer)

    @property
    def shown(self) -> bool:
        return bool(self.renderer.GetDraw())

    def show(self, rgb: np.ndarray) -> None:
        """Draw `rgb` ((rows, columns, 3) uint8, top row first) from the next render on."""
        rows, columns, _n = rgb.shape
        self._pixels = np.ascontiguousarray(rgb[::-1]).reshape(-1, 3)  # VTK: bottom row first
        image = vtkImageData()
        image.SetDimensions(columns, rows, 1)
        image.GetPointData().SetScalars(numpy_to_vtk(self._pixels, deep=0))
        self.texture.SetInputData(image)
        self.scene.SetDraw(False)
        self.renderer.SetDraw(True)

    def hide(self) -> None:
        """Draw the live scene again from the next render on."""
        self.renderer.SetDraw(False)
        self.scene.SetDraw(True)
