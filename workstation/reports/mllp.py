"""HL7 v2 over MLLP: one message out, its ACK back (the Minimal Lower Layer Protocol).

A block is ``0x0B`` + the message (UTF-8, segments ended by CR) + ``0x1C 0x0D``.  The
sender connects, writes one block and reads one block back within ``timeout_s``; the
answer must be an ACK whose MSA-2 names our MSH-10.  The ACK code decides what the
outbox does (original and enhanced mode alike):

- ``AA`` / ``CA``: accepted, done;
- ``AR`` / ``CR``: rejected for a reason outside the message (the receiver is busy or
  down): send again later;
- ``AE`` / ``CE``: the receiver cannot take this message: sending it again cannot
  help, so the job fails with the receiver's text (MSA-3 / ERR) for a person to read.

Nothing but the socket: no HL7 library, no Qt.  Answers are capped in size.
"""

from __future__ import annotations

import enum
import socket
import time
from dataclasses import dataclass

START = b"\x0b"
END = b"\x1c\x0d"
#: The largest ACK read back (an ACK is a few hundred bytes).
MAX_ACK_BYTES = 64 * 1024


class MllpError(OSError):
    """The link failed: no connection, a timeout, or an answer that is not MLLP."""


class AckVerdict(enum.StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True)
class Ack:
    code: str
    control_id: str
    text: str

    @property
    def verdict(self) -> AckVerdict:
        if self.code in ("AA", "CA"):
            return AckVerdict.ACCEPTED
        if self.code in ("AE", "CE"):
            return AckVerdict.REFUSED
        return AckVerdict.RETRY


def frame(message: bytes) -> bytes:
    """``message`` as one MLLP block."""
    if START in message or END in message:
        raise ValueError("an HL7 message cannot hold the MLLP block characters")
    return START + message + END


def read_block(sock: socket.socket, deadline: float, max_bytes: int = MAX_ACK_BYTES) -> bytes:
    """Read one MLLP block (its content) before ``deadline`` (``time.monotonic``)."""
    buf = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MllpError("no complete answer in time")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except TimeoutError as exc:
            raise MllpError("no complete answer in time") from exc
        if not chunk:
            raise MllpError("the receiver closed the link without an answer")
        buf += chunk
        if len(buf) > max_bytes:
            raise MllpError(f"the answer exceeds {max_bytes} bytes")
        if not buf.startswith(START):
            raise MllpError("the answer is not an MLLP block")
        end = buf.find(END)
        if end != -1:
            return bytes(buf[1:end])


def parse_ack(block: bytes) -> Ack:
    """MSA-1 (code), MSA-2 (the acknowledged control id) and a readable reason."""
    text = block.decode("utf-8", errors="replace")
    segments = {}
    for seg in text.replace("\n", "\r").split("\r"):
        if seg[:3] in ("MSH", "MSA", "ERR") and seg[:3] not in segments:
            segments[seg[:3]] = seg
    msh = segments.get("MSH", "")
    msa = segments.get("MSA")
    if not msh or msa is None or len(msh) < 4:
        raise MllpError("the answer is not an HL7 ACK (no MSH/MSA)")
    fields = msa.split(msh[3])
    code = fields[1] if len(fields) > 1 else ""
    reason = fields[3] if len(fields) > 3 else ""
    if not reason and "ERR" in segments:
        reason = segments["ERR"].replace(msh[3], " ").strip()
    return Ack(code, fields[2] if len(fields) > 2 else "", reason[:300])


def send_message(host: str, port: int, message: bytes, *, timeout_s: float) -> Ack:
    """Send one message and return the receiver's ACK (raises :class:`MllpError`)."""
    deadline = time.monotonic() + timeout_s
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(frame(message))
            return parse_ack(read_block(sock, deadline))
    except MllpError:
        raise
    except OSError as exc:
        raise MllpError(f"{host}:{port}: {exc.strerror or type(exc).__name__}") from exc
