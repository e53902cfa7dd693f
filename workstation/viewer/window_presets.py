"""The window/level the user picks: presets per modality and the mouse drag.

The maths of windows (VOI functions, auto window, 8-bit levels) is in
:mod:`workstation.imaging.windowing` and :mod:`workstation.imaging.render`.
"""

from __future__ import annotations

from dataclasses import dataclass

from workstation.i18n import _


@dataclass(frozen=True)
class WindowPreset:
    key: str
    center: float
    width: float

    @property
    def label(self) -> str:
        """The translated name (looked up now, so a language change applies at once)."""
        labels = {
            "lung": _("Lung"),
            "mediastinum": _("Mediastinum"),
            "bone": _("Bone"),
            "brain": _("Brain"),
            "abdomen": _("Abdomen"),
            "auto": _("Auto (from the data)"),
            "file": _("File window"),
        }
        return labels.get(self.key, self.key)


CT_PRESETS: tuple[WindowPreset, ...] = (
    WindowPreset("lung", -600.0, 1500.0),
    WindowPreset("mediastinum", 50.0, 350.0),
    WindowPreset("bone", 500.0, 2000.0),
    WindowPreset("brain", 40.0, 80.0),
    WindowPreset("abdomen", 50.0, 400.0),
)


def presets_for(modality: str) -> tuple[WindowPreset, ...]:
    """Fixed presets that make sense for a modality (CT has HU presets; others use auto)."""
    return CT_PRESETS if modality.upper() == "CT" else ()


def drag_window(
    center: float, width: float, dx: float, dy: float, sensitivity: float
) -> tuple[float, float]:
    """New window after a mouse drag: right widens, down raises the level (common convention).

    ``sensitivity`` is value units per screen pixel; callers scale it with the data range
    so that CT (thousands of HU) and 8-bit images both feel natural.
    """
    return center + dy * sensitivity, max(1.0, width + dx * sensitivity)
