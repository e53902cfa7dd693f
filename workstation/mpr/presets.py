"""Volume-rendering presets: transfer functions in modality units, loaded from data.

The numbers are 3D Slicer's presets (``workstation/resources/volume_presets.json``
names the source file and commit). :meth:`VolumePreset.shifted` moves every scalar
point by the same amount (the "shift" slider); :meth:`VolumePreset.in_voxel_units`
maps the points through a volume's value slope and intercept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

PRESETS_RESOURCE = ("resources", "volume_presets.json")


@dataclass(frozen=True)
class VolumePreset:
    """One preset: points (value, opacity), (value, r, g, b), (gradient, opacity)."""

    name: str
    scalar_opacity: tuple[tuple[float, float], ...]
    color: tuple[tuple[float, float, float, float], ...]
    gradient_opacity: tuple[tuple[float, float], ...]
    shade: bool
    ambient: float
    diffuse: float
    specular: float
    specular_power: float

    def shifted(self, offset: float) -> VolumePreset:
        """Every scalar point moved by `offset` modality units."""
        return replace(
            self,
            scalar_opacity=tuple((x + offset, y) for x, y in self.scalar_opacity),
            color=tuple((x + offset, r, g, b) for x, r, g, b in self.color),
        )

    def in_voxel_units(self, slope: float, intercept: float) -> VolumePreset:
        """Scalar points as stored voxel values (voxel = (value - intercept) / slope)."""
        if slope == 1.0 and intercept == 0.0:
            return self
        return replace(
            self,
            scalar_opacity=tuple(((x - intercept) / slope, y) for x, y in self.scalar_opacity),
            color=tuple(((x - intercept) / slope, r, g, b) for x, r, g, b in self.color),
        )


@cache
def presets() -> dict[str, VolumePreset]:
    """All presets by name, in file order."""
    path = resources.files("workstation").joinpath(*PRESETS_RESOURCE)
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {name: _preset(name, spec) for name, spec in doc["presets"].items()}


def preset(name: str) -> VolumePreset:
    """The preset called `name` (case-insensitive); KeyError lists the known names."""
    by_lower = {k.lower(): v for k, v in presets().items()}
    try:
        return by_lower[name.lower()]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(presets())}") from None


def _preset(name: str, spec: dict) -> VolumePreset:
    return VolumePreset(
        name=name,
        scalar_opacity=tuple((float(x), float(y)) for x, y in spec["scalar_opacity"]),
        color=tuple((float(x), float(r), float(g), float(b)) for x, r, g, b in spec["color"]),
        gradient_opacity=tuple((float(x), float(y)) for x, y in spec["gradient_opacity"]),
        shade=bool(spec["shade"]),
        ambient=float(spec["ambient"]),
        diffuse=float(spec["diffuse"]),
        specular=float(spec["specular"]),
        specular_power=float(spec["specular_power"]),
    )
