"""``workstation node serve`` and the network verbs, run as real processes: JSON output,
a kill -9 in the middle of a C-STORE stream, and 8 concurrent senders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.harness.ports import free_port, port_open, wait_until
from tests.pacs_node.dimse.conftest import DCMTK_AET, needs, run, wait_for_files
from tests.pacs_node.dimse.data import write_study

pytestmark = [pytest.mark.network, pytest.mark.dcmtk]

SERVER_AET = "SERVER1"


def _write_config(home: Path, aet: str, port: int, peers: list[dict[str, Any]]) -> None:
    cfg = home / "config" / "workstation.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "[node]",
        f'ae_title = "{aet}"',
        f"port = {port}",
        'bind_address = "127.0.0.1"',
        "network_timeout = 10.0",
        "acse_timeout = 10.0",
    ]
    for peer in peers:
        lines.append("[[node.peers]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in peer.items()]
    cfg.write_text("\n".join(lines) + "\n")


def _cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


class Served:
    def __init__(self, home: Path, port: int) -> None:
        self.home, self.port = home, port
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> Served:
        env = {**os.environ, "WORKSTATION_HOME": str(self.home)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workstation", "node", "serve", "--no-sync"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, 60, "node serve")
        assert self.proc.poll() is None, self.proc.stdout.read() if self.proc.stdout else ""
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return ""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        return out


@pytest.fixture
def client_port() -> int:
    return free_port()


@pytest.fixture
def server(tmp_path: Path, client_port: int) -> Iterator[Served]:
    home, port = tmp_path / "server", free_port()
    _write_config(
        home, SERVER_AET, port,
        [{"name": "client", "ae_title": "CLIENT1", "host": "127.0.0.1", "port": client_port,
          "may_query": True, "may_retrieve": True, "move_destination": True}],
    )  # fmt: skip
    served = Served(home, port).start()
    yield served
    served.stop()


@pytest.fixture
def client_home(tmp_path: Path, server: Served, dcmtk_port: int, client_port: int) -> Path:
    home = tmp_path / "client"
    _write_config(
        home, "CLIENT1", client_port,
        [{"name": "server", "ae_title": SERVER_AET, "host": "127.0.0.1", "port": server.port},
         {"name": "dcmtk", "ae_title": DCMTK_AET, "host": "127.0.0.1", "port": dcmtk_port}],
    )  # fmt: skip
    return home


def _storescu(port: int, files: list[Path], *opts: str) -> subprocess.CompletedProcess[str]:
    needs("storescu")
    return run(["storescu", *opts, "-aec", SERVER_AET, "127.0.0.1", str(port), *map(str, files)])


def test_serve_echo_find_get_send_with_json(
    server: Served, client_home: Path, tmp_path: Path
) -> None:
    files = write_study(tmp_path / "s", 4, patient_name="VOLKOVA^IRINA", patient_id="P-CLI")
    assert _storescu(server.port, files).returncode == 0
    study_uid = dcmread(files[0]).StudyInstanceUID

    echo = _cli(client_home, "echo", f"127.0.0.1:{server.port}:{SERVER_AET}", "--json")
    assert echo.returncode == 0, echo.stderr
    assert json.loads(echo.stdout)["ok"] is True

    found = _cli(client_home, "find", "server", "--patient", "VOLK*", "--json")
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert [r["StudyInstanceUID"] for r in rows] == [study_uid]
    assert rows[0]["NumberOfStudyRelatedInstances"] == "4"

    got = _cli(client_home, "get", "server", study_uid, "--json")
    assert got.returncode == 0, got.stderr
    result = json.loads(got.stdout)
    assert result["completed"] == 4 and result["failed"] == 0
    assert {i["outcome"] for i in result["instances"]} == {"stored"}

    studies = _cli(client_home, "studies", "--json")
    assert [s["study_instance_uid"] for s in json.loads(studies.stdout)] == [study_uid]

    unknown = _cli(client_home, "echo", "nobody-here", "--json")
    assert unknown.returncode == 4


def test_retrieve_by_move_and_sync_status(
    server: Served, client_home: Path, tmp_path: Path
) -> None:
    files = write_study(tmp_path / "s", 3)
    assert _storescu(server.port, files).returncode == 0
    study_uid = dcmread(files[0]).StudyInstanceUID
    # No node of the client is running: retrieve starts one for the C-MOVE.
    got = _cli(client_home, "retrieve", "server", study_uid, "--via", "move", "--json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["completed"] == 3
    studies = json.loads(_cli(client_home, "studies", "--json").stdout)
    assert [s["num_instances"] for s in studies] == [3]
    queued = _cli(client_home, "sync", "queue", study_uid, "--to", "server", "--json")
    assert queued.returncode == 0, queued.stderr
    job = json.loads(queued.stdout)["queued"][0]
    status = json.loads(_cli(client_home, "sync", "status", "--json").stdout)
    assert [(j["id"], j["state"], j["total"]) for j in status] == [(job, "queued", 3)]
    ran = _cli(client_home, "sync", "run", "--until-empty", "--timeout", "60", "--json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    done = json.loads(_cli(client_home, "sync", "status", "--all", "--json").stdout)
    assert [(j["state"], j["done"]) for j in done] == [("done", 3)]


def test_send_to_storescp(client_home: Path, tmp_path: Path, storescp: Any) -> None:
    out = storescp()
    files = write_study(tmp_path / "s", 3)
    sent = _cli(client_home, "send", "dcmtk", *[f"--file={f}" for f in files], "--json")
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    assert result["completed"] == 3
    assert {i["sop_instance_uid"] for i in result["instances"]} == {
        dcmread(f).SOPInstanceUID for f in files
    }
    assert len(wait_for_files(out, 3)) == 3
    missing = _cli(client_home, "send", "dcmtk", "1.2.3.999", "--json")
    assert missing.returncode == 4


def test_kill_9_during_a_store_stream(tmp_path: Path) -> None:
    needs("storescu")
    home, port = tmp_path / "server", free_port()
    _write_config(home, SERVER_AET, port, [])
    files = write_study(tmp_path / "s", 300, size=64)
    served = Served(home, port).start()
    sender = subprocess.Popen(
        ["storescu", "-v", "-aec", SERVER_AET, "127.0.0.1", str(port), *map(str, files)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert sender.stdout is not None
    acknowledged: list[str] = []
    current = None
    for line in sender.stdout:
        if line.startswith("I: Sending file: "):
            current = line.split(": ", 2)[2].strip()
        elif "Received Store Response (Success)" in line and current:
            acknowledged.append(current)
            if len(acknowledged) == 40:
                served.kill9()
    sender.wait(timeout=60)
    assert 40 <= len(acknowledged) < len(files)

    from workstation.config import load_settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.check import check_archive

    with Archive.open(load_settings(home=home)) as archive:
        for path in acknowledged:
            uid = dcmread(path, stop_before_pixels=True).SOPInstanceUID
            assert archive.get_instance(uid).sop_instance_uid == uid
        report = check_archive(archive)
        assert not report.damaged, report.to_json()
    # The restarted node serves and takes the rest; nothing is stored twice.
    again = Served(home, port).start()
    try:
        assert _storescu(port, files).returncode == 0
    finally:
        again.stop()
    with Archive.open(load_settings(home=home)) as archive:
        assert archive.counts()["instances"] == len(files)


def test_eight_concurrent_senders(node: Any, archive: Any, tmp_path: Path, soak: int) -> None:
    needs("storescu")
    per_sender = 250 if soak > 1 else 60
    batches = [write_study(tmp_path / f"s{i}", per_sender, patient_id=f"P{i}") for i in range(8)]
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda files: run(
                    ["storescu", "-aet", f"SENDER{files[0].parent.name}"[:16], "-aec", "WSNODE",
                     "127.0.0.1", str(node.port), *map(str, files)],
                    timeout=600,
                ),
                batches,
            )
        )  # fmt: skip
    elapsed = time.monotonic() - start
    assert all(r.returncode == 0 for r in results), [r.stderr[-500:] for r in results]
    counts = archive.counts()
    assert counts["instances"] == 8 * per_sender
    assert counts["studies"] == 8
    from workstation.pacs_node.archive.check import check_archive

    assert not check_archive(archive, verify_hashes=False).damaged
    print(f"8 senders x {per_sender}: {8 * per_sender / elapsed:.0f} instances/s")
