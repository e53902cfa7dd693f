"""The token-filter benchmark runs (quick mode) and reports its ratios."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.orthanc, pytest.mark.network]


def test_quick_benchmark_reports_ratios(orthanc_loopback_shim: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "orthanc_token_filter.py"), "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["workload"]["studies"] > 0
    for stats in report["qido"].values():
        for server in ("plain", "noop", "filter"):
            assert stats[server]["requests"] == (
                report["workload"]["rounds"] * report["workload"]["requests_per_round"]
            )
            assert stats[server]["req_per_s"] > 0
            assert 0 < stats[server]["p50_ms"] <= stats[server]["p95_ms"]
        for name in ("filter", "noop"):
            ratio = stats[f"ratio_throughput_{name}_over_plain"]
            assert math.isfinite(ratio) and ratio > 0
    verify = report["verify"]
    assert verify["filter_cached_us"] < verify["stdlib_plugin_us"]
