"""Our receiving side killed mid-C-MOVE (issue 16, loose end): the real ``workstation
retrieve PEER STUDY --via move`` process is the C-MOVE SCU and, through the node it
starts for the move, the move destination.  dcmtk's ``dcmqrscp`` holds a 40-instance
study and moves it; once it has seen half of its C-STORE sub-operations answered with
status 0000 (Success), the workstation process group gets SIGKILL.

After the restart every instance the peer saw acknowledged is in the archive and
readable, its pixel data byte-identical (SHA-256) to the source; ``workstation archive
check`` finds no half-written file, orphan file or index row without its file; the same
retrieve again completes 40 of 40, and each instance is stored once.

dcmqrscp names no SOP Instance UID in its log, only the order: it sends the study in
the order of its index (``dcmqridx``, given the files in order), one instance at a time
on one association, so the first N acknowledged are the first N files.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.harness.ports import free_port, port_open, wait_until
from tests.pacs_node.dimse.conftest import needs
from tests.pacs_node.dimse.data import write_study
from tests.pacs_node.dimse.test_cli_node import _cli, _write_config

pytestmark = [
    pytest.mark.network,
    pytest.mark.dcmtk,
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
]

COUNT = 40
KILL_AT = COUNT // 2
OUR_AET, MOVER_AET = "KILLRECV", "MOVER"
ACKNOWLEDGED = "Received Store SCU RSP [Status=Success]"


def _pixel_sha(path: Path) -> str:
    return hashlib.sha256(dcmread(path).PixelData).hexdigest()


class Mover:
    """dcmqrscp holding ``files`` (indexed in their order), moving to our AE only; it
    counts the C-STORE sub-operations our side answered with Success and calls
    ``on_ack(n)`` from its reader thread at once (no polling delay before a kill)."""

    def __init__(self, root: Path, files: list[Path], our_port: int) -> None:
        needs("dcmqrscp", "dcmqridx")
        self.port = free_port()
        db = root / "db"
        db.mkdir(parents=True)
        config = root / "dcmqrscp.cfg"
        config.write_text(
            f"NetworkTCPPort = {self.port}\nMaxPDUSize = 16384\nMaxAssociations = 4\n"
            f"HostTable BEGIN\nours = ({OUR_AET}, 127.0.0.1, {our_port})\nHostTable END\n"
            "VendorTable BEGIN\nVendorTable END\n"
            f"AETable BEGIN\n{MOVER_AET} {db} RW (200, 1024mb) ANY\nAETable END\n"
        )
        subprocess.run(["dcmqridx", str(db), *map(str, files)], check=True, timeout=60)
        self.config = config
        self.start()

    def start(self) -> None:
        self.acknowledged = 0
        self.on_ack: Callable[[int], None] = lambda n: None
        self.lines: list[str] = []
        # SIGPIPE stays ignored (restore_signals=False): a write to the dead destination
        # is then an error dcmqrscp logs per sub-operation, not its silent end.
        self.proc = subprocess.Popen(
            ["dcmqrscp", "-v", "-s", "-c", str(self.config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, restore_signals=False,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, 30, "dcmqrscp")
        assert self.proc.poll() is None, "\n".join(self.lines[-20:])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if ACKNOWLEDGED in line:
                self.acknowledged += 1
                self.on_ack(self.acknowledged)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self._reader.join(10)


def _settled(count: Callable[[], int], still_s: float = 1.0) -> int:
    last, since = count(), time.monotonic()
    while time.monotonic() - since < still_s:
        time.sleep(0.05)
        if (now := count()) != last:
            last, since = now, time.monotonic()
    return last


def _retrieve(home: Path, study_uid: str) -> subprocess.Popen[str]:
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "workstation", "retrieve", "mover", study_uid,
         "--via", "move", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def _archive_check(home: Path) -> dict[str, object]:
    check = _cli(home, "archive", "check", "--json")
    report = json.loads(check.stdout)
    assert check.returncode == 0 and not report["damaged"], (check.stderr, report)
    return report


def _stored(home: Path) -> dict[str, str]:
    """SOP Instance UID -> SHA-256 of the stored pixel data, through the archive."""
    from workstation.config import load_settings
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(load_settings(home=home)) as archive:
        with archive.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT sop_instance_uid FROM instances").all()
        uids = [str(r[0]) for r in rows]
        return {uid: _pixel_sha(archive.instance_file(uid)) for uid in uids} | {
            "__rows__": str(len(uids))
        }


def test_sigkill_of_the_move_destination_keeps_every_acknowledged_instance(
    tmp_path: Path,
) -> None:
    files = write_study(tmp_path / "src", COUNT, size=512, patient_id="P-KILL-MOVE")
    uids = [str(dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files]
    sha = {uid: _pixel_sha(f) for uid, f in zip(uids, files, strict=True)}
    study_uid = str(dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    home, our_port = tmp_path / "ws", free_port()
    mover = Mover(tmp_path / "mover", files, our_port)
    _write_config(
        home, OUR_AET, our_port,
        [{"name": "mover", "ae_title": MOVER_AET, "host": "127.0.0.1", "port": mover.port}],
    )  # fmt: skip
    try:
        proc = _retrieve(home, study_uid)
        killed_at: list[int] = []

        def kill_at_half(n: int) -> None:
            if n == KILL_AT and not killed_at:
                os.killpg(proc.pid, signal.SIGKILL)
                killed_at.append(n)

        mover.on_ack = kill_at_half
        proc.wait(timeout=180)
        assert proc.returncode == -signal.SIGKILL, (
            f"the retrieve ended by itself ({proc.returncode}) after "
            f"{mover.acknowledged} acknowledged\n" + "\n".join(mover.lines[-20:])
        )
        # Answers that left before the process died may still be in the peer's pipe:
        # take the count once it has held still for a second.
        acknowledged = _settled(lambda: mover.acknowledged)
        assert KILL_AT <= acknowledged < COUNT, acknowledged

        # Restart: the archive opens on what the kill left behind.
        report = _archive_check(home)
        assert report["orphan_files"] == [] and report["stale_temp_files"] == 0, report
        assert report["missing_files"] == [] and report["corrupt_files"] == [], report
        stored = _stored(home)
        rows = int(stored.pop("__rows__"))
        assert report["files_checked"] == rows, report
        for uid in uids[:acknowledged]:
            assert uid in stored, f"acknowledged instance {uid} is not in the archive"
            assert stored[uid] == sha[uid], f"{uid}: stored pixel data differ"
        assert rows == len(stored) <= COUNT
        print(f"killed: {acknowledged} acknowledged by the peer, {rows} in the archive")
        assert set(stored) <= set(uids)

        # The same retrieve again completes the study; every instance is there once.
        # dcmqrscp (3.6.7, single-process mode) itself may crash (SIGSEGV) after the
        # aborted association of its dead client: the peer is restarted as it would be.
        mover.stop()
        mover.start()
        again = _retrieve(home, study_uid)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, (out, err)
        result = json.loads(out)
        assert (result["completed"], result["failed"]) == (COUNT, 0), result
        _archive_check(home)
        stored = _stored(home)
        assert int(stored.pop("__rows__")) == COUNT
        assert stored == sha
        studies = json.loads(_cli(home, "studies", "--json").stdout)
        assert [(s["study_instance_uid"], s["num_instances"]) for s in studies] == [
            (study_uid, COUNT)
        ]
    finally:
        mover.stop()
