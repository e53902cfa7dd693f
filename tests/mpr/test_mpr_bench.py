"""The MPR benchmark's quick form runs and reports every figure (figures, not limits)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.vtk


def test_mpr_bench_quick_reports_all_figures() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "mpr_bench.py"), "--quick", "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    for key in (
        "mpr_first_three_planes_ms", "crosshair_move_p95_ms", "rotate_p95_ms",
        "slab20_mip_preview_ms", "slab20_mip_refined_ms", "bare_move_p50_ms",
        "3d_first_image_ms", "3d_rotation_p95_ms", "3d_still_ms", "3d_preset_change_ms",
        "bare_3d_first_image_ms", "peak_rss_mb", "ratio_mpr_move_p50_vs_bare",
        "ratio_3d_rotation_p50_vs_bare",
    ):  # fmt: skip
        assert math.isfinite(figures[key]) and figures[key] > 0, key


@pytest.mark.qt
def test_mpr_bench_quick_screen_figures() -> None:
    """The on-screen section (the MPR window and the 3-D view under the display, beside
    bare VTK windows) runs and reports its figures."""
    import os

    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (run under xvfb-run)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "mpr_bench.py"), "--quick", "--screen",
         "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout)
    for key in (
        "screen_drag_p95_ms", "screen_scroll_p95_ms", "screen_rotate_p95_ms",
        "bare_screen_move_p50_ms", "screen_3d_rotation_p95_ms", "screen_3d_still_ms",
        "screen_3d_preset_change_ms", "screen_3d_longest_gui_stall_ms",
        "bare_screen_3d_rotation_p50_ms", "bare_screen_3d_still_ms",
        "ratio_screen_drag_p50_vs_bare", "ratio_screen_3d_rotation_p50_vs_bare",
        "ratio_screen_3d_still_vs_bare",
    ):  # fmt: skip
        assert math.isfinite(figures[key]) and figures[key] > 0, key
    # the still pictures (first, after the release, after the preset) came from the worker
    assert figures["screen_3d_worker_pictures"] >= 3
