"""Helpers for the 3-D view tests: a synthetic body CT, a GUI-thread heartbeat, and an
independent still picture drawn by a plain VTK pipeline set up here by hand (nothing
of ``workstation.mpr._vtk``), to check the pictures the view shows."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np


def body_ct(n_xy: int, n_z: int) -> np.ndarray:
    """int16 HU (slice, row, column): air, a water body, four bone rods, contrast balls."""
    voxels = np.full((n_z, n_xy, n_xy), -1000, np.int16)
    j, i = np.mgrid[0:n_xy, 0:n_xy].astype(np.float32)
    c = (n_xy - 1) / 2
    body = (i - c) ** 2 + ((j - c) * 1.3) ** 2 < (0.42 * n_xy) ** 2
    rods = np.zeros_like(body)
    for dx, dy in ((-0.2, 0.1), (0.2, 0.1), (0.0, 0.25), (0.0, -0.2)):
        rods |= (i - c - dx * n_xy) ** 2 + (j - c - dy * n_xy) ** 2 < (0.05 * n_xy) ** 2
    voxels[:, body] = 40
    voxels[:, rods] = 1100
    k = np.arange(n_z, dtype=np.float32)[:, None, None]
    for fz, fx in ((0.3, -0.1), (0.6, 0.12), (0.8, 0.0)):
        ball = (k - fz * n_z) ** 2 + (i - c - fx * n_xy) ** 2 + (j - c) ** 2 < (0.08 * n_xy) ** 2
        voxels[ball] = 700
    return voxels


class Heartbeat:
    """A 10 ms QTimer on the GUI thread: the longest gap between beats is a stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.beats: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(lambda: self.beats.append(time.perf_counter()))
        self.timer.start()

    def longest_gap(self, start: float, end: float) -> tuple[float, float]:
        """(seconds, start time) of the longest GUI-thread stall between `start` and `end`."""
        marks = np.array([start, *[t for t in self.beats if start <= t <= end], end])
        gaps = np.diff(marks)
        n = int(gaps.argmax())
        return float(gaps[n]), float(marks[n])

    def stop(self) -> None:
        self.timer.stop()


def plain_vtk_still(
    voxels: np.ndarray,
    affine: np.ndarray,
    preset,  # type: ignore[no-untyped-def]
    camera: dict[str, Sequence[float] | float | bool],
    size: tuple[int, int],
    background: Sequence[float],
    crop: Sequence[float] | None = None,
) -> np.ndarray:
    """The fixed-point ray caster at full quality (one-voxel steps, every pixel) on
    `voxels` (HU, slope 1) placed by `affine`, `preset`'s transfer functions, from
    `camera` (position, focal_point, view_up, view_angle, clipping_range), keeping
    the `crop` box (fractions of the column, row, slice axes); RGB, top row first."""
    import vtkmodules.vtkRenderingOpenGL2
    import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction
    from vtkmodules.vtkCommonMath import vtkMatrix4x4
    from vtkmodules.vtkRenderingCore import (
        vtkColorTransferFunction,
        vtkRenderer,
        vtkRenderWindow,
        vtkVolume,
        vtkVolumeProperty,
        vtkWindowToImageFilter,
    )
    from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

    k, j, i = voxels.shape
    image = vtkImageData()
    image.SetDimensions(i, j, k)
    image.GetPointData().SetScalars(numpy_to_vtk(voxels.reshape(-1), deep=1))
    matrix = vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, float(affine[r, c]))
    opacity, colour, gradient = (
        vtkPiecewiseFunction(),
        vtkColorTransferFunction(),
        vtkPiecewiseFunction(),
    )
    for x, y in preset.scalar_opacity:
        opacity.AddPoint(x, y)
    for x, r_, g, b in preset.color:
        colour.AddRGBPoint(x, r_, g, b)
    for x, y in preset.gradient_opacity:
        gradient.AddPoint(x, y)
    prop = vtkVolumeProperty()
    prop.SetInterpolationTypeToLinear()
    prop.SetScalarOpacity(opacity)
    prop.SetColor(colour)
    prop.SetGradientOpacity(gradient)
    prop.SetShade(preset.shade)
    prop.SetAmbient(preset.ambient)
    prop.SetDiffuse(preset.diffuse)
    prop.SetSpecular(preset.specular)
    prop.SetSpecularPower(preset.specular_power)
    mapper = vtkFixedPointVolumeRayCastMapper()
    mapper.SetInputData(image)
    mapper.SetAutoAdjustSampleDistances(False)
    mapper.SetSampleDistance(1.0)
    mapper.SetImageSampleDistance(1.0)
    if crop is not None:
        planes = [f * (n - 1) for f, n in zip(crop, (i, i, j, j, k, k), strict=True)]
        mapper.SetCroppingRegionPlanes(*planes)
        mapper.SetCroppingRegionFlagsToSubVolume()
        mapper.CroppingOn()
    actor = vtkVolume()
    actor.SetMapper(mapper)
    actor.SetProperty(prop)
    actor.SetUserMatrix(matrix)
    window = vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.SetMultiSamples(0)
    window.SetSize(*size)
    renderer = vtkRenderer()
    renderer.SetBackground(*background)
    renderer.AddVolume(actor)
    window.AddRenderer(renderer)
    cam = renderer.GetActiveCamera()
    cam.SetPosition(*camera["position"])  # type: ignore[misc]
    cam.SetFocalPoint(*camera["focal_point"])  # type: ignore[misc]
    cam.SetViewUp(*camera["view_up"])  # type: ignore[misc]
    cam.SetViewAngle(camera["view_angle"])  # type: ignore[arg-type]
    cam.SetClippingRange(*camera["clipping_range"])  # type: ignore[misc]
    try:
        window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(window)
        grab.SetShouldRerender(False)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.Update()
        out = grab.GetOutput()
        w, h, _d = out.GetDimensions()
        pixels = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, 3)
        return np.ascontiguousarray(pixels[::-1])
    finally:
        window.Finalize()
