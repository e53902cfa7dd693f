"""The loading benchmark runs (quick mode) and reports every figure; no timing asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_viewer_bench_quick_reports_all_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "viewer_bench.py"), "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    assert figures and figures[0]["slices"] == 40
    for fig in figures:
        for key in (
            "first_s",
            "all_s",
            "peak_mb",
            "pydicom_first_s",
            "pydicom_all_s",
            "pydicom_peak_mb",
            "volume_s",
        ):
            assert fig[key] is not None and fig[key] >= 0, key
        assert fig["first_s"] <= fig["all_s"]
        assert fig["cache_peak_mb"] > 0 and fig["memory_ratio"] > 0
