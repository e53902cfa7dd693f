"""The benchmarks run (quick mode) and print their ratios: proof they work, not timings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _run(script: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_query_benchmark_quick() -> None:
    out = _run("query_bench.py")
    assert "over 20000 studies" in out
    assert out.count("x ") >= 10  # one ratio per search


@pytest.mark.slow
@pytest.mark.orthanc
@pytest.mark.skipif(
    shutil.which("Orthanc") is None and not Path("/usr/sbin/Orthanc").exists(),
    reason="Orthanc is not installed",
)
def test_import_benchmark_quick() -> None:
    out = _run("import_vs_orthanc.py")
    assert "workstation import" in out and "Orthanc STOW-RS" in out
    assert "ratio import / Orthanc" in out
