"""Hostile network input: the node refuses it, keeps serving, and the archive stays clean."""

from __future__ import annotations

import dataclasses
import resource
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian
from pynetdicom import AE

from tests.harness.ports import port_open, wait_until
from tests.pacs_node.archive.synth import make_ct
from tests.pacs_node.dimse.conftest import NODE_AET
from workstation.pacs_node.archive.check import check_archive

pytestmark = pytest.mark.network


@pytest.fixture
def strict_node(node_config: Any, archive: Any) -> Iterator[Any]:
    """Our node with short timeouts and a 1 MiB instance cap."""
    from workstation.pacs_node.dimse.service import start_node_service

    cfg = dataclasses.replace(
        node_config,
        node=dataclasses.replace(
            node_config.node, acse_timeout=2.0, network_timeout=2.0, dimse_timeout=5.0,
            max_instance_bytes=1024 * 1024, max_pdu_bytes=64 * 1024,
        ),
    )  # fmt: skip
    svc = start_node_service(cfg, archive)
    wait_until(lambda: port_open(svc.port), 10, "node")
    yield svc
    svc.stop()


def _echo_ok(node: Any) -> bool:
    ae = AE(ae_title="PROBE")
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", node.port, ae_title=NODE_AET)
    try:
        return assoc.is_established and assoc.send_c_echo().Status == 0
    finally:
        if assoc.is_established:
            assoc.release()


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Read until the peer closes; returns what it sent (fails if it stays open)."""
    sock.settimeout(seconds)
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk
    pytest.fail(f"the node kept the connection open for {seconds} s")


def _assert_clean(node: Any, archive: Any) -> None:
    assert _echo_ok(node), "the node stopped serving"
    report = check_archive(archive)
    assert not report.damaged, report.to_json()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _guard_said(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(r.name.endswith("pdu_guard") and text in r.getMessage() for r in caplog.records)


def test_oversized_pdu_length_before_association(
    strict_node: Any, archive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    before = _rss_mib()
    with socket.create_connection(("127.0.0.1", strict_node.port)) as s:
        s.sendall(struct.pack(">BBL", 0x01, 0, 0xFFFFFFF0) + b"\x00" * 64)
        answer = _closed_within(s, 5)
    assert answer[:1] in (b"\x07", b"")  # A-ABORT, or just closed
    assert _rss_mib() - before < 200, "the node allocated for the declared length"
    assert _guard_said(caplog, "declared PDU length 4294967280 exceeds")
    _assert_clean(strict_node, archive)


def test_oversized_p_data_inside_an_association(
    strict_node: Any, archive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ae = AE(ae_title="HOSTILE")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", strict_node.port, ae_title=NODE_AET)
    assert assoc.is_established
    raw = assoc.dul.socket.socket
    before = _rss_mib()
    raw.sendall(struct.pack(">BBL", 0x04, 0, 0x7FFFFFFF) + b"\x00" * 1024)
    wait_until(lambda: not assoc.is_alive(), 10, "the abort of the association")
    assert assoc.is_aborted
    assert _rss_mib() - before < 200
    assert _guard_said(caplog, "declared PDU length 2147483647 exceeds")
    _assert_clean(strict_node, archive)


@pytest.mark.parametrize(
    "body",
    [
        struct.pack(">L", 500) + b"\x01\x03" + b"\x00" * 20,  # item longer than the PDU
        struct.pack(">L", 1) + b"\x01" + b"\x00" * 4,  # item too short for its header
        struct.pack(">L", 4) + b"\x01\x03\x00\x00" + b"\x00\x00",  # a torn second item
    ],
    ids=["item-overruns", "item-too-short", "torn-item"],
)
def test_p_data_whose_items_do_not_parse(strict_node: Any, archive: Any, body: bytes) -> None:
    ae = AE(ae_title="HOSTILE")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", strict_node.port, ae_title=NODE_AET)
    assert assoc.is_established
    assoc.dul.socket.socket.sendall(struct.pack(">BBL", 0x04, 0, len(body)) + body)
    wait_until(lambda: not assoc.is_alive(), 10, "the abort of the association")
    assert assoc.is_aborted
    _assert_clean(strict_node, archive)


def test_http_request_to_the_dicom_port(strict_node: Any, archive: Any) -> None:
    with socket.create_connection(("127.0.0.1", strict_node.port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8\r\n\r\n")
        answer = _closed_within(s, 5)
    assert not answer.startswith(b"HTTP")
    _assert_clean(strict_node, archive)


def test_silent_peer_is_dropped(strict_node: Any, archive: Any) -> None:
    with socket.create_connection(("127.0.0.1", strict_node.port)) as s:
        _closed_within(s, 10)  # acse_timeout is 2 s
    _assert_clean(strict_node, archive)


def test_a_connection_that_never_asks_is_dropped_before_the_acse_timeout(
    node_config: Any, archive: Any
) -> None:
    """An idle TCP connection holds one of ``max_associations``: it gets
    ``request_timeout`` (here 1 s) to send its A-ASSOCIATE-RQ, not ``acse_timeout``."""
    from workstation.pacs_node.dimse.service import start_node_service

    cfg = dataclasses.replace(
        node_config,
        node=dataclasses.replace(node_config.node, acse_timeout=30.0, request_timeout=1.0),
    )
    svc = start_node_service(cfg, archive)
    try:
        wait_until(lambda: port_open(svc.port), 10, "node")
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", svc.port)) as s:
            _closed_within(s, 10)
        assert time.monotonic() - started < 10
        assert _echo_ok(svc)  # a sender that asks at once is served as before
    finally:
        svc.stop()


def test_peer_that_stops_in_the_middle_of_a_pdu(strict_node: Any, archive: Any) -> None:
    with socket.create_connection(("127.0.0.1", strict_node.port)) as s:
        s.sendall(struct.pack(">BBL", 0x01, 0, 200) + b"\x00\x01" + b"\x00" * 10)
        _closed_within(s, 15)  # read timeout 2 s
    _assert_clean(strict_node, archive)


def test_association_aborted_mid_transfer(strict_node: Any, archive: Any) -> None:
    ae = AE(ae_title="HALFWAY")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", strict_node.port, ae_title=NODE_AET, max_pdu=16384)
    assert assoc.is_established
    cx_id = assoc.accepted_contexts[0].context_id
    raw = assoc.dul.socket.socket
    # A C-STORE command PDV (last fragment) followed by one non-last data set fragment.
    from pydicom.dataset import Dataset
    from pynetdicom.dsutils import encode

    cmd = Dataset()
    cmd.AffectedSOPClassUID = CTImageStorage
    cmd.CommandField = 0x0001
    cmd.MessageID = 1
    cmd.Priority = 0
    cmd.CommandDataSetType = 0x0000
    cmd.AffectedSOPInstanceUID = "1.2.3.4.5.6"
    cmd.CommandGroupLength = 0
    body = encode(cmd, True, True)
    cmd.CommandGroupLength = len(body) - 12
    body = encode(cmd, True, True)
    pdv = struct.pack(">LBB", len(body) + 2, cx_id, 0x03) + body
    raw.sendall(struct.pack(">BBL", 0x04, 0, len(pdv)) + pdv)
    fragment = b"\x08\x00\x16\x00" + b"\x00" * 4000
    pdv = struct.pack(">LBB", len(fragment) + 2, cx_id, 0x00) + fragment
    raw.sendall(struct.pack(">BBL", 0x04, 0, len(pdv)) + pdv)
    raw.shutdown(socket.SHUT_RDWR)
    raw.close()
    time.sleep(0.5)
    assert archive.counts()["instances"] == 0
    _assert_clean(strict_node, archive)


def test_instance_over_the_size_cap_aborts(
    strict_node: Any, archive: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ds = make_ct(size=1024)  # 2 MiB of pixels, cap is 1 MiB
    ae = AE(ae_title="BIG")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", strict_node.port, ae_title=NODE_AET)
    assert assoc.is_established
    status = assoc.send_c_store(ds)
    assert "Status" not in status or status.Status != 0
    wait_until(lambda: not assoc.is_alive(), 10, "the end of the association")
    assert archive.counts()["instances"] == 0
    assert _guard_said(caplog, "data set larger than 1048576 bytes")
    _assert_clean(strict_node, archive)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
@pytest.mark.parametrize(
    ("study_uid", "sop_uid"),
    [
        ("../../../../tmp/klinika-evil", "1.2.3.4"),
        ("1.2.3", "../../../../tmp/klinika-evil"),
        ("/etc/passwd", "C:/Windows/evil"),
    ],
)
def test_uids_shaped_like_paths(
    strict_node: Any, archive: Any, tmp_path: Path, study_uid: str, sop_uid: str
) -> None:
    ds = make_ct(study_uid=study_uid, sop_uid=sop_uid)
    ae = AE(ae_title="PATHS")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", strict_node.port, ae_title=NODE_AET)
    assert assoc.is_established
    try:
        status = assoc.send_c_store(ds)
    finally:
        assoc.release()
    assert status.Status != 0  # not a UID: refused, with a reason
    assert "ErrorComment" in status
    assert not Path("/tmp/klinika-evil").exists()
    stored = [p for p in archive.store_root.rglob("*") if p.is_file()]
    assert all(".." not in p.relative_to(archive.store_root).parts for p in stored)
    assert archive.counts()["instances"] == 0
    _assert_clean(strict_node, archive)
