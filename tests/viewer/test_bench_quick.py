"""The on-screen viewer benchmark runs (quick mode) and prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.qt
@pytest.mark.vtk
def test_viewer_screen_bench_quick(tmp_path: Path) -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (scripts/test.sh runs pytest under xvfb-run)")
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "viewer_screen_bench.py"),
            "--quick",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "open -> first pixels on screen" in result.stdout
    assert "plain pydicom decode" in result.stdout
    assert "== summary" in result.stdout
    (figures,) = json.loads(out.read_text())
    assert figures["slices"] == 60
    assert figures["first_pixels_ms_median"] > 0
    assert figures["scroll_images_per_s"] > 0 and figures["pydicom_decode_images_per_s"] > 0
    # Every step drawn: each slice step reached the screen once.
    every = figures["every_step"]
    assert every["images_drawn"] == every["steps"] > 0
    # A spun wheel steps over slices it cannot draw: never more shown than stepped.
    for spun in (figures["spun_wheel"], figures["spun_wheel_small_viewport"]):
        assert 0 < spun["displayed_images_per_s"] <= spun["stepped_images_per_s"]
    assert figures["every_step_small_viewport"]["viewport_px"][0] < every["viewport_px"][0]
    assert set(figures["vtk_ms_per_frame"]) == {
        "uint8_texture_quad",
        "uint8_image_actor",
        "int16_image_actor_vtk_window",
    }
