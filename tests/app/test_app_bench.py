"""The app benchmark runs (quick mode): it proves the benchmark works, not a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.qt, pytest.mark.slow]


def test_app_bench_quick_mode_runs(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("WORKSTATION_HOME", None)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "app_bench.py"),
            "--quick",
            "--studies",
            "3000",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "start-up: login window shown" in out and "peer bare PySide6 window" in out
    assert "ratio to raw sqlite3 page" in out and "scroll:" in out
    figures = json.loads(out[out.index("{") :])
    assert figures["studies"] == 3000
    assert figures["search"]["all, newest first"]["total"] == 3000
    assert figures["scroll"]["rows_loaded"] > 0
    assert figures["startup"]["shown_s"] > 0 and figures["startup"]["peer_s"] > 0
