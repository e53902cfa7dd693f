"""The tool host of a 2-D viewport: the frame on screen and the study's annotations.

Annotations are tied to a SOP instance and frame and kept by the
:class:`~workstation.viewer.model.ViewerModel` (which checks the write permission and
stores them); the picture is the viewport's current decoded frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workstation.viewer.annotations import Annotation, Kind
from workstation.viewer.frames import DisplayFrame
from workstation.viewer.interaction.host import never_ask_text
from workstation.viewer.model import ViewerModel, Viewport


@dataclass(eq=False)
class ViewportToolHost:
    """:class:`~workstation.viewer.interaction.host.ToolHost` for one viewport."""

    viewport: Viewport
    model: ViewerModel
    ask_text: Callable[[Kind], str | None] = never_ask_text

    def frame(self) -> DisplayFrame | None:
        return self.viewport.current_frame()

    def annotations(self) -> list[Annotation]:
        ref = self.viewport.current_ref()
        if ref is None:
            return []
        return self.model.annotations_on(ref.sop_instance_uid, ref.frame_index)

    def new_annotation(
        self, kind: Kind, points: tuple[tuple[float, float], ...], text: str
    ) -> Annotation | None:
        ref = self.viewport.current_ref()
        if ref is None:
            return None
        return Annotation(
            kind,
            points,
            ref.sop_instance_uid,
            ref.frame_index,
            series_instance_uid=self.viewport.series_uid,
            text=text,
        )

    def store(self, annotation: Annotation) -> bool:
        return self.model.add_annotation(annotation)

    def remove(self, annotation_id: str) -> None:
        self.model.remove_annotation(annotation_id)
