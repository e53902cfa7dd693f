"""The viewer's toolbar: layout, tools, W/L presets, view actions, cine, sync, key image."""

from __future__ import annotations

from functools import partial

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QSpinBox, QToolBar, QToolButton

from workstation.i18n import _
from workstation.viewer import window_presets
from workstation.viewer.interaction.tools import TOOL_SHORTCUTS, Tool, tool_label
from workstation.viewer.model import LAYOUTS, MAX_FPS, MIN_FPS

MEASURE_TOOLS = (
    Tool.LENGTH,
    Tool.ANGLE,
    Tool.COBB,
    Tool.RECTANGLE,
    Tool.ELLIPSE,
    Tool.FREEHAND,
    Tool.PROBE,
    Tool.TEXT,
    Tool.ARROW,
)


class QtViewerToolbar(QToolBar):
    """Buttons that call the viewer; the viewer keeps them in step with the active viewport."""

    def __init__(self, viewer) -> None:
        super().__init__()
        self.viewer = viewer
        self._build()

    def _build(self) -> None:
        tb, viewer = self, self.viewer
        layouts = QMenu(self)
        for rows, cols in LAYOUTS:
            layouts.addAction(f"{rows} × {cols}", partial(viewer.set_layout, rows, cols))
        layouts.addAction(_("Custom…"), viewer._ask_custom_layout)
        self._menu_button(_("Layout"), layouts)
        group = QActionGroup(self)
        self.tool_actions: dict[Tool, QAction] = {}
        for tool in (Tool.WINDOW, Tool.PAN, Tool.ZOOM, Tool.MAGNIFY, Tool.SELECT):
            self.tool_actions[tool] = self._tool_action(tool, group)
            tb.addAction(self.tool_actions[tool])
        measure = QMenu(self)
        for tool in MEASURE_TOOLS:
            self.tool_actions[tool] = self._tool_action(tool, group)
            measure.addAction(self.tool_actions[tool])
        self._menu_button(_("Measure"), measure)
        self.tool_actions[Tool.WINDOW].setChecked(True)
        self.presets_menu = QMenu(self)
        self.presets_menu.aboutToShow.connect(self._fill_presets)
        self._menu_button(_("W/L presets"), self.presets_menu)
        tb.addSeparator()
        for text, shortcut, slot in (
            (_("Fit"), "F", lambda v: v.fit(viewer._active_view()._view_size())),
            (_("1:1"), "1", lambda v: v.one_to_one()),
            (_("Rotate 90°"), "R", lambda v: v.rotate(1)),
            (_("Flip H"), "H", lambda v: v.flip(True)),
            (_("Flip V"), "V", lambda v: v.flip(False)),
            (_("Invert"), "I", lambda v: v.toggle_invert()),
        ):
            action = tb.addAction(text, partial(viewer._on_active, slot))
            action.setToolTip(f"{text} ({shortcut})")
        tb.addSeparator()
        self.cine_action = tb.addAction(_("Play"), viewer.toggle_cine)
        self.cine_action.setCheckable(True)
        self.fps = QSpinBox()
        self.fps.setRange(int(MIN_FPS), int(MAX_FPS))
        self.fps.setSuffix(" " + _("fps"))
        self.fps.valueChanged.connect(viewer._on_fps_changed)
        tb.addWidget(self.fps)
        tb.addSeparator()
        self.sync_action = tb.addAction(_("Sync"), viewer._on_sync_toggled)
        self.sync_action.setCheckable(True)
        self.sync_action.setChecked(True)
        self.sync_action.setToolTip(_("Scroll series of the same frame of reference together"))
        self.ref_action = tb.addAction(_("Ref. lines"), viewer._on_reflines_toggled)
        self.ref_action.setCheckable(True)
        self.ref_action.setChecked(True)
        key = tb.addAction(_("Key image"), viewer.toggle_key_image)
        key.setShortcut(QKeySequence("K"))
        key.setToolTip(_("Mark or unmark the image as a key image (K)"))
        tb.addSeparator()
        self.mpr_action = tb.addAction(_("MPR / 3-D"), viewer.open_mpr)
        self.mpr_action.setShortcut(QKeySequence("M"))
        self.mpr_action.setToolTip(_("Read the active series in linked planes and in 3-D"))

    def _menu_button(self, text: str, menu: QMenu) -> None:
        button = QToolButton()
        button.setText(text)
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.addWidget(button)

    def _tool_action(self, tool: Tool, group: QActionGroup) -> QAction:
        action = QAction(tool_label(tool), self)
        action.setCheckable(True)
        if tool in TOOL_SHORTCUTS:
            action.setShortcut(QKeySequence(TOOL_SHORTCUTS[tool]))
            action.setToolTip(f"{tool_label(tool)} ({TOOL_SHORTCUTS[tool]})")
            # A tool in a drop-down menu has a working shortcut only on a shown widget.
            self.viewer.addAction(action)
        action.triggered.connect(partial(self.viewer.set_tool, tool))
        group.addAction(action)
        return action

    def _fill_presets(self) -> None:
        viewer = self.viewer
        self.presets_menu.clear()
        vp = viewer.model.active_viewport
        for p in window_presets.presets_for(vp.modality):
            self.presets_menu.addAction(
                f"{p.label} ({p.width:.0f}/{p.center:.0f})", partial(viewer.apply_preset, p.key)
            )
        self.presets_menu.addAction(
            window_presets.WindowPreset("auto", 0, 1).label, partial(viewer.apply_preset, "auto")
        )
        self.presets_menu.addAction(
            window_presets.WindowPreset("file", 0, 1).label, partial(viewer.apply_preset, "file")
        )
