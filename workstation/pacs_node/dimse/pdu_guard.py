"""Caps on what a peer may make us read, applied where pynetdicom reads the socket.

pynetdicom reads a PDU as ``recv(6)`` (type, reserved, length) followed by
``recv(length)``, and it accumulates the P-DATA fragments of a DIMSE message in memory
without a limit.  A peer can therefore declare a 4 GiB PDU, or stream fragments forever,
and we would buffer all of it.  :func:`install_pdu_guard` replaces the ``recv`` of one
association's :class:`~pynetdicom.transport.AssociationSocket` with :class:`PduGuard`,
which

- refuses a declared PDU length above ``max_pdu_bytes`` before reading (or allocating)
  any of its body: an A-ABORT is sent, and the read comes back short, which pynetdicom
  treats as a closed transport;
- follows the PDV items of each P-DATA-TF PDU and aborts once one DIMSE message's
  command set or data set grows beyond its cap (``max_command_bytes``,
  ``max_dataset_bytes``);
- gives every PDU a deadline, so a peer that sends a header and then trickles bytes (or
  goes silent) cannot hold the association for ever.

Installing it also turns Nagle's algorithm off for the connection.  The guard is
installed from an ``EVT_CONN_OPEN`` handler (:func:`guard_handlers`), which
pynetdicom fires for both accepted and requested associations before the first PDU is
read.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynetdicom import evt

if TYPE_CHECKING:
    from pynetdicom.association import Association
    from pynetdicom.transport import AssociationSocket

logger = logging.getLogger(__name__)

#: A-ABORT PDU, source 2 (service provider), reason 6 (invalid PDU parameter value).
ABORT_INVALID_PARAMETER = bytes((0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6))
_P_DATA_TF = 0x04
_READ_CHUNK = 256 * 1024
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
#: Association-control PDUs (A-ASSOCIATE-RQ with many contexts) may exceed a small
#: negotiated P-DATA maximum; this is their floor.
_MIN_CONTROL_PDU = 256 * 1024


@dataclass(frozen=True)
class WireLimits:
    """What one association may make us read."""

    max_pdu_bytes: int = 1024 * 1024
    max_dataset_bytes: int = 2 * 1024**3
    max_command_bytes: int = 64 * 1024
    #: Seconds within which a whole PDU must arrive once its header has.
    pdu_deadline_s: float = 120.0
    #: Socket timeout for each read.
    read_timeout_s: float = 60.0

    @property
    def max_declared_length(self) -> int:
        # A peer may legitimately send P-DATA up to the maximum we announced; control
        # PDUs get a fixed floor.  6 bytes of header are not part of the length.
        return max(self.max_pdu_bytes, _MIN_CONTROL_PDU)


class PduGuard:
    """A ``recv`` for one AssociationSocket that enforces :class:`WireLimits`."""

    def __init__(self, assoc_socket: AssociationSocket, limits: WireLimits) -> None:
        self._sock = assoc_socket
        self.limits = limits
        self._pdu_type = 0
        self._message_bytes = {0: 0, 1: 0}  # data set / command bytes of the current message
        self.violation: str | None = None

    # pynetdicom calls recv(6) for the header and recv(length) for the body.
    def recv(self, nr_bytes: int) -> bytearray:
        raw = self._sock.socket
        if raw is None or self.violation:
            return bytearray()
        if nr_bytes == 6 and self._pdu_type == 0:
            return self._recv_header(raw)
        pdu_type, self._pdu_type = self._pdu_type, 0
        if nr_bytes > self.limits.max_declared_length:
            self._abort(f"declared PDU length {nr_bytes} exceeds {self.limits.max_declared_length}")
            return bytearray()
        body = self._read_exactly(raw, nr_bytes)
        if pdu_type == _P_DATA_TF and len(body) == nr_bytes:
            self._account_p_data(body)
            if self.violation:
                return bytearray()
        return body

    def _recv_header(self, raw: socket.socket) -> bytearray:
        header = self._read_exactly(raw, 6, deadline=None)
        if len(header) == 6 and 0x01 <= header[0] <= 0x07:
            self._pdu_type = header[0]  # pynetdicom reads the body next
        return header

    def _read_exactly(
        self, raw: socket.socket, nr_bytes: int, deadline: float | None = -1.0
    ) -> bytearray:
        if deadline == -1.0:
            deadline = time.monotonic() + self.limits.pdu_deadline_s
        out = bytearray()
        try:
            raw.settimeout(self.limits.read_timeout_s)
            _quick_ack(raw)
            while len(out) < nr_bytes:
                if deadline is not None and time.monotonic() > deadline:
                    self._abort("PDU not received within its deadline")
                    return bytearray()
                chunk = raw.recv(min(_READ_CHUNK, nr_bytes - len(out)))
                if not chunk:
                    break
                out += chunk
        except (OSError, ValueError):
            # Timeout, reset, or a socket closed under us: report a short read, which
            # pynetdicom turns into "transport closed" (Evt17).
            return bytearray()
        return out

    def _account_p_data(self, body: bytearray) -> None:
        offset, end = 0, len(body)
        while offset + 6 <= end:
            (item_length,) = struct.unpack_from(">L", body, offset)
            if item_length < 2 or offset + 4 + item_length > end:
                return  # malformed: pynetdicom's decoder rejects it (Evt19)
            control = body[offset + 5]
            is_command, is_last = control & 0x01, control & 0x02
            size = self._message_bytes[is_command] + item_length - 2
            cap = self.limits.max_command_bytes if is_command else self.limits.max_dataset_bytes
            if size > cap:
                kind = "command set" if is_command else "data set"
                self._abort(f"{kind} larger than {cap} bytes")
                return
            self._message_bytes[is_command] = 0 if is_last else size
            offset += 4 + item_length

    def _abort(self, why: str) -> None:
        self.violation = why
        logger.warning("Aborting association with %s: %s", self._peer(), why)
        raw = self._sock.socket
        if raw is None:
            return
        try:
            raw.settimeout(2.0)
            raw.sendall(ABORT_INVALID_PARAMETER)
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            logger.debug("A-ABORT could not be sent", exc_info=True)

    def _peer(self) -> str:
        try:
            return str(self._sock.socket.getpeername())  # type: ignore[union-attr]
        except (OSError, AttributeError):
            return "peer"


def _quick_ack(raw: socket.socket) -> None:
    """ACK at once (Linux): a sender with Nagle on (dcmtk's storescu by default) then
    does not wait ~40 ms for our delayed ACK before sending the rest of a data set."""
    if _TCP_QUICKACK is not None:
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)


def install_pdu_guard(assoc: Association, limits: WireLimits) -> PduGuard | None:
    """Put a :class:`PduGuard` in front of the association's socket reads."""
    sock = assoc.dul.socket
    if sock is None or sock.socket is None:
        return None
    # pynetdicom leaves Nagle on: a C-STORE request split over two sends then waits
    # for the peer's delayed ACK (~40 ms per instance).
    with contextlib.suppress(OSError):
        sock.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    guard = PduGuard(sock, limits)
    sock.recv = guard.recv  # type: ignore[method-assign]
    return guard


def guard_handlers(limits: WireLimits) -> list[tuple[Any, Any]]:
    """Event handlers that install the guard on every new connection."""

    def _on_conn_open(event: evt.Event) -> None:
        try:
            install_pdu_guard(event.assoc, limits)
        except Exception:  # a handler must never raise into pynetdicom
            logger.exception("Could not install the PDU guard; aborting the association")
            event.assoc.abort()

    return [(evt.EVT_CONN_OPEN, _on_conn_open)]
