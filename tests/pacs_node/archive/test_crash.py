"""Crash safety: SIGKILL ``workstation import`` at random moments, then check and resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest

from tests.pacs_node.archive.synth import write_series

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def _cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_sigkill_during_import_leaves_a_consistent_archive(tmp_path: Path, soak: int) -> None:
    files = []
    for n in range(4):
        files += write_series(
            tmp_path / "media" / f"s{n}", 60, size=64, patient_name=f"CRASH^{n}", patient_id=f"C{n}"
        )
    expected = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in files}
    home = tmp_path / "home"
    rng = random.Random(int(os.environ.get("KLINIKA_SEED", "0")) or time.time_ns())
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    kills = mid_import = 0
    for _run in range(4 * soak):
        proc = subprocess.Popen(
            [sys.executable, "-m", "workstation", "import", str(tmp_path / "media"), "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.4, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        check = _cli(home, "archive", "check", "--json")
        assert check.returncode == 0, check.stdout + check.stderr
        report = json.loads(check.stdout)
        assert not report["damaged"], report
        mid_import += 0 < report["files_checked"] < len(expected)
    assert kills >= 1, "the importer always finished before the kill; nothing was tested"
    print(f"{kills} kills, {mid_import} in the middle of the import")
    final = _cli(home, "import", str(tmp_path / "media"), "--json")
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["stored"] + summary["duplicates"] == len(expected)
    studies = json.loads(_cli(home, "studies", "--json").stdout)
    assert sum(s["num_instances"] for s in studies) == len(expected)
    assert len(studies) == 4
    check = _cli(home, "archive", "check", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["files_checked"] == len(expected)
