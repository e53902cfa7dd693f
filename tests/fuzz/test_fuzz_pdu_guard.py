"""Fuzz the PDU guard (``dimse.pdu_guard``) over a real socket pair.

The guard sits where pynetdicom reads the socket: ``recv(6)`` for a PDU header, then
``recv(length)`` for its body.  This test reads a damaged stream of PDUs the same way.
Contract: ``recv`` never raises; it never returns (or allocates) more than the declared
maximum, whatever length the peer declares; a declared length above the cap, or a
command/data set growing past its cap, sets ``violation`` and sends an A-ABORT; reading
ends within the PDU deadline when the peer stops sending.
"""

from __future__ import annotations

import functools
import socket
import struct
import threading
import time
from types import SimpleNamespace

from hypothesis import given

from tests.fuzz.bounds import within_memory
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import FUZZ
from tests.fuzz.seeds import dicom_seeds
from workstation.pacs_node.dimse.pdu_guard import ABORT_INVALID_PARAMETER, PduGuard, WireLimits

LIMITS = WireLimits(
    max_pdu_bytes=16 * 1024,
    max_dataset_bytes=64 * 1024,
    max_command_bytes=1024,
    pdu_deadline_s=2.0,
    read_timeout_s=2.0,
)


def _pdu(pdu_type: int, body: bytes) -> bytes:
    return struct.pack(">BBL", pdu_type, 0, len(body)) + body


def _pdv(context: int, control: int, data: bytes) -> bytes:
    return struct.pack(">LBB", len(data) + 2, context, control) + data


def p_data(context: int, command: bytes, dataset: bytes, fragment: int) -> bytes:
    """A DIMSE message as P-DATA-TF PDUs (command, then data set in fragments)."""
    out = _pdu(0x04, _pdv(context, 0x03, command))
    pieces = [dataset[i : i + fragment] for i in range(0, len(dataset), fragment)] or [b""]
    for n, piece in enumerate(pieces):
        out += _pdu(0x04, _pdv(context, 0x02 if n == len(pieces) - 1 else 0x00, piece))
    return out


@functools.cache
def pdu_seeds() -> tuple[bytes, ...]:
    dataset = dicom_seeds()[0][:12000]
    command = bytes(range(256)) * 2
    too_big = dataset * (LIMITS.max_dataset_bytes // len(dataset) + 2)
    associate = _pdu(
        0x01, b"\x00\x01\x00\x00" + b"KLINIKA".ljust(16) + b"FUZZ".ljust(16) + bytes(32)
    )
    return (
        associate + p_data(1, command, dataset, 4000),
        p_data(3, command, too_big, 15000),  # a data set past its cap
        p_data(1, command * 3, b"", 100),  # a command set past its cap
        _pdu(0x05, bytes(4)) + _pdu(0x07, bytes(4)),
    )


def read_like_pynetdicom(stream: bytes) -> tuple[PduGuard, int]:
    ours, peer = socket.socketpair()
    guard = PduGuard(SimpleNamespace(socket=ours), LIMITS)  # type: ignore[arg-type]

    def send() -> None:
        try:
            peer.sendall(stream)
            peer.shutdown(socket.SHUT_WR)
            while peer.recv(4096):  # what the guard sends back (A-ABORT)
                pass
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    read = 0
    try:
        while True:
            header = guard.recv(6)
            read += len(header)
            if len(header) < 6:
                break
            (length,) = struct.unpack(">L", header[2:6])
            body = guard.recv(length)
            assert len(body) <= LIMITS.max_declared_length
            read += len(body)
            if len(body) < length:
                break
    finally:
        ours.close()
        sender.join(10)
        peer.close()
    return guard, read


@FUZZ
@given(mutated(pdu_seeds()))
def test_pdu_guard_contract(stream: bytes) -> None:
    started = time.monotonic()
    _guard, read = within_memory(lambda: read_like_pynetdicom(stream), 4 * 1024 * 1024)
    assert read <= len(stream)
    assert time.monotonic() - started < LIMITS.pdu_deadline_s + LIMITS.read_timeout_s + 2


def test_seeds_pass_or_trip_the_caps_they_were_made_for() -> None:
    plain, big_dataset, big_command, _abort = pdu_seeds()
    assert read_like_pynetdicom(plain)[0].violation is None
    assert "data set larger" in (read_like_pynetdicom(big_dataset)[0].violation or "")
    assert "command set larger" in (read_like_pynetdicom(big_command)[0].violation or "")


def test_huge_declared_length_aborts_before_reading_the_body() -> None:
    stream = struct.pack(">BBL", 0x04, 0, 0xFFFFFFF0) + b"\x00" * 64
    ours, peer = socket.socketpair()
    try:
        guard = PduGuard(SimpleNamespace(socket=ours), LIMITS)  # type: ignore[arg-type]
        peer.sendall(stream)
        header = guard.recv(6)
        body = within_memory(lambda: guard.recv(0xFFFFFFF0), 1024 * 1024)
        assert len(header) == 6 and body == bytearray()
        assert guard.violation and "exceeds" in guard.violation
        peer.settimeout(5)
        assert peer.recv(64) == ABORT_INVALID_PARAMETER
    finally:
        ours.close()
        peer.close()
