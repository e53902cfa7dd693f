"""A streaming ``multipart/related`` reader that caps every part before buffering it.

WADO-RS answers with one part per instance (or frame).  A server that never sends the
next boundary must not make us buffer without end: a part larger than
``max_part_bytes`` raises :class:`ResponseTooLarge` as soon as the buffer passes the cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from workstation.pacs_node.dicomweb.errors import DicomWebError, ResponseTooLarge

MAX_PART_HEADER_BYTES = 16 * 1024


def boundary_of(content_type: str) -> bytes | None:
    """The boundary parameter of a ``multipart/*`` content type, or None."""
    media, *params = (p.strip() for p in content_type.split(";"))
    if not media.lower().startswith("multipart/"):
        return None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip().strip('"')
            return value.encode("ascii", "replace") if value else None
    return None


def iter_parts(chunks: Iterable[bytes], boundary: bytes, *, max_part_bytes: int) -> Iterator[bytes]:
    """Yield the body of each part, in order, as the stream arrives."""
    delimiter = b"\r\n--" + boundary
    buf = bytearray(b"\r\n")  # lets the first boundary match the same delimiter
    started = False
    search_from = 0
    cap = max_part_bytes + MAX_PART_HEADER_BYTES + len(delimiter) + 4
    for chunk in chunks:
        buf += chunk
        while True:
            idx = buf.find(delimiter, search_from)
            if idx < 0:
                if len(buf) > cap:
                    raise ResponseTooLarge(
                        f"a multipart part exceeds {max_part_bytes} bytes", http_status=None
                    )
                search_from = max(0, len(buf) - len(delimiter))
                break
            if started:
                yield _body(bytes(buf[:idx]), max_part_bytes)
            started = True
            after = idx + len(delimiter)
            if len(buf) < after + 2:
                # Need to know whether this is the closing delimiter; wait for more.
                search_from = idx
                if len(buf) > cap:
                    raise ResponseTooLarge(f"a multipart part exceeds {max_part_bytes} bytes")
                break
            if buf[after : after + 2] == b"--":
                return
            del buf[:after]
            search_from = 0
    if started:
        raise DicomWebError("the multipart response ended without its closing boundary")


def _body(part: bytes, max_part_bytes: int) -> bytes:
    # ``part`` is: transport padding, CRLF, headers, CRLF CRLF, body.
    head_end = part.find(b"\r\n\r\n")
    if head_end < 0 or head_end > MAX_PART_HEADER_BYTES:
        if part.strip() == b"":
            return b""
        raise DicomWebError("a multipart part has no header block")
    body = part[head_end + 4 :]
    if len(body) > max_part_bytes:
        raise ResponseTooLarge(f"a multipart part exceeds {max_part_bytes} bytes")
    return body
