"""Fixtures for MPR tests: synthetic series on disk and their volumes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")

from tests.mpr.phantoms import load_frames, random_hu, write_series


@pytest.fixture(scope="module")
def oblique_series(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A 30-slice CT acquired with a double-oblique orientation, anisotropic voxels."""
    row = np.array([0.9, 0.3, 0.1])
    row /= np.linalg.norm(row)
    col = np.cross([0.1, -0.2, 1.0], row)
    col /= np.linalg.norm(col)
    iop = [*row, *col]
    return write_series(tmp_path_factory.mktemp("obl"), random_hu((30, 40, 48)), orientation=iop)


@pytest.fixture(scope="module")
def axial_series(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_series(tmp_path_factory.mktemp("ax"), random_hu((30, 40, 48), seed=3))


@pytest.fixture(scope="module")
def axial_volume(axial_series: list[Path]):  # type: ignore[no-untyped-def]
    from workstation.mpr.volume import MprVolume, build_mpr_volume

    volume = build_mpr_volume(load_frames(axial_series))
    assert isinstance(volume, MprVolume), volume
    return volume


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Without a display the MPR window tests skip (scripts/test.sh runs Xvfb)."""
    if os.environ.get("DISPLAY"):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="needs a display: run under xvfb-run (scripts/test.sh)")
    for item in items:
        if item.get_closest_marker("qt") and here in Path(str(item.path)).parents:
            item.add_marker(skip)
