"""The viewer's state without a widget: viewports, layout, sync, annotations, key images.

Views subscribe to :class:`Event`s here and write user intent back through methods, so a
test (or a script) can drive the viewer without Qt or VTK.  Each viewport shows one
:class:`~workstation.viewer.frames.FrameSource`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from workstation.events import Event
from workstation.imaging.windowing import auto_window
from workstation.viewer import geometry, window_presets
from workstation.viewer.annotations import Annotation
from workstation.viewer.frames import DisplayFrame, FrameSlot, FrameSource
from workstation.viewer.view_transform import ViewTransform, fit_zoom, zoom_about

logger = logging.getLogger(__name__)

#: Layouts offered in the toolbar (rows, columns); any rows x columns up to 4x4 works.
LAYOUTS: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 2), (3, 3))
MAX_GRID = 4
MIN_FPS, MAX_FPS = 1.0, 60.0
DEFAULT_FPS = 15.0


class Viewport:
    """One image pane: which frame, which window, how it is zoomed, panned and turned.

    ``changed`` is emitted with what changed: "series", "frame", "window", "view",
    "cine".
    """

    def __init__(self, position: int = 0) -> None:
        self.position = position
        self.changed = Event()
        self.source: FrameSource | None = None
        self.series_uid = ""
        self.modality = ""
        self.frame_of_reference_uid = ""
        self.index = 0
        #: Window chosen by the user or a preset; ``None`` = the file's own (or auto).
        self.window: tuple[float, float] | None = None
        self.preset = ""
        self.invert = False
        self.transform = ViewTransform()
        #: When True the zoom follows the viewport size (fit); 1:1 or manual zoom clear it.
        self.fit_mode = True
        self.cine_playing = False
        self.cine_fps = DEFAULT_FPS
        self._fps_chosen = False

    # Series --------------------------------------------------------------
    def set_source(
        self,
        source: FrameSource | None,
        series_uid: str = "",
        modality: str = "",
        frame_of_reference_uid: str = "",
    ) -> None:
        if self.source is not None and self.source is not source:
            self.source.close()
        self.source = source
        self.series_uid = series_uid
        self.modality = modality
        self.frame_of_reference_uid = frame_of_reference_uid
        self.index = 0
        self.window, self.preset, self.invert = None, "", False
        self.transform, self.fit_mode = ViewTransform(), True
        self.cine_playing = False
        self.cine_fps, self._fps_chosen = DEFAULT_FPS, False
        self.adopt_file_cine_rate()
        if source is not None:
            source.set_current(0)
        self.changed.emit("series")

    def close(self) -> None:
        self.cine_playing = False
        if self.source is not None:
            self.source.close()
            self.source = None

    @property
    def count(self) -> int:
        return len(self.source) if self.source is not None else 0

    def current_frame(self) -> DisplayFrame | None:
        return self.source.frame(self.index) if self.source is not None and self.count else None

    def current_ref(self) -> FrameSlot | None:
        return self.source.ref(self.index) if self.source is not None and self.count else None

    # Stack ---------------------------------------------------------------
    def set_index(self, index: int) -> bool:
        if not self.count:
            return False
        index = max(0, min(index, self.count - 1))
        if index == self.index:
            return False
        self.index = index
        assert self.source is not None
        self.source.set_current(index)
        self.changed.emit("frame")
        return True

    def scroll(self, delta: int) -> bool:
        return self.set_index(self.index + delta)

    @property
    def page_step(self) -> int:
        return max(1, self.count // 10)

    def next_cine_frame(self) -> None:
        """Advance one frame, wrapping at the end (cine loop)."""
        if self.count:
            self.set_index((self.index + 1) % self.count)

    def adopt_file_cine_rate(self) -> None:
        """Use the file's frame rate (Frame Time, Cine Rate) unless the user chose one.

        The header is known once the loader has read the first file, so the view calls
        this again when the first frame arrives.
        """
        rate = self.source.header.cine_rate_fps if self.source is not None else None
        if rate and not self._fps_chosen:
            self.cine_fps = float(min(MAX_FPS, max(MIN_FPS, rate)))

    def set_cine(self, playing: bool, fps: float | None = None) -> None:
        if fps is not None and abs(fps - self.cine_fps) > 1e-6:
            self._fps_chosen = True
            self.cine_fps = float(min(MAX_FPS, max(MIN_FPS, fps)))
        self.cine_playing = playing and self.count > 1
        self.changed.emit("cine")

    # Window --------------------------------------------------------------
    def display_window(self, frame: DisplayFrame) -> tuple[float, float]:
        """The window used to draw ``frame``: the user's, else the file's, else auto."""
        if self.window is not None:
            return self.window
        if frame.window is not None:
            return frame.window
        if frame.values is not None and frame.values.ndim == 2:
            return auto_window(frame.values)
        return 127.5, 256.0

    def set_window(self, center: float, width: float, preset: str = "") -> None:
        self.window = (float(center), max(1.0, float(width)))
        self.preset = preset
        self.changed.emit("window")

    def apply_preset(self, key: str) -> bool:
        frame = self.current_frame()
        if key == "file":
            self.window, self.preset = None, ""
            self.changed.emit("window")
            return True
        if key == "auto":
            if frame is None or frame.values is None or frame.values.ndim != 2:
                return False
            self.set_window(*auto_window(frame.values), preset="auto")
            return True
        for p in window_presets.presets_for(self.modality):
            if p.key == key:
                self.set_window(p.center, p.width, preset=key)
                return True
        return False

    def drag_window(self, dx: float, dy: float) -> None:
        frame = self.current_frame()
        if frame is None or frame.values is None or frame.is_color:
            return
        c, w = self.display_window(frame)
        # A full-width drag sweeps about the data range (at least 256 units).
        span = max(256.0, float(frame.values.max() - frame.values.min()))
        self.set_window(*window_presets.drag_window(c, w, dx, dy, span / 512.0))

    def toggle_invert(self) -> None:
        self.invert = not self.invert
        self.changed.emit("window")

    # View ----------------------------------------------------------------
    def image_size(self) -> tuple[int, int] | None:
        frame = self.current_frame()
        if frame is None or frame.values is None:
            return None
        return frame.values.shape[1], frame.values.shape[0]

    def fit(self, view_size: tuple[int, int]) -> None:
        size = self.image_size()
        if size is None:
            return
        zoom = fit_zoom(size, view_size, self.transform.rotation)
        self.transform = replace(self.transform, zoom=zoom, pan=(0.0, 0.0))
        self.fit_mode = True
        self.changed.emit("view")

    def one_to_one(self) -> None:
        self.transform = replace(self.transform, zoom=1.0, pan=(0.0, 0.0))
        self.fit_mode = False
        self.changed.emit("view")

    def zoom(self, factor: float, anchor: tuple[float, float], view_size: tuple[int, int]) -> None:
        self.transform = zoom_about(self.transform, factor, anchor, view_size)
        self.fit_mode = False
        self.changed.emit("view")

    def pan(self, dx: float, dy: float) -> None:
        px, py = self.transform.pan
        self.transform = replace(self.transform, pan=(px + dx, py + dy))
        self.fit_mode = False
        self.changed.emit("view")

    def rotate(self, quarter_turns: int = 1) -> None:
        self.transform = self.transform.rotated(quarter_turns)
        self.changed.emit("view")

    def flip(self, horizontal: bool) -> None:
        self.transform = self.transform.flipped(horizontal)
        self.changed.emit("view")

    def reset_view(self, view_size: tuple[int, int]) -> None:
        self.transform = ViewTransform()
        self.invert = False
        self.fit(view_size)


class ViewerModel:
    """A grid of viewports over one study, with the study's annotations and key images."""

    def __init__(self, source_factory: Callable[[str], FrameSource | None] | None = None) -> None:
        self.source_factory = source_factory
        self.rows, self.columns = 1, 1
        self.viewports: list[Viewport] = [Viewport(0)]
        self.active = 0
        self.sync_scroll = True
        self.layout_changed = Event()
        self.active_changed = Event()
        #: Emitted with the viewport positions whose reference lines must be redrawn.
        self.annotations_changed = Event()
        self.key_images_changed = Event()
        #: Emitted with a reason when a write (annotation, key image) was refused.
        self.write_refused = Event()
        #: Returns "" when the user may write measurements, else why not (set by the app
        #: from the session's permissions; None: no login in this context, allowed).
        self.write_guard: Callable[[], str] | None = None
        self.study_uid = ""
        self._annotations: dict[str, Annotation] = {}
        self._key_frames: set[tuple[str, int]] = set()
        self.store: Any = None

    # Layout --------------------------------------------------------------
    def set_layout(self, rows: int, columns: int) -> None:
        rows = max(1, min(MAX_GRID, rows))
        columns = max(1, min(MAX_GRID, columns))
        n = rows * columns
        while len(self.viewports) > n:
            self.viewports.pop().close()
        while len(self.viewports) < n:
            self.viewports.append(Viewport(len(self.viewports)))
        self.rows, self.columns = rows, columns
        self.active = min(self.active, n - 1)
        self.layout_changed.emit()

    def set_active(self, position: int) -> None:
        if position != self.active and 0 <= position < len(self.viewports):
            self.active = position
            self.active_changed.emit(position)

    @property
    def active_viewport(self) -> Viewport:
        return self.viewports[self.active]

    def assign(self, position: int, series_uid: str, modality: str = "", for_uid: str = "") -> bool:
        """Show a series in a viewport (a thumbnail dropped on it)."""
        if self.source_factory is None or not 0 <= position < len(self.viewports):
            return False
        source = self.source_factory(series_uid)
        if source is None:
            return False
        self.viewports[position].set_source(source, series_uid, modality, for_uid)
        return True

    def close(self) -> None:
        for v in self.viewports:
            v.close()

    # Synchronised scrolling ----------------------------------------------------
    def linked(self, position: int) -> list[Viewport]:
        """Other viewports showing series in the same frame of reference."""
        me = self.viewports[position]
        if not me.frame_of_reference_uid:
            return []
        return [
            v
            for v in self.viewports
            if v is not me
            and v.source is not None
            and v.frame_of_reference_uid == me.frame_of_reference_uid
        ]

    def sync_from(self, position: int) -> list[int]:
        """Move linked viewports to the slice nearest the one in ``position``."""
        moved: list[int] = []
        linked = self.linked(position) if self.sync_scroll else []
        if not linked:
            return moved  # nothing to move: do not even fetch the frame
        frame = self.viewports[position].current_frame()
        if frame is None or not frame.geometry.has_plane:
            return moved
        normal = geometry.plane_normal(frame.geometry)
        for v in linked:
            assert v.source is not None
            other = v.current_frame()
            if other is None or not other.geometry.has_plane:
                continue
            if abs(float(normal @ geometry.plane_normal(other.geometry))) < 0.99:
                continue  # not parallel: reference lines show where it is, no scrolling
            geoms = [v.source.ref(i).geometry for i in range(v.count)]
            target = geometry.nearest_index(frame.geometry, geoms)
            if target is not None and v.set_index(target):
                moved.append(v.position)
        return moved

    # Annotations and key images ---------------------------------------------------
    def load_study_state(self, study_uid: str, store: Any) -> None:
        self.study_uid, self.store = study_uid, store
        self._annotations = {}
        self._key_frames = set()
        if store is not None:
            self._annotations = {a.annotation_id: a for a in store.annotations(study_uid)}
            self._key_frames = {
                (k.sop_instance_uid, k.frame_index) for k in store.key_images(study_uid)
            }
        self.annotations_changed.emit()
        self.key_images_changed.emit()

    def annotations(self) -> list[Annotation]:
        return list(self._annotations.values())

    def annotations_on(self, sop_uid: str, frame_index: int) -> list[Annotation]:
        return [
            a
            for a in self._annotations.values()
            if a.sop_instance_uid == sop_uid and a.frame_index == frame_index
        ]

    def may_write(self) -> bool:
        """Whether measurements and key images may be changed now (else says why)."""
        reason = self.write_guard() if self.write_guard is not None else ""
        if reason:
            self.write_refused.emit(reason)
        return not reason

    def add_annotation(self, a: Annotation) -> bool:
        if not self.may_write():
            return False
        if not a.study_instance_uid:
            a = replace(a, study_instance_uid=self.study_uid)
        self._annotations[a.annotation_id] = a
        if self.store is not None:
            self.store.save(a)
        self.annotations_changed.emit()
        return True

    def remove_annotation(self, annotation_id: str) -> None:
        if annotation_id not in self._annotations or not self.may_write():
            return
        if self._annotations.pop(annotation_id, None) is not None:
            if self.store is not None:
                self.store.remove(annotation_id)
            self.annotations_changed.emit()

    def key_image_count(self) -> int:
        return len(self._key_frames)

    def is_key_image(self, sop_uid: str, frame_index: int) -> bool:
        return (sop_uid, frame_index) in self._key_frames

    def toggle_key_image(self, viewport: Viewport) -> bool | None:
        ref = viewport.current_ref()
        if ref is None or not self.may_write():
            return None
        key = (ref.sop_instance_uid, ref.frame_index)
        marked = key not in self._key_frames
        if marked:
            self._key_frames.add(key)
        else:
            self._key_frames.discard(key)
        if self.store is not None:
            if marked:
                self.store.mark_key_image(self.study_uid, viewport.series_uid, *key)
            else:
                self.store.unmark_key_image(*key)
        self.key_images_changed.emit()
        return marked
