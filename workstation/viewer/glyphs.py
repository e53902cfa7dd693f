"""How annotations look: polylines in image coordinates and where their labels go.

Pure geometry, so the VTK adapter only has to draw lines and text.  Sizes that should
stay constant on screen (arrow heads, probe crosses) take the current zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workstation.viewer.annotations import Annotation, Kind, label

Point = tuple[float, float]


@dataclass(frozen=True)
class Glyph:
    annotation_id: str
    #: Each polyline is a list of image points; ``closed`` ones are drawn as loops.
    polylines: tuple[tuple[Point, ...], ...]
    closed: tuple[bool, ...]
    text: str
    anchor: Point
    selected: bool = False


def _ellipse(a: Point, b: Point, n: int = 72) -> tuple[Point, ...]:
    cx, cy = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    rx, ry = abs(b[0] - a[0]) / 2, abs(b[1] - a[1]) / 2
    return tuple(
        (cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n))
        for k in range(n)
    )


def _arrow_head(tail: Point, tip: Point, size: float) -> tuple[Point, ...]:
    ang = math.atan2(tip[1] - tail[1], tip[0] - tail[0])
    left = (tip[0] - size * math.cos(ang - 0.45), tip[1] - size * math.sin(ang - 0.45))
    right = (tip[0] - size * math.cos(ang + 0.45), tip[1] - size * math.sin(ang + 0.45))
    return (left, tip, right)


def glyph(a: Annotation, zoom: float = 1.0, selected: bool = False) -> Glyph:
    """The drawing of one annotation (``zoom``: screen pixels per image pixel)."""
    p = a.points
    px = 1.0 / max(zoom, 1e-6)  # one screen pixel in image units
    lines: list[tuple[Point, ...]] = []
    closed: list[bool] = []

    def add(points: tuple[Point, ...], loop: bool = False) -> None:
        lines.append(points)
        closed.append(loop)

    if a.kind in (Kind.LENGTH,) and len(p) >= 2:
        add((p[0], p[1]))
    elif a.kind is Kind.ARROW and len(p) >= 2:
        add((p[0], p[1]))
        add(_arrow_head(p[0], p[1], 14 * px))
    elif a.kind is Kind.ANGLE and len(p) >= 2:
        add(tuple(p[:3]))
    elif a.kind is Kind.COBB:
        if len(p) >= 2:
            add((p[0], p[1]))
        if len(p) >= 4:
            add((p[2], p[3]))
    elif a.kind is Kind.RECTANGLE and len(p) >= 2:
        (x0, y0), (x1, y1) = p[0], p[1]
        add(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), True)
    elif a.kind is Kind.ELLIPSE and len(p) >= 2:
        add(_ellipse(p[0], p[1]), True)
    elif a.kind is Kind.FREEHAND and len(p) >= 2:
        add(tuple(p), len(p) >= 3)
    elif a.kind is Kind.PROBE and p:
        c, r, s = p[0][0], p[0][1], 6 * px
        add(((c - s, r), (c + s, r)))
        add(((c, r - s), (c, r + s)))
    anchor = _anchor(a, px)
    return Glyph(a.annotation_id, tuple(lines), tuple(closed), label(a), anchor, selected)


def _anchor(a: Annotation, px: float) -> Point:
    p = a.points
    if not p:
        return (0.0, 0.0)
    if a.kind is Kind.ARROW:
        return (p[0][0] + 4 * px, p[0][1] + 4 * px)
    if a.kind in (Kind.RECTANGLE, Kind.ELLIPSE, Kind.FREEHAND):
        return (max(q[0] for q in p) + 6 * px, min(q[1] for q in p))
    if a.kind is Kind.ANGLE and len(p) >= 2:
        return (p[1][0] + 8 * px, p[1][1] + 8 * px)
    last = p[-1]
    return (last[0] + 8 * px, last[1] + 8 * px)


def nearest(glyphs: list[Glyph], point: Point, tolerance: float) -> str | None:
    """Id of the glyph with a vertex or segment within ``tolerance`` of ``point``."""
    best, best_d = None, tolerance
    for g in glyphs:
        for line, loop in zip(g.polylines, g.closed):
            pts = list(line) + ([line[0]] if loop else [])
            for i in range(max(1, len(pts) - 1)):
                d = _segment_distance(point, pts[i], pts[min(i + 1, len(pts) - 1)])
                if d <= best_d:
                    best, best_d = g.annotation_id, d
        if g.text and math.dist(point, g.anchor) <= best_d:
            best, best_d = g.annotation_id, math.dist(point, g.anchor)
    return best


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == dy == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))
