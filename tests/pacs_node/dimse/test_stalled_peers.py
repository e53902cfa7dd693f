"""Peers that stall, reset or do not exist (issue 16, Build 4), with short timeouts.

Our SCU against: a real storescp frozen mid-transfer (SIGSTOP: it stops reading, the
TCP window closes), a socket that accepts and never reads, one that sends half a PDU and
stalls, one that resets, and a name under ``.invalid``.  Each ends within the configured
timeout with a sentence that says which of these it was.

Our SCP against: a real getscu frozen in the middle of a C-GET (our node's sends block on
a zero window) plus raw connections stuck halfway through a PDU; meanwhile other senders
are served at once, and the node drops the stuck ones within its own timeouts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.harness.faults import freeze, thaw
from tests.harness.ports import free_port, port_open, wait_until
from tests.pacs_node.dimse.conftest import DCMTK_AET, NODE_AET, needs, received_files, run
from tests.pacs_node.dimse.data import write_study
from workstation.config import PeerNode, Settings, ensure_home, load_settings
from workstation.pacs_node.archive.check import check_archive
from workstation.pacs_node.remote import Outcome, Progress

pytestmark = pytest.mark.network

ACSE_S, DIMSE_S, NETWORK_S = 3.0, 4.0, 4.0
#: What a loaded 2-core machine may add to a timeout before the call returns.
SLACK_S = 8.0


def _client(tmp_path: Path, host: str, port: int) -> Any:
    """Our SCU (a DimseNode) with short timeouts, aimed at ``host:port``."""
    from workstation.pacs_node.dimse.scu import DimseNode

    base = load_settings(home=tmp_path / "client")
    settings = dataclasses.replace(
        base,
        node=dataclasses.replace(
            base.node, ae_title="CLIENT", acse_timeout=ACSE_S, dimse_timeout=DIMSE_S,
            network_timeout=NETWORK_S,
        ),
    )  # fmt: skip
    ensure_home(settings)
    return DimseNode(settings, PeerNode(name="peer", ae_title=DCMTK_AET, host=host, port=port))


@contextlib.contextmanager
def _socket_peer(behave: Callable[[socket.socket], None]) -> Iterator[int]:
    """A listening socket whose every connection gets ``behave(conn)``; yields its port."""
    srv = socket.create_server(("127.0.0.1", 0))
    conns: list[socket.socket] = []

    def _serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _addr = srv.accept()
                conns.append(conn)
                behave(conn)

    thread = threading.Thread(target=_serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1]
    finally:
        srv.shutdown(socket.SHUT_RDWR)  # wakes accept()
        srv.close()
        thread.join(5)
        for conn in conns:
            conn.close()


def _never_reads(conn: socket.socket) -> None:
    """Accept and then do nothing at all."""


def _half_a_pdu(conn: socket.socket) -> None:
    """Read the request, start an A-ASSOCIATE-AC that says 200 bytes follow, send 2."""
    conn.recv(65536)
    conn.sendall(struct.pack(">BBL", 0x02, 0, 200) + b"\x00\x01")


def _reset(conn: socket.socket) -> None:
    """Read the request, then close with SO_LINGER 0: the kernel sends a TCP reset."""
    conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    return call(), time.monotonic() - started


@pytest.mark.parametrize(
    ("behave", "says", "within"),
    [
        (_never_reads, "accepted the connection but did not answer the association "
                       f"request within {ACSE_S:g} s", ACSE_S),
        (_half_a_pdu, "accepted the connection but did not answer the association "
                      f"request within {ACSE_S:g} s", ACSE_S),
        (_reset, "closed the connection without answering the association request", 0.0),
    ],
    ids=["never-reads", "half-a-pdu", "reset"],
)  # fmt: skip
def test_our_scu_ends_clearly_within_its_timeout(
    behave: Callable[[socket.socket], None], says: str, within: float, tmp_path: Path
) -> None:
    files = write_study(tmp_path / "s", 3)
    with _socket_peer(behave) as port:
        result, took = _timed(lambda: _client(tmp_path, "127.0.0.1", port).send(files))
    assert took < within + SLACK_S
    assert says in result.error, result.error
    assert result.failed == 3 and all(says in o.reason for o in result.outcomes)


def test_our_scu_to_a_name_that_does_not_resolve(tmp_path: Path) -> None:
    files = write_study(tmp_path / "s", 2)
    result, took = _timed(lambda: _client(tmp_path, "modality.klinika.invalid", 104).send(files))
    assert took < ACSE_S + SLACK_S
    assert "the name modality.klinika.invalid cannot be resolved (DNS)" in result.error
    assert result.failed == 2


@pytest.fixture
def storescp_proc(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """dcmtk storescp (TCP_NODELAY=1) on a free port: (process, port, folder)."""
    needs("storescp")
    port, out = free_port(), tmp_path / "storescp"
    out.mkdir()
    proc = subprocess.Popen(
        ["storescp", "-aet", DCMTK_AET, "-od", str(out), str(port)],
        env={**os.environ, "TCP_NODELAY": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: port_open(port), 10, "storescp")
        yield proc, port, out
    finally:
        thaw(proc.pid)
        proc.kill()
        proc.wait(timeout=10)


def test_our_scu_against_a_storescp_that_stops_reading(
    storescp_proc: tuple[subprocess.Popen[bytes], int, Path], tmp_path: Path
) -> None:
    """storescp frozen after two instances: our C-STORE of 0.5 MB objects fills the TCP
    window and waits; the DIMSE timeout ends it, the rest is reported, not lost."""
    proc, port, out = storescp_proc
    files = write_study(tmp_path / "big", 30, size=512)
    stopped = threading.Event()

    def _progress(p: Progress) -> None:
        if p.done == 2 and not stopped.is_set():
            stopped.set()
            freeze(proc.pid)

    result, took = _timed(
        lambda: _client(tmp_path, "127.0.0.1", port).send(files, progress=_progress)
    )
    thaw(proc.pid)
    assert stopped.is_set()
    assert took < DIMSE_S + NETWORK_S + SLACK_S
    assert "was lost: it closed the connection, or did not answer within 4 s" in result.error
    stored = [o for o in result.outcomes if o.outcome is Outcome.STORED]
    assert len(stored) == 2 and result.failed == 28
    # What storescp confirmed is there; the rest is failed with a reason (to send again).
    wait_until(lambda: len(received_files(out)) >= 2, 10, "storescp's files")
    assert {o.sop_instance_uid for o in stored} <= {
        str(dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in received_files(out)
    }
    assert all(o.reason for o in result.outcomes if o.outcome is Outcome.FAILED)


@pytest.fixture
def quick_node(node_config: Settings, archive: Any) -> Iterator[Any]:
    """Our node with short timeouts."""
    from workstation.pacs_node.dimse.service import start_node_service

    cfg = dataclasses.replace(
        node_config,
        node=dataclasses.replace(
            node_config.node, acse_timeout=ACSE_S, dimse_timeout=DIMSE_S,
            network_timeout=NETWORK_S, request_timeout=2.0,
        ),
    )  # fmt: skip
    svc = start_node_service(cfg, archive)
    wait_until(lambda: port_open(svc.port), 10, "node")
    yield svc
    svc.stop()


def test_our_scp_drops_a_frozen_getscu_and_half_pdus_without_blocking_others(
    quick_node: Any, archive: Any, tmp_path: Path
) -> None:
    needs("getscu", "storescu", "echoscu")
    big = write_study(tmp_path / "big", 60, size=512)  # 30 MB: more than the socket buffers
    for path in big:
        assert archive.store_file(path).ok
    study_uid = str(dcmread(big[0], stop_before_pixels=True).StudyInstanceUID)
    got = tmp_path / "got"
    got.mkdir()
    getscu = subprocess.Popen(
        ["getscu", "-aet", DCMTK_AET, "-aec", NODE_AET, "-S", "-k", "QueryRetrieveLevel=STUDY",
         "-k", f"StudyInstanceUID={study_uid}", "-od", str(got), "127.0.0.1",
         str(quick_node.port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stuck: list[socket.socket] = []
    try:
        wait_until(lambda: len(received_files(got)) >= 2, 30, "getscu receiving")
        freeze(getscu.pid)  # it stops reading; our node's sends fill the window and block
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", quick_node.port))
            s.sendall(struct.pack(">BBL", 0x01, 0, 200) + b"\x00\x01")  # half a request
            stuck.append(s)
        # Others are served at once, while the stuck ones are still connected.
        small = write_study(tmp_path / "small", 10, patient_id="P-OTHER")
        echo, took_echo = _timed(
            lambda: run(["echoscu", "-aec", NODE_AET, "127.0.0.1", str(quick_node.port)])
        )
        storescu = ["storescu", "-aet", "OTHER", "-aec", NODE_AET, "127.0.0.1",
                    str(quick_node.port), *map(str, small)]  # fmt: skip
        stored, took_store = _timed(lambda: run(storescu))
        assert echo.returncode == 0 and took_echo < SLACK_S, echo.stderr
        assert stored.returncode == 0 and took_store < SLACK_S, stored.stderr
        for path in small:
            assert archive.get_instance(dcmread(path).SOPInstanceUID) is not None
        # The node lets go of the frozen getscu and the half PDUs by its own timeouts.
        wait_until(
            lambda: quick_node.active_associations == 0,
            DIMSE_S + NETWORK_S + 2 * SLACK_S,
            "the node to drop the stuck associations",
        )
        assert getscu.poll() is None  # still frozen: the node did not wait for it
    finally:
        thaw(getscu.pid)
        getscu.kill()
        getscu.wait(timeout=10)
        for s in stuck:
            s.close()
    assert not check_archive(archive).damaged
    assert run(["echoscu", "-aec", NODE_AET, "127.0.0.1", str(quick_node.port)]).returncode == 0
