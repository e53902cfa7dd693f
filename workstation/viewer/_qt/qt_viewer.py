"""The 2-D viewer: series strip, a grid of viewports, tools, measurement panel.

``QtViewer(archive, settings, actions=None, mpr_opener=None, signature_check=None)`` is
what the app shell puts in its viewer area.  ``archive`` is the local archive (anything
with ``find_series``, ``find_instances``, ``instance_file``) or a ready
:class:`StudyCatalog`.  The viewer sits below the services and MPR: the app hands in the
session's study actions (which check and audit measurement writes) and the MPR window
opener.  A document series (a report PDF, an SR) activated in the series strip opens in
the document view in place of the viewports; ``signature_check`` (given by the app) says
whether a PDF's signature holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.i18n import _
from workstation.viewer import geometry
from workstation.viewer._qt.qt_annotation_panel import QtAnnotationPanel
from workstation.viewer._qt.qt_crosshair_follow import CrosshairFollower
from workstation.viewer._qt.qt_document_view import QtDocumentView
from workstation.viewer._qt.qt_thumbnails import QtThumbnails
from workstation.viewer._qt.qt_viewer_toolbar import QtViewerToolbar
from workstation.viewer._qt.qt_viewport import QtViewport
from workstation.viewer.annotations import Kind
from workstation.viewer.catalog import ArchiveCatalog, SeriesEntry, StudyCatalog
from workstation.viewer.documents import (
    MAYBE_DOCUMENT_MODALITIES,
    DocumentInfo,
    read_document_info,
)
from workstation.viewer.frames import DisplayFrame
from workstation.viewer.interaction.tools import Tool
from workstation.viewer.model import ViewerModel
from workstation.viewer.pdf_document import SignatureCheck

logger = logging.getLogger(__name__)

#: Pixels of a document's miniature in the series strip (a 96-pixel-high A4 page).
THUMBNAIL_PIXELS = 96 * 68


class MprOpener(Protocol):
    """Opens the MPR / 3-D window on a series' files (the app hands it in); the window
    follows and moves the viewer's crosshair through ``link``."""

    def __call__(
        self, paths: list[Path], parent: QWidget, on_error: Callable[[str], None], *, link: Any
    ) -> Any: ...


class MeasurementGuard(Protocol):
    """What the viewer asks of the session's study actions (``services.StudyActions``)."""

    session: Any

    def measurement_refusal(self, study_uid: str | None = None) -> str: ...

    def may_measure(self) -> bool: ...


class QtViewer(QWidget):
    """The viewer area: open a study or a series and read it."""

    sig_study_opened = Signal(str)
    #: Milliseconds from ``open_study``/``open_series`` to the first frame on screen.
    sig_first_image_shown = Signal(float)
    sig_error = Signal(str)

    def __init__(
        self,
        archive,
        settings=None,
        parent=None,
        actions: MeasurementGuard | None = None,
        mpr_opener: MprOpener | None = None,
        signature_check: SignatureCheck | None = None,
    ) -> None:
        """``actions``: the session's study actions; they check and audit measurement
        writes (without them anyone may measure).  ``mpr_opener``: how "MPR / 3-D" opens
        its window (without it the action is hidden).  ``signature_check``: verifies a
        report PDF's signature (off the GUI thread)."""
        super().__init__(parent)
        self.signature_check = signature_check
        self.study_actions = actions
        self.mpr_opener = mpr_opener
        session = None if actions is None else actions.session
        self.catalog: StudyCatalog = (
            ArchiveCatalog(archive) if hasattr(archive, "find_series") else archive
        )
        self.settings = settings
        self.session = session
        self.tool = Tool.WINDOW
        self.show_reference_lines = True
        #: Asks for the text of a text/arrow annotation; tests replace it.
        self.text_provider = self._ask_text
        self.model = ViewerModel(self._make_source)
        if actions is not None:
            self.model.write_guard = self._write_refusal
        self.model.write_refused.connect(self.sig_error.emit)
        self._store: Any = None
        self._series: dict[str, SeriesEntry] = {}
        self._documents: dict[str, DocumentInfo | None] = {}
        self._views: list[QtViewport] = []
        self._opened_at = 0.0
        self._first_reported = False
        self._syncing = False
        self._closed = False
        #: The MPR crosshair shared with the MPR windows opened from here (Shift+click).
        self.crosshair = CrosshairFollower(self)
        self._build_ui()
        self._rebuild_grid()
        self._start_decoders()

    # Construction -----------------------------------------------------------
    def _start_decoders(self) -> None:
        """Start the shared decode pool now, so the first study does not wait for it."""
        from workstation.imaging import shared
        from workstation.imaging.pool import warm_up

        # Import the decoders on this thread first: the pool's lanes import them too,
        # and imports racing between threads can expose half-initialised modules.
        warm_up()
        try:
            shared.shared_pool()
        except (ImportError, OSError):
            logger.exception("decode pool could not start; opening a series tries again")

    def _build_ui(self) -> None:
        self.thumbnails = QtThumbnails()
        self.thumbnails.document_picture = self._document_picture
        self.thumbnails.sig_series_activated.connect(self._on_series_activated)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.panel = QtAnnotationPanel(self.model, writable=self.may_write())
        self.panel.sig_selected.connect(self._on_panel_selected)
        self.panel.sig_export_requested.connect(self._on_export_requested)
        self.panel.sig_store_requested.connect(self._on_store_requested)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.document_view = QtDocumentView(self.signature_check)
        self.document_view.sig_close_requested.connect(self.show_images)
        self.center = QStackedWidget()
        self.center.addWidget(self.grid_host)
        self.center.addWidget(self.document_view)
        splitter.addWidget(self.thumbnails)
        splitter.addWidget(self.center)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([self.thumbnails.maximumWidth(), 1000, 240])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        self.toolbar = QtViewerToolbar(self)
        layout.insertWidget(0, self.toolbar)
        # The controls other code reads or drives.
        self.tool_actions = self.toolbar.tool_actions
        self.fps = self.toolbar.fps
        self.cine_action = self.toolbar.cine_action
        self.sync_action = self.toolbar.sync_action
        self.ref_action = self.toolbar.ref_action
        self.toolbar.mpr_action.setVisible(self.mpr_opener is not None)
        self.model.annotations_changed.connect(self._refresh_all)

    def _write_refusal(self) -> str:
        """ "" when the session may write measurements, else the reason (translated)."""
        if self.study_actions is None:
            return ""
        return self.study_actions.measurement_refusal(self.model.study_uid)

    def may_write(self) -> bool:
        """Whether this session's role may change measurements (for enabling buttons)."""
        return self.study_actions is None or self.study_actions.may_measure()

    # Layout -------------------------------------------------------------------
    def set_layout(self, rows: int, columns: int) -> None:
        self.model.set_layout(rows, columns)
        self._rebuild_grid()
        self._fill_empty_viewports()

    def _ask_custom_layout(self) -> None:
        text, ok = QInputDialog.getText(self, _("Custom layout"), _("Rows × columns, e.g. 2x3:"))
        if ok:
            rows, _sep, cols = text.lower().replace("×", "x").partition("x")
            try:
                self.set_layout(int(rows), int(cols))
            except ValueError:
                QMessageBox.warning(self, _("Custom layout"), _("Write rows x columns, e.g. 2x3."))

    def _rebuild_grid(self) -> None:
        keep = {v.viewport: v for v in self._views}
        for view in self._views:
            self.grid.removeWidget(view)
        views = []
        for vp in self.model.viewports:
            view = keep.pop(vp) if vp in keep else self._make_view(vp)
            views.append(view)
        for view in keep.values():
            view.close_view()
            view.setParent(None)
            view.deleteLater()
        self._views = views
        for i, view in enumerate(views):
            self.grid.addWidget(view, i // self.model.columns, i % self.model.columns)
            view.show()
        self._refresh_all()

    def _make_view(self, vp) -> QtViewport:
        view = QtViewport(vp, self.model, self)
        view.sig_activated.connect(self._on_view_activated)
        view.sig_series_dropped.connect(self._on_series_dropped)
        view.sig_frame_changed.connect(self._on_frame_changed)
        view.sig_first_frame_shown.connect(self._on_first_frame_shown)
        view.sig_annotation_selected.connect(self.panel.select)
        return view

    @property
    def views(self) -> list[QtViewport]:
        return list(self._views)

    def _active_view(self) -> QtViewport:
        return self._views[self.model.active]

    # Opening --------------------------------------------------------------------
    def open_study(self, study_uid: str) -> bool:
        """Show a study: thumbnails of its series, the first series in the first viewport."""
        self._opened_at = time.perf_counter()
        self._first_reported = False
        series = self.catalog.series(study_uid)
        logger.info("opening study %s (%d series)", study_uid, len(series))
        self._series = {s.series_instance_uid: s for s in series}
        self._documents = {}
        self.show_images()
        self.model.load_study_state(study_uid, self._viewer_store())
        # The strip first: its pictures start when the first image shows, which can be
        # at once (a decoded frame in the cache).
        self.thumbnails.set_series(series, self._thumbnail_frame, self.document_of)
        for vp in self.model.viewports:
            vp.set_source(None)
        images = [
            s
            for s in series
            if s.modality not in ("SR", "PR", "KO", "DOC", "RTSTRUCT")
            and self.document_of(s.series_instance_uid) is None
        ]
        for position, s in enumerate(images[: len(self.model.viewports)]):
            self.show_series(position, s.series_instance_uid)
        self._on_view_activated(0)
        self.sig_study_opened.emit(study_uid)
        if not images:
            self.thumbnails.start_pictures()
            self.sig_error.emit(_("This study has no images to show, only documents."))
            return False
        return True

    def open_series(self, series_uid: str, study_uid: str = "") -> bool:
        """Show one series in the active viewport (its study's state is loaded first)."""
        self._opened_at = time.perf_counter()
        self._first_reported = False
        if series_uid not in self._series:
            study_uid = study_uid or self._study_of(series_uid)
            if study_uid:
                self._series = {s.series_instance_uid: s for s in self.catalog.series(study_uid)}
                self.model.load_study_state(study_uid, self._viewer_store())
                self.thumbnails.set_series(
                    list(self._series.values()), self._thumbnail_frame, self.document_of
                )
        return self.show_series(self.model.active, series_uid)

    def _study_of(self, series_uid: str) -> str:
        find = getattr(self.catalog, "study_of", None)
        return find(series_uid) if find is not None else ""

    @property
    def current_study_uid(self) -> str | None:
        return self.model.study_uid or None

    def close_study(self) -> None:
        """Empty the viewer (the study left the archive, or the user closed it)."""
        for vp in self.model.viewports:
            vp.set_source(None)
        self._series = {}
        self.show_images()
        self.thumbnails.set_series([], self._thumbnail_frame)
        self.model.load_study_state("", None)

    def show_series(self, position: int, series_uid: str) -> bool:
        entry = self._series.get(series_uid)
        modality = entry.modality if entry else ""
        for_uid = entry.frame_of_reference_uid if entry else ""
        ok = self.model.assign(position, series_uid, modality, for_uid)
        self.show_images()
        if ok:
            self.model.set_active(position)
            self._sync_controls()
        else:
            self.sig_error.emit(_("The series cannot be opened."))
        return ok

    def _on_series_dropped(self, position: int, series_uid: str) -> None:
        """A series dragged onto a viewport, or activated in the strip: an image series
        shows there, a document opens in the document view to be read."""
        document = self.document_of(series_uid)
        if document is not None and document.viewable:
            self.open_document(series_uid)
        else:
            self.show_series(position, series_uid)

    def _on_series_activated(self, series_uid: str) -> None:
        self._on_series_dropped(self.model.active, series_uid)

    def open_document(self, series_uid: str) -> bool:
        """Show a document series in the document view in place of the viewports: its
        newest instance (a report's last version) first, the earlier ones to choose."""
        document = self.document_of(series_uid)
        entries = self.catalog.instances(series_uid)
        if document is None or not document.viewable or not entries:
            self.sig_error.emit(_("This series holds no document to read."))
            return False
        newest_first = sorted(entries, key=lambda e: e.instance_number or 0, reverse=True)
        logger.info(
            "opening document %s of series %s (%d versions)",
            newest_first[0].sop_instance_uid,
            series_uid,
            len(newest_first),
        )
        self.document_view.open_versions(
            [(e.instance_number, e.path, e.sop_instance_uid) for e in newest_first], document
        )
        self.center.setCurrentWidget(self.document_view)
        return True

    def show_images(self) -> None:
        """The viewports again in place of a document."""
        if self.center.currentWidget() is not self.grid_host:
            self.document_view.close_document()
            self.center.setCurrentWidget(self.grid_host)

    @property
    def showing_document(self) -> bool:
        return self.center.currentWidget() is self.document_view

    def _fill_empty_viewports(self) -> None:
        shown = {vp.series_uid for vp in self.model.viewports if vp.source is not None}
        spare = [u for u in self._series if u not in shown]
        for vp in self.model.viewports:
            if vp.source is None and spare:
                self.show_series(vp.position, spare.pop(0))

    def document_of(self, series_uid: str) -> DocumentInfo | None:
        """Kind and title when the series holds a document (PDF, SR, ECG), else None."""
        if series_uid not in self._documents:
            entry = self._series.get(series_uid)
            info = None
            if entry is None or entry.modality.upper() in MAYBE_DOCUMENT_MODALITIES:
                instances = self.catalog.instances(series_uid)
                info = read_document_info(instances[0].path) if instances else None
            self._documents[series_uid] = info
        return self._documents[series_uid]

    def _make_source(self, series_uid: str):
        from workstation.viewer.imaging_source import open_frame_source

        entries = self.catalog.instances(series_uid)
        if not entries:
            return None
        archive = getattr(self.settings, "archive", None)
        return open_frame_source(
            entries,
            series_uid,
            reverse=self._stack_reversed(),
            fallback_charset=getattr(archive, "fallback_charset", "") or "",
        )

    def _stack_reversed(self) -> bool:
        viewer = getattr(self.settings, "viewer", None)
        return getattr(viewer, "stack_order", "standard") == "reversed"

    def _thumbnail_frame(self, series_uid: str) -> DisplayFrame | None:
        """The middle image of a series for its thumbnail (runs on the thumbnail thread).

        Decoded by the shared pool's worker processes when it runs, so thumbnails do not
        take the GIL from the screen; else here.
        """
        from workstation.viewer.catalog import sort_instances

        entries = sort_instances(self.catalog.instances(series_uid), reverse=self._stack_reversed())
        if not entries:
            return None
        entry = entries[len(entries) // 2]
        from workstation.imaging import shared
        from workstation.imaging.frame import FrameRef
        from workstation.viewer.frames import FrameSlot
        from workstation.viewer.imaging_source import to_display_frame

        slot = FrameSlot(FrameRef.of(entry.path, 0), entry.sop_instance_uid)
        return to_display_frame(shared.decode(slot.ref), slot)

    def _document_picture(self, series_uid: str):
        """A PDF report's first page as a miniature for the strip (thumbnail thread)."""
        from workstation.viewer.pdf_document import first_page_miniature

        document = self._documents.get(series_uid)
        entries = self.catalog.instances(series_uid)
        if document is None or not document.is_pdf or not entries:
            return None
        newest = max(entries, key=lambda e: e.instance_number or 0)
        return first_page_miniature(newest.path, THUMBNAIL_PIXELS)

    def _viewer_store(self):
        if self._store is None and self.settings is not None:
            from workstation.viewer.store import ViewerStore

            try:
                self._store = ViewerStore.open(self.settings)
            except Exception:
                logger.exception("annotation store unavailable")
                self.sig_error.emit(
                    _("Measurements cannot be saved: the archive database is unavailable.")
                )
        return self._store

    # Events from viewports ---------------------------------------------------
    def _on_view_activated(self, position: int) -> None:
        previous = self.model.active
        self.model.set_active(position)
        if previous != position:
            self._views[previous].refresh()
            self._views[position].refresh()
            self._sync_controls()

    def _on_first_frame_shown(self, position: int) -> None:
        self.thumbnails.start_pictures()
        if not self._first_reported and self._opened_at:
            self._first_reported = True
            ms = (time.perf_counter() - self._opened_at) * 1000.0
            logger.info("first image on screen after %.0f ms", ms)
            self.sig_first_image_shown.emit(ms)
        if position == self.model.active:
            self._sync_controls()
        self._update_reference_lines()

    def _on_frame_changed(self, position: int) -> None:
        if self.model.sync_scroll and not self._syncing:
            self._syncing = True
            try:
                self.model.sync_from(position)
            finally:
                self._syncing = False
        self._update_reference_lines()

    def update_reference_lines(self) -> None:
        """Redraw the reference lines and the MPR crosshair mark on every viewport."""
        self._update_reference_lines()

    def _update_reference_lines(self) -> None:
        viewports = self.model.viewports
        links = [
            self.model.linked(vp.position) if self.show_reference_lines else [] for vp in viewports
        ]
        # Frames are fetched only when some viewport has a partner or the MPR crosshair
        # is shown (a scroll step in a lone viewport costs no frame lookups here).
        fetch = any(links) or self.crosshair.point is not None
        frames = [v.current_frame() for v in viewports] if fetch else [None] * len(viewports)
        for view, frame, others in zip(self._views, frames, links):
            segments = self.crosshair.marks(view.viewport, frame)
            if frame is not None and frame.geometry.has_plane:
                for other in others:
                    of = frames[other.position]
                    if of is not None and of.geometry.has_plane:
                        seg = geometry.reference_line(frame.geometry, of.geometry)
                        if seg is not None:
                            segments.append(seg)
            view.set_reference_lines(segments)

    def _refresh_all(self) -> None:
        for view in self._views:
            view.refresh()

    def _on_panel_selected(self, annotation_id: str) -> None:
        for a in self.model.annotations():
            if a.annotation_id != annotation_id:
                continue
            for view, vp in zip(self._views, self.model.viewports):
                if vp.series_uid == a.series_instance_uid and vp.source is not None:
                    for i in range(vp.count):
                        ref = vp.source.ref(i)
                        if (ref.sop_instance_uid, ref.frame_index) == (
                            a.sop_instance_uid,
                            a.frame_index,
                        ):
                            vp.set_index(i)
                            break
                view.select_annotation(annotation_id)

    # Toolbar actions --------------------------------------------------------
    def set_tool(self, tool: Tool, _checked: bool = True) -> None:
        self.tool = tool
        self.tool_actions[tool].setChecked(True)
        for view in self._views:
            view.tools.set_tool(tool)

    def apply_preset(self, key: str) -> bool:
        return self.model.active_viewport.apply_preset(key)

    def _on_active(self, fn) -> None:
        fn(self.model.active_viewport)

    def toggle_cine(self) -> None:
        vp = self.model.active_viewport
        vp.set_cine(not vp.cine_playing, float(self.fps.value()))
        self._sync_controls()

    def _on_fps_changed(self, value: int) -> None:
        vp = self.model.active_viewport
        if abs(vp.cine_fps - value) > 0.5:
            vp.set_cine(vp.cine_playing, float(value))

    def _on_sync_toggled(self) -> None:
        self.model.sync_scroll = self.sync_action.isChecked()

    def _on_reflines_toggled(self) -> None:
        self.show_reference_lines = self.ref_action.isChecked()
        self._update_reference_lines()

    def open_mpr(self):
        """Open the active viewport's series in the MPR / 3-D window (built off the GUI
        thread); a series that forms no volume gets its reason in ``sig_error``."""
        if self.mpr_opener is None:
            return None
        series_uid = self.model.viewports[self.model.active].series_uid
        paths = [e.path for e in self.catalog.instances(series_uid)] if series_uid else []
        if not paths:
            self.sig_error.emit(_("Open a series first."))
            return None
        self._mpr_launcher = self.mpr_opener(
            paths, self, self.sig_error.emit, link=self.crosshair.link
        )
        return self._mpr_launcher

    def point_crosshair(self, view: QtViewport, pos) -> bool:
        """Shift + click in a viewport: the MPR crosshair goes to that image point."""
        return self.crosshair.click(view, pos)

    def toggle_key_image(self) -> bool | None:
        marked = self.model.toggle_key_image(self.model.active_viewport)
        self._active_view().refresh()
        return marked

    def _sync_controls(self) -> None:
        vp = self.model.active_viewport
        self.fps.blockSignals(True)
        self.fps.setValue(round(vp.cine_fps))
        self.fps.blockSignals(False)
        self.cine_action.setChecked(vp.cine_playing)

    def ask_annotation_text(self, kind: Kind) -> str | None:
        return self.text_provider(kind)

    def _ask_text(self, kind: Kind) -> str | None:
        title = _("Arrow label") if kind is Kind.ARROW else _("Text annotation")
        text, ok = QInputDialog.getText(self, title, _("Text:"))
        return text if ok else None

    # Export -----------------------------------------------------------------
    def export_sr(self, path: Path) -> Path:
        """Write the study's measurements as a DICOM SR (TID 1500) file."""
        from workstation.viewer.sr_export import write_measurement_report

        return write_measurement_report(self.model.annotations(), self._source_datasets(), path)

    def store_sr(self) -> object:
        """Store the measurements as a DICOM SR in the study, in the local archive.

        Returns the archive's store result (``.ok``, ``.reason``).
        """
        from workstation.viewer.sr_export import build_measurement_report

        if not self.model.may_write():
            raise ValueError(_("You may not store measurements."))
        store = getattr(getattr(self.catalog, "archive", None), "store_dataset", None)
        if store is None:
            raise ValueError(_("There is no local archive to store the report in."))
        sr = build_measurement_report(self.model.annotations(), self._source_datasets())
        result = store(sr, source="viewer")
        logger.info("measurement SR %s stored: %s", sr.SOPInstanceUID, result.status)
        return result

    def _source_datasets(self):
        import pydicom

        needed = {a.sop_instance_uid for a in self.model.annotations()}
        out = {}
        for uid in self._series:
            for e in self.catalog.instances(uid):
                if e.sop_instance_uid in needed and e.sop_instance_uid not in out:
                    out[e.sop_instance_uid] = pydicom.dcmread(e.path, stop_before_pixels=True)
        return out

    def _on_export_requested(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, _("Export measurements as DICOM SR"), "measurements-sr.dcm", "DICOM (*.dcm)"
        )
        if not name:
            return
        try:
            self.export_sr(Path(name))
        except (OSError, ValueError) as exc:
            logger.exception("SR export failed")
            QMessageBox.warning(self, _("Export failed"), str(exc))

    def _on_store_requested(self) -> None:
        try:
            result = self.store_sr()
        except (OSError, ValueError) as exc:
            logger.exception("SR could not be built")
            QMessageBox.warning(self, _("Export failed"), str(exc))
            return
        if not getattr(result, "ok", False):
            QMessageBox.warning(self, _("Export failed"), getattr(result, "reason", "") or "")

    # Teardown ---------------------------------------------------------------
    def close(self) -> bool:
        """Stop cine and loaders, finalize every render window; safe to call twice."""
        self._teardown()
        return super().close()

    def closeEvent(self, ev) -> None:
        self._teardown()
        super().closeEvent(ev)

    def _teardown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.crosshair.close()
        self.thumbnails.close_strip()
        self.document_view.close_document()
        for view in self._views:
            view.close_view()
        self.model.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    def screenshot(self):
        """The whole viewer as numpy RGB: Qt chrome plus each VTK picture pasted in.

        ``QWidget.grab`` does not capture VTK's GL drawing, so the viewports are read
        back with ``vtkWindowToImageFilter`` and composed here.
        """
        import numpy as np

        image = self.grab().toImage().convertToFormat(self.grab().toImage().Format.Format_RGB888)
        w, h = image.width(), image.height()
        stride = image.bytesPerLine()
        buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
        out = buf.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()
        for view in [] if self.showing_document else self._views:
            pic = view.grab_frame()
            top_left = view.render_view.mapTo(self, view.render_view.rect().topLeft())
            x, y = top_left.x(), top_left.y()
            ph, pw = min(pic.shape[0], h - y), min(pic.shape[1], w - x)
            if ph > 0 and pw > 0:
                out[y : y + ph, x : x + pw] = pic[:ph, :pw]
        return out
