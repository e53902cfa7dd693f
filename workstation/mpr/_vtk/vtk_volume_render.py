"""3-D rendering of an MPR volume with ``vtkFixedPointVolumeRayCastMapper`` (CPU).

On the software GL of these machines the GPU and smart mappers take seconds a frame;
the fixed-point CPU mapper is 4-10x faster (notes/desktop-stack.md). The volume goes to
VTK without a copy (:func:`~workstation.mpr._vtk.vtk_reslice.image_data_of`, index
space) and ``vtkVolume.SetUserMatrix`` carries the LPS affine, sheared or not.

:class:`VtkVolumeScene` holds the pipeline for one renderer (the Qt view and the
offscreen CLI share it); :func:`render_offscreen` draws one picture to a numpy array.

The one-time preparation (decimation, the vtkImageData, the mapper's gradients and
scalar tables) needs none of the shown window: :meth:`VtkVolumeScene.prepare` runs it
on any thread (the Qt view runs it on a worker), and :meth:`VtkVolumeScene.attach`
then puts the ready volume into a renderer on the GUI thread; the first render finds
the gradients computed.

:class:`OffscreenPicture` is a private offscreen window with its own scene: the CLI's
:func:`render_offscreen` draws one picture with it, and the 3-D view's still-picture
worker (:mod:`~workstation.mpr._vtk.vtk_still_render_worker`) keeps one on its thread,
its scene sharing the view's vtkImageData read-only. What a picture shows travels
between threads as plain values: a :class:`SceneLook` (preset, shift, blend, crop) and a
:class:`CameraPose`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import vtkmodules.vtkRenderingOpenGL2
import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401  (registers the volume factories)
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkCamera,
    vtkColorTransferFunction,
    vtkRenderer,
    vtkRenderWindow,
    vtkVolume,
    vtkVolumeProperty,
    vtkWindowToImageFilter,
)
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

from workstation.mpr._vtk.vtk_iso_surface import iso_surface, iso_surface_actor
from workstation.mpr._vtk.vtk_reslice import image_data_of, vtk_matrix
from workstation.mpr.presets import VolumePreset
from workstation.mpr.volume import MprVolume

BLEND_MODES = ("composite", "mip", "minip")
#: Frames per second asked for while the user drags (the mapper lowers its sampling
#: to fit; asked above the 150 ms budget's 6.7 so that the window's own drawing, the
#: first frames while the mapper learns and a loaded machine still fit in it).
INTERACTIVE_UPDATE_RATE = 15.0
#: The coarsest ray spacing in screen pixels the mapper may take while dragging.
INTERACTIVE_MAX_IMAGE_SAMPLE_DISTANCE = 4.0
#: Ray step in voxels: one voxel on screen when still, two while dragging (half the
#: samples a ray, so the mapper needs to coarsen its rays less for the same frame
#: rate: the turning picture stays sharper), half a voxel for offscreen pictures (thin
#: presets such as CT-Lung show wood-grain rings at one voxel; half a voxel costs twice
#: the time, too slow for the still-refinement budget).
STILL_SAMPLE_DISTANCE = 1.0
INTERACTIVE_SAMPLE_DISTANCE = 2.0
OFFSCREEN_SAMPLE_DISTANCE = 0.5
#: After the first picture and after each change the view draws these refinement
#: steps, each one frame on the GUI thread: (ray step in voxels, ray spacing in screen
#: pixels); one, as coarse as a dragging frame (~30 ms for the 255-slice CT's decimated
#: volume in a 600x450 view). The still quality (one voxel, every pixel: ~140 ms there
#: on a quiet machine, 220-500 ms under load) is not drawn on the GUI thread: a worker
#: draws it offscreen and the view shows the finished picture. (An intermediate step at
#: a two-pixel ray spacing cost the GUI thread 50-180 ms and only delayed the still.)
REFINEMENT_STEPS = ((INTERACTIVE_SAMPLE_DISTANCE, INTERACTIVE_MAX_IMAGE_SAMPLE_DISTANCE),)
#: Background of the 3-D view (and of its still pictures drawn offscreen).
VIEW_BACKGROUND = (0.05, 0.05, 0.08)
#: Voxels the interactive 3-D view renders at most (a 512 x 512 x 500 CT is shown from
#: every second voxel: its first image takes ~1/8 of the time; offscreen keeps all).
SCREEN_MAX_VOXELS = 40_000_000


@dataclass(frozen=True)
class SceneLook:
    """What a picture of the volume shows, the camera aside: preset moved by `shift`
    modality units, blend mode, crop box (fractions, or None)."""

    preset: VolumePreset
    shift: float = 0.0
    blend: str = "composite"
    crop: tuple[float, ...] | None = None


@dataclass(frozen=True)
class CameraPose:
    """A camera as plain values (a copy that another thread may read)."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float]
    view_angle: float
    parallel_projection: bool
    parallel_scale: float
    clipping_range: tuple[float, float]


def camera_pose(camera: vtkCamera) -> CameraPose:
    return CameraPose(
        position=tuple(camera.GetPosition()),  # type: ignore[arg-type]
        focal_point=tuple(camera.GetFocalPoint()),  # type: ignore[arg-type]
        view_up=tuple(camera.GetViewUp()),  # type: ignore[arg-type]
        view_angle=camera.GetViewAngle(),
        parallel_projection=bool(camera.GetParallelProjection()),
        parallel_scale=camera.GetParallelScale(),
        clipping_range=tuple(camera.GetClippingRange()),  # type: ignore[arg-type]
    )


def set_camera_pose(camera: vtkCamera, pose: CameraPose) -> None:
    camera.SetPosition(*pose.position)
    camera.SetFocalPoint(*pose.focal_point)
    camera.SetViewUp(*pose.view_up)
    camera.SetViewAngle(pose.view_angle)
    camera.SetParallelProjection(pose.parallel_projection)
    camera.SetParallelScale(pose.parallel_scale)
    camera.SetClippingRange(*pose.clipping_range)


#: The class of render window VTK's factory picks here (remembered: see offscreen_window).
_window_class: type[vtkRenderWindow] | None = None


def remember_window_class(window: vtkRenderWindow) -> None:
    """Make later offscreen windows of `window`'s class (one the factory picked)."""
    global _window_class
    _window_class = type(window)


def offscreen_window(size: tuple[int, int]) -> vtkRenderWindow:
    """A new offscreen render window of `size`. Asking VTK's factory for a window
    probes the display each time (30-50 ms, ~150 ms the first time, 3x that under
    load), holding Python's GIL, so a worker thread asking stalls the GUI thread: the
    class picked once (or by the screen's window, :func:`remember_window_class`) is
    made directly, which takes no time."""
    if _window_class is None:
        window = vtkRenderWindow()
        remember_window_class(window)
    else:
        window = _window_class()
    window.SetOffScreenRendering(True)
    window.SetSize(*size)
    return window


class VtkVolumeScene:
    """A volume, its mapper and property, in `renderer` (or none yet: :meth:`attach`);
    with `max_voxels`, a decimated copy of a larger volume is rendered
    (:meth:`MprVolume.decimated`); with `image`, the vtkImageData of `volume` that
    another scene built is shared (read-only), so that a second scene, on another
    thread, needs no second copy. Building it touches no render window."""

    def __init__(
        self,
        volume: MprVolume,
        renderer: vtkRenderer | None = None,
        max_voxels: int | None = None,
        image: vtkImageData | None = None,
    ) -> None:
        volume = volume.decimated(max_voxels) if max_voxels else volume
        self.volume = volume
        self.renderer = vtkRenderer() if renderer is None else renderer
        self._keep_alive = volume.voxels
        self.image = image_data_of(volume) if image is None else image
        self.look: SceneLook | None = None
        self.mapper = vtkFixedPointVolumeRayCastMapper()
        self.mapper.SetInputData(self.image)
        self.mapper.SetAutoAdjustSampleDistances(False)
        self.mapper.SetMaximumImageSampleDistance(INTERACTIVE_MAX_IMAGE_SAMPLE_DISTANCE)
        self.still_sample_distance = STILL_SAMPLE_DISTANCE
        self.mapper.SetSampleDistance(self.still_sample_distance)
        self.property = vtkVolumeProperty()
        self.property.SetInterpolationTypeToLinear()
        self.actor = vtkVolume()
        self.actor.SetMapper(self.mapper)
        self.actor.SetProperty(self.property)
        self.actor.SetUserMatrix(vtk_matrix(volume.affine))
        self.surface_actor: vtkActor | None = None
        if renderer is not None:
            renderer.AddVolume(self.actor)

    def prepare(self) -> None:
        """The slow one-time part of the first shaded picture (gradients, scalar tables,
        the space-leaping min-max volume), on the calling thread; set the preset first.
        The scene is drawn once into a private 2 x 2 offscreen window: VTK releases
        Python's GIL inside ``Render()``, so a worker thread can run this while the GUI
        thread keeps going. The gradients are computed even for an unshaded preset, so
        that a later switch to a shaded one does not stall the GUI thread either."""
        window = offscreen_window((2, 2))
        renderer = vtkRenderer()
        window.AddRenderer(renderer)
        renderer.AddVolume(self.actor)
        renderer.ResetCamera()
        shade = self.property.GetShade()
        self.property.SetShade(True)
        try:
            window.Render()
        finally:
            self.property.SetShade(shade)
            renderer.RemoveVolume(self.actor)
            window.Finalize()

    def attach(self, renderer: vtkRenderer) -> None:
        """Show the (prepared) volume in `renderer` (GUI thread)."""
        self.renderer = renderer
        renderer.AddVolume(self.actor)

    def set_preset(
        self, preset: VolumePreset, *, shift: float = 0.0, blend: str = "composite"
    ) -> None:
        """Transfer functions and shading of `preset`, moved by `shift` modality units."""
        if blend not in BLEND_MODES:
            raise ValueError(f"unknown blend mode {blend!r}")
        p = preset.shifted(shift).in_voxel_units(
            self.volume.value_slope, self.volume.value_intercept
        )
        opacity, colour, gradient = (
            vtkPiecewiseFunction(),
            vtkColorTransferFunction(),
            vtkPiecewiseFunction(),
        )
        for x, y in p.scalar_opacity:
            opacity.AddPoint(x, y)
        for x, r, g, b in p.color:
            colour.AddRGBPoint(x, r, g, b)
        for x, y in p.gradient_opacity:
            gradient.AddPoint(x, y)
        self.property.SetScalarOpacity(opacity)
        self.property.SetColor(colour)
        self.property.SetGradientOpacity(gradient)
        self.property.SetShade(p.shade and blend == "composite")
        self.property.SetAmbient(p.ambient)
        self.property.SetDiffuse(p.diffuse)
        self.property.SetSpecular(p.specular)
        self.property.SetSpecularPower(p.specular_power)
        {
            "composite": self.mapper.SetBlendModeToComposite,
            "mip": self.mapper.SetBlendModeToMaximumIntensity,
            "minip": self.mapper.SetBlendModeToMinimumIntensity,
        }[blend]()

    def show_look(self, look: SceneLook) -> None:
        """Preset, shift, blend and crop of `look` (only what differs from the last)."""
        last = self.look
        if last is None or (last.preset, last.shift, last.blend) != (
            look.preset, look.shift, look.blend,
        ):  # fmt: skip
            self.set_preset(look.preset, shift=look.shift, blend=look.blend)
        if last is None or last.crop != look.crop:
            self.set_crop(look.crop)
        self.look = look

    def set_iso_surface(self, surface: vtkPolyData | None) -> None:
        """Show `surface` (from :func:`~workstation.mpr._vtk.vtk_iso_surface.iso_surface`
        of this scene's volume) instead of the ray-cast volume; None shows the volume."""
        if self.surface_actor is not None:
            self.renderer.RemoveActor(self.surface_actor)
            self.surface_actor = None
        if surface is not None:
            self.surface_actor = iso_surface_actor(surface, self.volume)
            self.renderer.AddActor(self.surface_actor)
        self.actor.SetVisibility(surface is None)

    def set_crop(self, fractions: Sequence[float] | None) -> None:
        """Keep the box (x0, x1, y0, y1, z0, z1) in fractions 0-1 of the column, row and
        slice axes; None shows everything."""
        if fractions is None:
            self.mapper.SetCropping(False)
            return
        self.mapper.SetCroppingRegionPlanes(*self.volume.crop_box_index(fractions))
        self.mapper.SetCroppingRegionFlagsToSubVolume()
        self.mapper.SetCropping(True)

    def set_interactive(self, interactive: bool) -> None:
        """Coarser sampling while the user drags, full quality when still."""
        self.mapper.SetAutoAdjustSampleDistances(interactive)
        if interactive:
            self.mapper.SetSampleDistance(INTERACTIVE_SAMPLE_DISTANCE)
            self.renderer.GetRenderWindow().SetDesiredUpdateRate(INTERACTIVE_UPDATE_RATE)
        else:
            self.mapper.SetSampleDistance(self.still_sample_distance)
            self.mapper.SetImageSampleDistance(1.0)

    def still_quality(self) -> tuple[float, float]:
        """(ray step, ray spacing) of a still picture."""
        return (self.still_sample_distance, 1.0)

    def set_fixed_quality(self, sample_distance: float, image_sample_distance: float) -> None:
        """Draw the next frames with this ray step (voxels) and ray spacing (screen
        pixels), whatever the window's update rate (a step of the refinement)."""
        self.mapper.SetAutoAdjustSampleDistances(False)
        self.mapper.SetSampleDistance(sample_distance)
        self.mapper.SetImageSampleDistance(image_sample_distance)

    def reset_camera(self, azimuth_deg: float = 0.0, elevation_deg: float = 0.0) -> None:
        """Look at the patient from the front (anterior, head up), then turn."""
        centre = self.volume.centre_mm()
        camera = self.renderer.GetActiveCamera()
        camera.SetFocalPoint(*centre)
        camera.SetPosition(*(centre + np.array([0.0, -1000.0, 0.0])))
        camera.SetViewUp(0.0, 0.0, 1.0)
        self.renderer.ResetCamera()
        camera.Azimuth(azimuth_deg)
        camera.Elevation(elevation_deg)
        camera.OrthogonalizeViewUp()
        self.renderer.ResetCameraClippingRange()

    def on_preparation_progress(self, callback: Callable[[float], None]) -> None:
        """Call `callback(fraction)` while the mapper prepares gradients (the slow,
        one-time part of the first shaded picture). VTK reports about one event per 16
        slices and no fraction, so the fraction is counted here."""
        expected = max(1, self.volume.shape[0] // 16)
        seen = [0]

        def on_event(_caller: object, _event: str) -> None:
            seen[0] += 1
            callback(min(1.0, seen[0] / expected))

        self.mapper.AddObserver(vtkCommand.VolumeMapperComputeGradientsProgressEvent, on_event)
        self.mapper.AddObserver(
            vtkCommand.VolumeMapperComputeGradientsEndEvent, lambda _c, _e: callback(1.0)
        )

    def close(self) -> None:
        self.set_iso_surface(None)
        self.renderer.RemoveVolume(self.actor)


def renderer_in(window: vtkRenderWindow) -> vtkRenderer:
    """A new dark renderer in `window` (for the Qt view). The window draws without
    multisampling: on software GL it costs ~10 ms a frame and smooths nothing of a
    ray-cast picture."""
    window.SetMultiSamples(0)
    renderer = vtkRenderer()
    renderer.SetBackground(*VIEW_BACKGROUND)
    window.AddRenderer(renderer)
    return renderer


class OffscreenPicture:
    """A private offscreen window with its own renderer and :class:`VtkVolumeScene`
    that draws still pictures as RGB arrays (the CLI's picture, the 3-D view's still
    frames). Make, use and close it on one thread: its GL context is that thread's.
    With `image`, the scene shares another scene's vtkImageData of `volume` read-only
    (nobody may change it meanwhile); else `volume` is drawn as it is."""

    def __init__(
        self,
        volume: MprVolume,
        *,
        image: vtkImageData | None = None,
        size: tuple[int, int] = (512, 512),
        background: tuple[float, float, float] = (0.0, 0.0, 0.0),
        sample_distance: float = OFFSCREEN_SAMPLE_DISTANCE,
    ) -> None:
        self.window = offscreen_window(size)
        self.window.SetMultiSamples(0)  # as the on-screen view: a ray-cast picture gains nothing
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(*background)
        self.window.AddRenderer(self.renderer)
        self.scene = VtkVolumeScene(volume, self.renderer, image=image)
        self.scene.still_sample_distance = sample_distance
        self.scene.set_interactive(False)

    def draw(
        self, look: SceneLook, pose: CameraPose | None = None, size: tuple[int, int] | None = None
    ) -> np.ndarray | None:
        """The picture of `look` seen by `pose` (None: the scene's camera as it is), at
        `size` (None: as it is); None when :meth:`abort` stopped it."""
        if size is not None and tuple(self.window.GetSize()) != tuple(size):
            self.window.SetSize(*size)
        self.scene.show_look(look)
        if pose is not None:
            set_camera_pose(self.renderer.GetActiveCamera(), pose)
        self.window.Render()
        if self.window.GetAbortRender():
            return None
        return grab_rgb(self.window, rerender=False)

    def allow(self) -> None:
        """Clear an earlier :meth:`abort` before the next picture."""
        self.window.SetAbortRender(False)

    def abort(self) -> None:
        """Ask the picture being drawn to stop (any thread: the mapper polls the flag
        between ray bundles; :meth:`draw` then returns None)."""
        self.window.SetAbortRender(True)

    def close(self) -> None:
        self.scene.close()
        self.window.Finalize()


def render_offscreen(
    volume: MprVolume,
    preset: VolumePreset,
    *,
    size: tuple[int, int] = (512, 512),
    azimuth_deg: float = 0.0,
    elevation_deg: float = 0.0,
    crop: Sequence[float] | None = None,
    blend: str = "composite",
    shift: float = 0.0,
    iso_value: float | None = None,
) -> np.ndarray:
    """One still picture, (rows, columns, 3) uint8 RGB; with `iso_value` (modality
    units) the iso-surface there instead of the ray-cast volume (cropped by `crop`
    too)."""
    picture = OffscreenPicture(volume, size=size)
    try:
        look = SceneLook(preset, shift, blend, None if crop is None else tuple(crop))
        picture.scene.show_look(look)
        if iso_value is not None:
            picture.scene.set_iso_surface(iso_surface(volume, iso_value, crop=crop))
        picture.scene.reset_camera(azimuth_deg, elevation_deg)
        rgb = picture.draw(look)
        if rgb is None:  # nobody else holds this private window to abort it
            raise RuntimeError("the offscreen picture was aborted")
        return rgb
    finally:
        picture.close()


def grab_rgb(window: vtkRenderWindow, *, rerender: bool = True) -> np.ndarray:
    """The window's picture as (rows, columns, 3) uint8, top row first; without
    `rerender`, as last drawn (VTK 9 reads its own framebuffer: no second frame)."""
    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.SetShouldRerender(rerender)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.Update()
    image = grab.GetOutput()
    w, h, _d = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(h, w, 3)
    return np.ascontiguousarray(pixels[::-1])
