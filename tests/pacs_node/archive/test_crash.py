"""Crash safety: SIGKILL ``workstation import`` at random moments, then check and resume.

Each run starts a fresh archive, kills the importer at a random moment while it is
writing (after its first file appeared in the store), then requires ``archive check``
to find no damage and a re-import to complete the set exactly.
"""

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


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "WORKSTATION_HOME": str(home)}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _start_import(home: Path, media: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "workstation", "import", str(media), "--json"],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _first_file(home: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Wait until the importer has put its first file in the store; return when."""
    deadline = time.monotonic() + timeout
    store = home / "store"
    while time.monotonic() < deadline and proc.poll() is None:
        if store.is_dir() and any(store.glob("??/??/*.dcm")):
            return time.monotonic()
        time.sleep(0.005)
    return time.monotonic()


@pytest.mark.slow
def test_sigkill_during_import_leaves_a_consistent_archive(tmp_path: Path, soak: int) -> None:
    media = tmp_path / "media"
    files = []
    for n in range(4):
        files += write_series(
            media / f"s{n}", 150, size=128, patient_name=f"CRASH^{n}", patient_id=f"C{n}"
        )
    expected = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in files}
    # How long the writing part of an import takes here, to aim the kills inside it.
    probe = tmp_path / "probe"
    proc = _start_import(probe, media)
    first = _first_file(probe, proc)
    proc.wait(timeout=300)
    writing = max(0.05, time.monotonic() - first)
    seed = int(os.environ.get("KLINIKA_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    mid_import = run = 0
    # 4 runs (40 with KLINIKA_FULL=1), more if none of them hit an import mid-write.
    while run < 4 * soak or (mid_import == 0 and run < 12 * soak):
        run += 1
        home = tmp_path / f"run{run}"
        proc = _start_import(home, media)
        _first_file(home, proc)
        time.sleep(rng.uniform(0, writing))
        killed = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        check = _cli(home, "archive", "check", "--json")
        report = json.loads(check.stdout)
        assert check.returncode == 0 and not report["damaged"], (seed, run, report)
        mid_import += killed and 0 < report["files_checked"] < len(expected)
        final = _cli(home, "import", str(media), "--json")
        assert final.returncode == 0, final.stderr
        summary = json.loads(final.stdout)
        assert summary["stored"] + summary["duplicates"] == len(expected)
        assert summary["stored"] + report["files_checked"] == len(expected), (seed, run)
        studies = json.loads(_cli(home, "studies", "--json").stdout)
        assert sum(s["num_instances"] for s in studies) == len(expected)
        assert len(studies) == 4
        after = json.loads(_cli(home, "archive", "check", "--json").stdout)
        assert not after["damaged"] and after["files_checked"] == len(expected)
    assert mid_import >= 1, f"no kill landed inside an import (seed {seed})"
