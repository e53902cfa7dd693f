"""Mouse tools of the viewer and how a drawing in progress becomes an annotation.

Mouse convention (documented in the README):

- left button: the active tool (window/level by default; pan, zoom, magnifier, or one
  of the measurement and annotation tools);
- right button drag: window/level, whatever the tool (right = wider, down = higher level);
- middle button drag: pan;  Ctrl + right drag: zoom;
- wheel: scroll the stack;  Ctrl + wheel: zoom about the cursor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from workstation.i18n import _
from workstation.viewer.annotations import POINTS_NEEDED, Kind, kind_label


class Tool(enum.StrEnum):
    WINDOW = "window"
    PAN = "pan"
    ZOOM = "zoom"
    MAGNIFY = "magnify"
    SELECT = "select"
    # A drawing tool has the value of the annotation kind it draws (see ``kind``).
    LENGTH = Kind.LENGTH.value
    ANGLE = Kind.ANGLE.value
    COBB = Kind.COBB.value
    RECTANGLE = Kind.RECTANGLE.value
    ELLIPSE = Kind.ELLIPSE.value
    FREEHAND = Kind.FREEHAND.value
    PROBE = Kind.PROBE.value
    TEXT = Kind.TEXT.value
    ARROW = Kind.ARROW.value

    @property
    def kind(self) -> Kind | None:
        """The annotation kind this tool draws (None: a navigation or selection tool)."""
        try:
            return Kind(self.value)
        except ValueError:
            return None


def tool_label(tool: Tool) -> str:
    """The tool's name on screen; a drawing tool is named like what it draws."""
    kind = tool.kind
    if kind is not None:
        return kind_label(kind)
    return {
        Tool.WINDOW: _("Window/level"),
        Tool.PAN: _("Pan"),
        Tool.ZOOM: _("Zoom"),
        Tool.MAGNIFY: _("Magnifier"),
        Tool.SELECT: _("Select"),
    }[tool]


#: Keyboard shortcuts that pick a tool (the viewer's other keys: F, 1, R, H, V, I, K).
TOOL_SHORTCUTS = {
    Tool.WINDOW: "W",
    Tool.PAN: "P",
    Tool.ZOOM: "Z",
    Tool.LENGTH: "L",
    Tool.ANGLE: "A",
    Tool.ELLIPSE: "E",
    Tool.ARROW: "T",
}

#: Tools drawn by pressing, dragging and releasing (two points).
DRAG_KINDS = frozenset({Kind.LENGTH, Kind.ARROW, Kind.RECTANGLE, Kind.ELLIPSE})
#: Tools with an area: both sides of a drawn ROI must be at least this long.
AREA_KINDS = frozenset({Kind.RECTANGLE, Kind.ELLIPSE})
#: A drag shorter than this (screen pixels) was a click: it adds no measurement (a single
#: click with the ellipse tool used to add an empty "Ellipse ROI").
MIN_DRAG_PX = 4.0


def too_small(kind: Kind, points: list[tuple[float, float]], zoom: float) -> bool:
    """Whether a drag-drawn shape spans less than ``MIN_DRAG_PX`` on screen (``zoom`` is
    screen pixels per image pixel)."""
    if kind not in DRAG_KINDS or len(points) < 2:
        return False
    (x0, y0), (x1, y1) = points[0], points[-1]
    dx, dy = abs(x1 - x0) * zoom, abs(y1 - y0) * zoom
    if kind in AREA_KINDS:
        return min(dx, dy) < MIN_DRAG_PX
    return max(dx, dy) < MIN_DRAG_PX


#: Tools drawn by clicking each point.
CLICK_KINDS = frozenset({Kind.ANGLE, Kind.COBB})


@dataclass
class Drawing:
    """An annotation being drawn, in image coordinates."""

    kind: Kind
    points: list[tuple[float, float]] = field(default_factory=list)
    #: The rubber-band point under the mouse, not yet fixed.
    floating: tuple[float, float] | None = None

    def preview(self) -> tuple[tuple[float, float], ...]:
        pts = list(self.points)
        if self.floating is not None:
            pts.append(self.floating)
        return tuple(pts)

    @property
    def complete(self) -> bool:
        need = POINTS_NEEDED[self.kind]
        if need == 0:
            return len(self.points) >= 3
        return len(self.points) >= need
