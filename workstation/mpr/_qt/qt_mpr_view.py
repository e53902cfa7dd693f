"""The MPR / 3-D window: linked planes (1x3) or planes with 3-D (2x2), slab and preset
controls, and the volume's warnings (tilt, resampled gaps) where the user sees them.

The crosshair is shared with the 2-D viewer through a
:class:`~workstation.viewer.crosshair_link.CrosshairLink`; with a
:class:`~workstation.mpr.snapshot_store.SnapshotStore` the "3-D snapshot" button
stores the 3-D picture as a Secondary Capture in the study (audited like an export).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workstation.i18n import _
from workstation.mpr._qt.qt_mpr_plane import QtMprPlane
from workstation.mpr._qt.qt_plane_tools import QtPlaneTools
from workstation.mpr._qt.qt_volume_view import Qt3DView
from workstation.mpr.geometry import MAX_SLAB_MM, Slab, SlabMode
from workstation.mpr.presets import presets
from workstation.mpr.viewing import MprViewState
from workstation.mpr.volume import MprVolume
from workstation.viewer.interaction.plane_host import PlaneAnnotations
from workstation.viewer.interaction.tools import Tool, tool_label

if TYPE_CHECKING:
    from workstation.mpr.snapshot_store import SnapshotStore
    from workstation.viewer.crosshair_link import CrosshairLink

logger = logging.getLogger(__name__)

LAYOUTS = ("1x3", "2x2")
#: The 2-D tools offered on the planes (the left button's alternative to the crosshair).
PLANE_TOOLS = (Tool.LENGTH, Tool.ANGLE, Tool.RECTANGLE, Tool.ELLIPSE, Tool.FREEHAND,
               Tool.PROBE, Tool.SELECT)  # fmt: skip


class QtMprView(QWidget):
    """Everything MPR and 3-D for one volume. `link` shares the crosshair with the 2-D
    viewer; `snapshot_target` and `source_path` (a file of the series, for the study
    and patient modules) enable the 3-D snapshot button."""

    #: A snapshot was stored (its ``services.mpr_actions.SnapshotResult``).
    sig_snapshot_stored = Signal(object)
    #: A snapshot could not be made (the reason, for the user).
    sig_snapshot_failed = Signal(str)

    def __init__(
        self,
        volume: MprVolume,
        layout: str = "2x2",
        parent=None,
        *,
        link: CrosshairLink | None = None,
        snapshot_target: SnapshotStore | None = None,
        source_path: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("MPR / 3-D"))
        self.volume = volume
        self.snapshot_target = snapshot_target
        self.source_path = source_path
        self.state = MprViewState(volume, _default_window(volume))
        self.state.link_to(link)
        self.planes = [QtMprPlane(self.state, i) for i in range(3)]
        self.volume_view: Qt3DView | None = None
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._controls())
        outer.addLayout(self._crop_controls())
        outer.addLayout(self._tool_controls())
        outer.addLayout(self.grid, 1)
        self.warnings = QLabel("\n".join(volume.warnings))
        self.warnings.setStyleSheet("color: #e0a030;")
        self.warnings.setVisible(bool(volume.warnings))
        outer.addWidget(self.warnings)
        self.set_layout(layout)

    def _controls(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.layout_box = QComboBox()
        self.layout_box.addItem(_("1 × 3 planes"), "1x3")
        self.layout_box.addItem(_("2 × 2 with 3-D"), "2x2")
        self.layout_box.currentIndexChanged.connect(
            lambda _i: self.set_layout(self.layout_box.currentData())
        )
        self.slab_mode = QComboBox()
        self.slab_mode.addItem(_("Thin"), None)
        for mode, text in ((SlabMode.MIP, _("MIP")), (SlabMode.MINIP, _("MinIP")),
                           (SlabMode.AVERAGE, _("Average"))):  # fmt: skip
            self.slab_mode.addItem(text, mode.value)
        self.slab_mm = QDoubleSpinBox()
        self.slab_mm.setRange(0.0, MAX_SLAB_MM)
        self.slab_mm.setValue(10.0)
        self.slab_mm.setSuffix(" mm")
        self.slab_mode.currentIndexChanged.connect(self._on_slab_changed)
        self.slab_mm.valueChanged.connect(self._on_slab_changed)
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(presets()))
        self.preset_box.currentTextChanged.connect(self._on_preset_changed)
        self.mode_box = QComboBox()
        for name, text in (("composite", _("Volume")), ("mip", _("MIP")), ("minip", _("MinIP")),
                           ("iso", _("Iso-surface"))):  # fmt: skip
            self.mode_box.addItem(text, name)
        self.iso_value = QDoubleSpinBox()
        self.iso_value.setRange(-3000.0, 5000.0)
        self.iso_value.setValue(300.0)
        self.iso_value.setToolTip(_("Iso-surface level"))
        self.mode_box.currentIndexChanged.connect(self._on_mode_changed)
        self.iso_value.editingFinished.connect(self._on_mode_changed)
        reset = QPushButton(_("Reset planes"))
        reset.clicked.connect(self.state.reset)
        self.snapshot_button = QPushButton(_("3-D snapshot"))
        self.snapshot_button.setToolTip(
            _("Store the 3-D picture as a Secondary Capture image in the study")
        )
        self.snapshot_button.clicked.connect(self.store_snapshot)
        QShortcut(QKeySequence("S"), self, self._snapshot_key)
        self.snapshot_status = QLabel("")
        for widget in (QLabel(_("Layout")), self.layout_box, QLabel(_("Slab")), self.slab_mode,
                       self.slab_mm, QLabel(_("3-D preset")), self.preset_box,
                       QLabel(_("3-D mode")), self.mode_box, self.iso_value, reset,
                       self.snapshot_button, self.snapshot_status):  # fmt: skip
            bar.addWidget(widget)
        bar.addStretch(1)
        return bar

    def _update_snapshot_button(self) -> None:
        ready = self.volume_view is not None and not self.volume_view.isHidden()
        possible = self.snapshot_target is not None and self.source_path is not None
        self.snapshot_button.setEnabled(ready and possible)
        if not possible:
            self.snapshot_button.setToolTip(_("Snapshots are stored in the local archive."))

    def snapshot_description(self) -> str:
        """What the picture shows, for the Series Description: preset and mode."""
        mode = self.mode_box.currentData()
        if mode == "iso":
            return f"iso-surface {self.iso_value.value():g}"
        return self.preset_box.currentText() + ("" if mode == "composite" else f" {mode}")

    def store_snapshot(self) -> Any:
        """The 3-D picture as it is on screen, stored in the study as a Secondary
        Capture (audited like an export); None when it could not be."""
        import pydicom

        from workstation.auth.errors import PermissionDenied
        from workstation.mpr._vtk.vtk_volume_render import grab_rgb

        view = self.volume_view
        if view is None or view.scene is None or view.closed:
            self._snapshot_failed(_("The 3-D view is not ready yet."))
            return None
        if self.snapshot_target is None or self.source_path is None:
            self._snapshot_failed(_("Snapshots are stored in the local archive."))
            return None
        view.finish_refinement()  # the still picture, not a refinement step
        view.render_now()
        rgb = grab_rgb(view.GetRenderWindow())
        try:
            template = pydicom.dcmread(self.source_path, stop_before_pixels=True)
            result = self.snapshot_target.store(rgb, template, self.snapshot_description())
        except PermissionDenied as exc:
            self._snapshot_failed(str(exc))
            return None
        except (OSError, ValueError) as exc:
            logger.exception("the 3-D snapshot could not be stored")
            self._snapshot_failed(_("The snapshot could not be stored: {error}").format(error=exc))
            return None
        if result.rejected or not result.stored:
            self._snapshot_failed(
                _("The archive did not keep the snapshot: {reason}").format(
                    reason="; ".join(result.rejected)
                )
            )
            return None
        logger.info(
            "3-D snapshot %s stored in study %s", result.sop_instance_uid, result.study_instance_uid
        )
        self.snapshot_status.setText(_("Snapshot stored in the study."))
        self.sig_snapshot_stored.emit(result)
        return result

    def _snapshot_key(self) -> None:
        if self.snapshot_button.isEnabled():
            self.store_snapshot()

    def _snapshot_failed(self, reason: str) -> None:
        self.snapshot_status.setText(reason)
        self.sig_snapshot_failed.emit(reason)

    def _crop_controls(self) -> QHBoxLayout:
        """The 3-D crop box: a check box and, per axis (column, row, slice), the kept
        range in percent of the volume."""
        bar = QHBoxLayout()
        self.crop_on = QCheckBox(_("Crop 3-D"))
        self.crop_on.toggled.connect(self._on_crop_changed)
        bar.addWidget(self.crop_on)
        self.crop_bounds: list[QSpinBox] = []
        for axis in (_("columns"), _("rows"), _("slices")):
            bar.addWidget(QLabel(axis))
            for value in (0, 100):
                box = QSpinBox()
                box.setRange(0, 100)
                box.setValue(value)
                box.setSuffix(" %")
                box.valueChanged.connect(self._on_crop_changed)
                self.crop_bounds.append(box)
                bar.addWidget(box)
        bar.addStretch(1)
        return bar

    def set_crop(self, fractions: Sequence[float] | None) -> None:
        """Drive the crop controls (as the user would): (x0, x1, y0, y1, z0, z1) in
        fractions 0-1 along columns, rows and slices; None turns cropping off."""
        if fractions is not None:
            for box, f in zip(self.crop_bounds, fractions, strict=True):
                box.blockSignals(True)
                box.setValue(round(100 * f))
                box.blockSignals(False)
        if self.crop_on.isChecked() == (fractions is not None):
            self._on_crop_changed()
        self.crop_on.setChecked(fractions is not None)

    def _on_crop_changed(self, *_args: object) -> None:
        if self.volume_view is None:
            return
        if not self.crop_on.isChecked():
            self.volume_view.set_crop(None)
            return
        values = [box.value() / 100.0 for box in self.crop_bounds]
        for n in (0, 2, 4):  # keep each range ordered
            values[n], values[n + 1] = sorted(values[n : n + 2])
        self.volume_view.set_crop(values)

    def _tool_controls(self) -> QHBoxLayout:
        """The left button's tool on the planes: the crosshair or a 2-D measuring tool
        (one Qt-free tool session per plane; measurements shared by the planes)."""
        #: Measurements on the planes, each shown on every plane it lies in.
        self.notes = PlaneAnnotations()
        self.plane_tools = [QtPlaneTools(plane, self.notes) for plane in self.planes]
        bar = QHBoxLayout()
        self.tool_box = QComboBox()
        self.tool_box.addItem(_("Crosshair"), None)
        for tool in PLANE_TOOLS:
            self.tool_box.addItem(tool_label(tool), tool.value)
        self.tool_box.currentIndexChanged.connect(self._on_tool_changed)
        bar.addWidget(QLabel(_("Tool")))
        bar.addWidget(self.tool_box)
        bar.addStretch(1)
        return bar

    def set_tool(self, tool: Tool | None) -> None:
        """Drive the tool control (as the user would); None: the crosshair."""
        self.tool_box.setCurrentIndex(max(self.tool_box.findData(tool.value if tool else None), 0))

    def _on_tool_changed(self, *_args: object) -> None:
        value = self.tool_box.currentData()
        for tools in self.plane_tools:
            tools.set_tool(Tool(value) if value else None)

    def set_layout(self, layout: str) -> None:
        """ "1x3": the three planes side by side; "2x2": planes and the 3-D view."""
        for widget in [*self.planes, self.volume_view]:
            if widget is not None:
                self.grid.removeWidget(widget)
        if layout == "1x3":
            for i, plane in enumerate(self.planes):
                self.grid.addWidget(plane, 0, i)
            if self.volume_view is not None:
                self.volume_view.hide()
        else:
            for i, plane in enumerate(self.planes):
                self.grid.addWidget(plane, i // 2, i % 2)
            if self.volume_view is None:
                self.volume_view = Qt3DView(self.volume, self._initial_preset())
                self._on_mode_changed()
                self._on_crop_changed()
            self.grid.addWidget(self.volume_view, 1, 1)
            self.volume_view.show()
        self._update_snapshot_button()
        index = self.layout_box.findData(layout)
        if index >= 0 and index != self.layout_box.currentIndex():
            self.layout_box.setCurrentIndex(index)

    def _initial_preset(self) -> str:
        modality = self.volume.frames[0].modality if self.volume.frames else "CT"
        name = "MR-Default" if modality == "MR" else "CT-Bone"
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentText(name)
        self.preset_box.blockSignals(False)
        return name

    def set_slab(self, mode: str | None, thickness_mm: float) -> None:
        """Drive the slab controls (as the user would)."""
        self.slab_mm.setValue(thickness_mm)
        self.slab_mode.setCurrentIndex(max(self.slab_mode.findData(mode), 0))

    def _on_slab_changed(self, *_args: object) -> None:
        mode = self.slab_mode.currentData()
        thickness = self.slab_mm.value()
        slab = None if mode is None or thickness <= 0 else Slab(thickness, SlabMode(mode))
        if mode is not None:  # the mode a slab handle gives a thin plane
            self.state.slab_mode = SlabMode(mode)
        self.state.set_slab(slab)

    def set_3d_mode(self, mode: str, iso_value: float | None = None) -> None:
        """Drive the 3-D mode controls (as the user would): composite, mip, minip, iso."""
        if iso_value is not None:
            self.iso_value.setValue(iso_value)
        index = self.mode_box.findData(mode)
        if index == self.mode_box.currentIndex():
            self._on_mode_changed()
        self.mode_box.setCurrentIndex(max(index, 0))

    def _on_mode_changed(self, *_args: object) -> None:
        if self.volume_view is None:
            return
        mode = self.mode_box.currentData()
        if mode == "iso":
            self.volume_view.set_iso(self.iso_value.value())
        else:
            self.volume_view.set_iso(None)
            self.volume_view.set_blend(mode)

    def _on_preset_changed(self, name: str) -> None:
        if self.volume_view is not None:
            self.volume_view.set_preset(name)

    def close(self) -> bool:
        self.state.close()
        for plane in self.planes:
            plane.close_vtk()
        if self.volume_view is not None:
            self.volume_view.close_vtk()
        return super().close()

    def closeEvent(self, ev) -> None:
        self.state.close()
        for plane in self.planes:
            plane.close_vtk()
        if self.volume_view is not None:
            self.volume_view.close_vtk()
        super().closeEvent(ev)


def _default_window(volume: MprVolume) -> tuple[float, float]:
    """The source's first window, else soft tissue for CT, else the data's range."""
    for info in volume.frames[:1]:
        if info.windows:
            return info.windows[0].center, info.windows[0].width
        if info.modality == "CT":
            return 40.0, 400.0
    lo, hi = volume.to_modality(volume.voxels[:: max(volume.shape[0] // 8, 1)]).min(), None
    hi = volume.to_modality(volume.voxels[:: max(volume.shape[0] // 8, 1)]).max()
    return float(lo + hi) / 2.0, float(max(hi - lo, 1.0))
