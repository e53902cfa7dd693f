"""Crash loops (issue 16, Build 5): kill -9 of ``workstation node serve`` while four dcmtk
``storescu`` associations send, at random moments; after each kill ``archive check``
passes and every instance a sender saw acknowledged (status 0000) is in the archive,
with the bytes it sent.

3 runs in CI, 50 with KLINIKA_FULL=1.  The runs share one archive: each restarts the
node on what the previous kill left behind, and the senders send their studies again
(duplicates then count as acknowledged too).  ``KLINIKA_SEED`` replays a sequence.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.harness.ports import free_port
from tests.pacs_node.dimse.conftest import needs
from tests.pacs_node.dimse.data import write_study
from tests.pacs_node.dimse.test_cli_node import SERVER_AET, Served, _cli, _write_config
from workstation.pacs_node.archive import part10

pytestmark = [
    pytest.mark.network,
    pytest.mark.dcmtk,
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
]

SENDERS = 4
PER_SENDER = 40


def _body_sha(data: bytes) -> str:
    """SHA-256 of the data set (after the file meta, which the node writes itself)."""
    end = part10.meta_end(data)
    assert end is not None
    return hashlib.sha256(data[end:]).hexdigest()


class Sender:
    """One storescu association; collects the files it saw answered with status 0000."""

    def __init__(self, port: int, files: list[Path]) -> None:
        self.acknowledged: list[Path] = []
        #: The last lines storescu printed (for a failure message).
        self.tail: collections.deque[str] = collections.deque(maxlen=20)
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            ["storescu", "-v", "-aec", SERVER_AET, "127.0.0.1", str(port), *map(str, files)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        current: Path | None = None
        for line in self.proc.stdout:
            self.tail.append(line)
            if line.startswith("I: Sending file: "):
                current = Path(line.split(": ", 2)[2].strip())
            elif "Received Store Response (Success)" in line and current is not None:
                with self._lock:
                    self.acknowledged.append(current)
                current = None

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def finish(self) -> list[Path]:
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._reader.join(30)
        return list(self.acknowledged)


def _check_archive(home: Path, acknowledged: dict[str, str], context: object) -> None:
    check = _cli(home, "archive", "check", "--json")
    report = json.loads(check.stdout)
    assert check.returncode == 0 and not report["damaged"], (context, report)

    from workstation.config import load_settings
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(load_settings(home=home)) as archive:
        for uid, sha in acknowledged.items():
            stored = archive.instance_file(uid).read_bytes()
            assert _body_sha(stored) == sha, (context, uid)


def test_kill_9_during_four_parallel_store_associations(tmp_path: Path, soak: int) -> None:
    needs("storescu")
    studies = [
        write_study(tmp_path / f"s{n}", PER_SENDER, size=64, patient_id=f"CRASH{n}")
        for n in range(SENDERS)
    ]
    uid_of, sha_of = {}, {}
    for path in (p for files in studies for p in files):
        data = path.read_bytes()
        uid_of[path] = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        sha_of[path] = _body_sha(data)
    total = SENDERS * PER_SENDER
    home, port = tmp_path / "node", free_port()
    _write_config(home, SERVER_AET, port, [])
    seed = int(os.environ.get("KLINIKA_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    runs = 50 if soak > 1 else 3
    acknowledged: dict[str, str] = {}
    killed_mid_stream = 0
    for run in range(1, runs + 1):
        context = f"seed {seed}, run {run}"
        served = Served(home, port).start()
        senders = [Sender(port, files) for files in studies]
        # Kill once a random share of the instances were answered, a little later still
        # (inside an association, between or during PDUs).
        target = rng.randrange(0, total)
        deadline = time.monotonic() + 120
        while sum(s.count() for s in senders) < target and time.monotonic() < deadline:
            if all(s.proc.poll() is not None for s in senders):
                break
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.05))
        served.kill9()
        answered = [p for s in senders for p in s.finish()]
        killed_mid_stream += len(answered) < total
        acknowledged.update({uid_of[p]: sha_of[p] for p in answered})
        _check_archive(home, acknowledged, context)
    assert killed_mid_stream >= 1, f"no kill landed inside the associations (seed {seed})"
    # A last clean run: the node comes back and takes everything, nothing twice.
    served = Served(home, port).start()
    try:
        final = [Sender(port, files) for files in studies]
        assert all(len(s.finish()) == PER_SENDER for s in final)
    finally:
        served.stop()
    _check_archive(home, {uid_of[p]: sha_of[p] for p in uid_of}, "final")
    from workstation.config import load_settings
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(load_settings(home=home)) as archive:
        assert archive.counts()["instances"] == total
