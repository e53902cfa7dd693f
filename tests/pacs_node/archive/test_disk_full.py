"""A full store disk (a real 40 MB tmpfs, free-space guard off) loses nothing (issue 16, Build 3).

With ``archive.min_free_bytes = 0`` the real ENOSPC paths run: file writes, fsyncs and
the SQLite commit failing with "database or disk is full".  The instance in hand is
refused as "disk full" with the free space (a C-STORE answers A700), nothing
half-written stays behind (``archive check`` passes: no orphan file, no row without its
file), the terminal gets no logging tracebacks, and once space is freed the same
media/sender completes the set.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.ports import free_port, port_open, wait_until
from tests.pacs_node.archive.conftest import settings_with
from tests.pacs_node.archive.synth import write_series
from tests.pacs_node.dimse.conftest import DCMTK_AET, NODE_AET, needs, node_settings, run
from workstation.config import PeerNode, Settings, ensure_home

COUNT = 120  # 0.5 MB each: 60 MB onto a 40 MB disk


def _mount(point: Path, size_mb: int, *, remount: bool = False) -> subprocess.CompletedProcess[str]:
    options = f"size={size_mb}m" + (",remount" if remount else "")
    return subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    point = tmp_path / "disk"
    point.mkdir()
    if os.name != "posix" or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs a POSIX system with mount(8)")
    done = _mount(point, 40)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 40 MB tmpfs here (root needed): {done.stderr.strip()}")
    yield point
    subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("full") / "ct"
    write_series(folder, COUNT, size=512)
    return folder


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKSTATION_HOME": str(home), "WORKSTATION_ARCHIVE__MIN_FREE_BYTES": "0"}
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _stored_files(home: Path) -> int:
    return sum(1 for _ in (home / "store").glob("??/??/*.dcm"))


def _assert_clean(home: Path, stored: int, stderr: str) -> None:
    for noise in ("Logging error", "Traceback", "sqlalche", "OperationalError"):
        assert noise not in stderr, stderr[-3000:]
    assert _stored_files(home) == stored  # no orphan file
    check = _cli(home, "archive", "check", "--json")
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    assert not list((home / "store" / ".tmp").glob("*.part"))
    assert not list((home / "quarantine").glob(".*.part"))  # no half-written copy


def test_import_onto_a_full_disk_refuses_cleanly_and_completes_after_space_is_freed(
    small_disk: Path, media: Path
) -> None:
    home = small_disk / "home"
    proc = _cli(home, "import", str(media), "--json")
    assert proc.returncode == 1 and proc.stdout, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    stored = summary["stored"]
    assert 0 < stored < COUNT and stored + summary["rejected"] == COUNT
    for r in summary["rejected_files"]:
        assert r["status"] == "storage_full", r
        assert r["reason"].startswith("The archive disk is full (") and "MB free" in r["reason"]
        # The note must not lie: the file was read fine, the disk was full.
        assert "could not be read" not in r["quarantine_note"]
    _assert_clean(home, stored, proc.stderr)

    assert _mount(small_disk, 200, remount=True).returncode == 0
    again = _cli(home, "import", str(media), "--json")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    rest = json.loads(again.stdout)
    assert rest["stored"] == COUNT - stored and rest["duplicates"] == stored
    _assert_clean(home, COUNT, again.stderr)


def test_c_store_onto_a_full_disk_answers_a700_and_stores_again_after_space_is_freed(
    small_disk: Path, media: Path, settings: Settings
) -> None:
    needs("storescu")
    from workstation.pacs_node.archive import Archive
    from workstation.pacs_node.dimse.service import start_node_service

    peers = (PeerNode(name="dcmtk", ae_title=DCMTK_AET, host="127.0.0.1", port=1, may_store=True),)
    config = node_settings(
        settings_with(settings, min_free_bytes=0),
        ae_title=NODE_AET, port=free_port(), bind_address="127.0.0.1", peers=peers,
    )  # fmt: skip
    config = dataclasses.replace(config, home=small_disk / "home")
    ensure_home(config)
    files = sorted(str(p) for p in media.iterdir())
    with Archive.open(config) as archive:
        svc = start_node_service(config, archive)
        try:
            wait_until(lambda: port_open(svc.port), 10, "our DICOM node")
            send = [
                "storescu",
                "-v",
                "-aet",
                DCMTK_AET,
                "-aec",
                NODE_AET,
                "127.0.0.1",
                str(svc.port),
            ]
            first = run([*send, *files], timeout=300)
            output = first.stdout + first.stderr
            # A700: dcmtk prints "Refused: OutOfResources" (and stops sending).
            assert "Received Store Response (Refused: OutOfResources)" in output, output[-2000:]
            stored = archive.counts()["instances"]
            assert 0 < stored < COUNT
            assert _mount(small_disk, 200, remount=True).returncode == 0
            second = run([*send, *files], timeout=300)
            assert second.returncode == 0, second.stdout + second.stderr
            assert archive.counts()["instances"] == COUNT
        finally:
            svc.stop()
    _assert_clean(config.home, COUNT, "")


def test_the_log_file_on_a_full_disk_says_so_once_without_tracebacks(
    small_disk: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import logging

    from workstation.logging_setup import setup_logging

    root = logging.getLogger()
    before = list(root.handlers), root.level
    path = setup_logging(small_disk / "logs", stderr_level="CRITICAL")
    try:
        _fill(small_disk / "filler")
        log = logging.getLogger("workstation.test_disk_full")
        for i in range(3000):  # ~300 kB: more than any page of slack the disk had left
            log.info("record %d %s", i, "x" * 100)
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_workstation", False):
                root.removeHandler(handler)
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    err = capfd.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err, err[-2000:]
    assert err.count("cannot be written") == 1, err[-2000:]
    assert str(path) in err


def _fill(path: Path) -> None:
    """Write zeros until the disk holding ``path`` is full to the last byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, bytes(64 * 1024))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return
    finally:
        os.close(fd)
