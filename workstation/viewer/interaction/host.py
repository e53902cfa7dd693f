"""What a view offers its tool session: a picture to measure, annotations, view drags.

:class:`ToolHost` is the picture under the tools (modality values and geometry as a
:class:`~workstation.viewer.frames.DisplayFrame`) and the annotations on it, with points
in that picture's pixels. :class:`ViewControls` takes the window/level, pan and zoom
drags; a view without pan or zoom ignores those calls.
"""

from __future__ import annotations

from typing import Protocol

from workstation.viewer.annotations import Annotation, Kind
from workstation.viewer.frames import DisplayFrame


class ToolHost(Protocol):
    def frame(self) -> DisplayFrame | None:
        """The picture the tools measure on, or None when nothing is shown."""
        ...

    def annotations(self) -> list[Annotation]:
        """Annotations on that picture, points in its pixel coordinates."""
        ...

    def new_annotation(
        self, kind: Kind, points: tuple[tuple[float, float], ...], text: str
    ) -> Annotation | None:
        """An annotation (not yet evaluated) placed on the current picture."""
        ...

    def store(self, annotation: Annotation) -> bool:
        """Keep a new or changed annotation (same id: replaced); False if refused."""
        ...

    def remove(self, annotation_id: str) -> None: ...

    def ask_text(self, kind: Kind) -> str | None:
        """The label of a text or arrow annotation (None: the user cancelled)."""
        ...


def never_ask_text(_kind: Kind) -> str | None:
    """A host's ``ask_text`` when nobody can be asked: text annotations are cancelled."""
    return None


class ViewControls(Protocol):
    def drag_window(self, dx: float, dy: float) -> None: ...

    def pan(self, dx: float, dy: float) -> None: ...

    def zoom(
        self, factor: float, anchor: tuple[float, float], view_size: tuple[int, int]
    ) -> None: ...
