"""``workstation import`` as a real process: Ctrl-C, a missing path, a readme beside the
images (issue 10 §3 and §4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pacs_node.archive.synth import write_series
from workstation.cli import exit_codes

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child is POSIX")


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "WORKSTATION_HOME": str(home)}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        env=_env(home), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _stored_files(home: Path) -> int:
    store = home / "store"
    return sum(1 for _ in store.glob("??/??/*.dcm")) if store.is_dir() else 0


def test_ctrl_c_finishes_the_files_in_hand_prints_the_summary_and_exits_130(
    tmp_path: Path,
) -> None:
    media, home = tmp_path / "media", tmp_path / "home"
    total = 1500
    write_series(media, total, size=32)
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "import", str(media), "--workers", "2"],
        env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _stored_files(home) < 40 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the import ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == exit_codes.CANCELLED, (out, err)
    assert "Cancelling" in err
    assert "Traceback" not in err and "failed" not in err, err
    assert "Stored:" in out and "cancelled" in out
    stored = int(out.split("Stored:")[1].split()[0])
    assert 40 <= stored < total
    # Nothing quarantined: no file was bad; everything written is indexed, and no more.
    quarantine = home / "quarantine"
    assert not quarantine.is_dir() or not any(quarantine.iterdir())
    assert _stored_files(home) == stored
    check = _cli(home, "archive", "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    # The rest comes in on the next run.
    again = _cli(home, "import", str(media), "--json")
    assert again.returncode == exit_codes.OK, again.stderr
    summary = json.loads(again.stdout)
    assert summary["stored"] == total - stored and summary["duplicates"] == stored


def test_a_missing_path_exits_4_and_imports_nothing(tmp_path: Path) -> None:
    media, home = tmp_path / "media", tmp_path / "home"
    write_series(media, 2)
    proc = _cli(home, "import", str(media), str(tmp_path / "no-such-folder"))
    assert proc.returncode == exit_codes.NOT_FOUND
    assert "no-such-folder" in proc.stderr and "Traceback" not in proc.stderr
    assert _stored_files(home) == 0


def test_a_readme_beside_the_images_is_a_note_not_a_failure(tmp_path: Path) -> None:
    media, home = tmp_path / "media", tmp_path / "home"
    series = write_series(media / "SE1", 3)
    (media / "SE1" / "readme.txt").write_text("Burned with ViewerX 2.1\n")
    (media / "SE1" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(600))
    proc = _cli(home, "import", str(media))
    assert proc.returncode == exit_codes.OK, proc.stdout + proc.stderr
    assert "rejected: 0" in proc.stdout
    assert "2 files skipped, not DICOM" in proc.stdout and "readme.txt" in proc.stdout
    # Broken DICOM is still a failure, named or not.
    (media / "SE1" / "IM_BROKEN").write_bytes(series[0].read_bytes()[:400])
    proc = _cli(home, "import", str(media), "--json")
    assert proc.returncode == exit_codes.PARTIAL
    summary = json.loads(proc.stdout)
    assert summary["skipped"] == 2 and summary["rejected"] == 1
    assert Path(summary["rejected_files"][0]["origin"]).name == "IM_BROKEN"
