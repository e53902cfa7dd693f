"""Measurement glyphs over a picture: their lines and labels, for any image-like view.

The 2-D viewport and an MPR plane both draw what the tool session says
(:meth:`workstation.viewer.interaction.session.ToolSession.glyphs`) through this layer.
``world`` maps image pixels (column, row) to the renderer's world x, y (lines are drawn
there); ``screen`` maps them to the view's pixels (x right, y down), where labels go,
kept inside the view.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkRenderingCore import vtkRenderer, vtkTextActor

from workstation.viewer._vtk.vtk_layers import LineLayer, set_text, text_actor
from workstation.viewer.glyphs import Glyph

ANNOTATION_RGB = (1.0, 0.85, 0.1)
SELECTED_RGB = (0.2, 1.0, 0.3)
#: Measurement labels sit on a translucent dark box (yellow alone vanished on bone).
LABEL_BACKGROUND_RGB = (0.0, 0.0, 0.0)
LABEL_BACKGROUND_OPACITY = 0.6


class VtkGlyphLayer:
    """The annotation lines (normal and selected) and labels in one renderer."""

    def __init__(self, renderer: vtkRenderer, line_z: float = -1.0) -> None:
        self.renderer = renderer
        self._marks = LineLayer(renderer, ANNOTATION_RGB, 2.0, z=line_z)
        self._selected = LineLayer(renderer, SELECTED_RGB, 2.5, z=line_z)
        self._labels: list[vtkTextActor] = []
        self._key: object = None

    def set(
        self,
        glyphs: list[Glyph],
        world: np.ndarray,
        screen: np.ndarray,
        view_size: tuple[int, int],
    ) -> None:
        key = (tuple(glyphs), world.tobytes(), screen.tobytes(), view_size)
        if key == self._key:
            return  # unchanged: rebuilding label textures costs more than the image
        self._key = key
        normal = [g for g in glyphs if not g.selected]
        chosen = [g for g in glyphs if g.selected]
        for layer, group in ((self._marks, normal), (self._selected, chosen)):
            lines = [line for g in group for line in g.polylines]
            closed = [c for g in group for c in g.closed]
            layer.set(lines, closed, world)
        for actor in self._labels:
            self.renderer.RemoveViewProp(actor)
        self._labels = [self._label(g, screen, view_size) for g in glyphs if g.text]

    def _label(self, g: Glyph, screen: np.ndarray, view_size: tuple[int, int]) -> vtkTextActor:
        actor = text_actor(self.renderer, 13, SELECTED_RGB if g.selected else ANNOTATION_RGB)
        x, y, _w = screen @ np.array([g.anchor[0], g.anchor[1], 1.0])
        rows = g.text.split("\n")
        # Keep the label inside the view (about 7.5 px per character at size 13).
        width, height = 7.5 * max(len(t) for t in rows), 15 * len(rows)
        x = min(max(x, 2.0), view_size[0] - width - 4)
        y = min(max(y, 2.0), view_size[1] - height - 2)
        set_text(actor, g.text)
        actor.SetPosition(x, view_size[1] - y)
        prop = actor.GetTextProperty()
        prop.SetVerticalJustificationToTop()
        # Readable on bright tissue: a dark box behind the yellow text.
        prop.SetBackgroundColor(*LABEL_BACKGROUND_RGB)
        prop.SetBackgroundOpacity(LABEL_BACKGROUND_OPACITY)
        return actor
