"""Handles of a drawn annotation: its defining points, found and dragged.

A handle is one of an annotation's points (the two ends of a length, the three points of
an angle, the two corners of a rectangle or ellipse, the vertices of a freehand outline,
the spot of a probe or text). Dragging it moves that point; the session re-measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from workstation.viewer.annotations import Annotation

Point = tuple[float, float]


@dataclass(frozen=True)
class Handle:
    annotation_id: str
    index: int


def nearest_handle(
    annotations: list[Annotation], point: Point, tolerance: float, prefer: str = ""
) -> Handle | None:
    """The point within ``tolerance`` (image pixels) of ``point`` nearest to it; the
    annotation ``prefer`` (the selected one) wins a tie."""
    best: Handle | None = None
    best_d = tolerance
    for a in annotations:
        for i, p in enumerate(a.points):
            d = math.dist(point, p)
            if d < best_d or (d == best_d and a.annotation_id == prefer):
                best, best_d = Handle(a.annotation_id, i), d
    return best


def moved(a: Annotation, index: int, point: Point) -> Annotation:
    """``a`` with its point ``index`` at ``point`` (results left for re-evaluation)."""
    points = list(a.points)
    points[index] = (float(point[0]), float(point[1]))
    return replace(a, points=tuple(points))
