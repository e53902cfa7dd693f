"""The auth benchmark runs (quick mode) and reports every figure with its peers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.network
def test_auth_bench_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "auth_bench.py"), "--quick", "--json",
         "--clients", "4", "--seconds", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    for phase in ("login", "refresh", "health", "argon2"):
        assert figures[phase]["count"] > 0 and figures[phase]["errors"] == 0, phase
        assert figures[phase]["p95_ms"] >= figures[phase]["p50_ms"] > 0, phase
    assert set(figures["ratios"]) == {"login_vs_argon2", "login_vs_health", "login_vs_refresh"}
    assert figures["ratios"]["login_vs_health"] < 1  # a login costs more than a health check
