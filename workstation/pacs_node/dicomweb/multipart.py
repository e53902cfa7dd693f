"""A streaming ``multipart/related`` reader that caps every part before buffering it.

WADO-RS answers with one part per instance (or frame).  A server that never sends the
next boundary must not make us buffer without end: a part larger than
``max_part_bytes`` raises :class:`ResponseTooLarge` as soon as the buffer passes the cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from workstation.i18n import _
from workstation.pacs_node.dicomweb.errors import DicomWebError, ResponseTooLarge, TruncatedResponse

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
    """Yield the body of each part, in order, as the stream arrives.

    A delimiter counts only as a whole line (RFC 2046): ``CRLF--boundary`` followed by
    ``--`` (the end) or optional spaces/tabs and CRLF; the same bytes inside a part's
    content followed by anything else are content.
    """
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
                if not started and len(buf) > len(delimiter):
                    # The preamble before the first boundary is never kept: a long one
                    # must not count against (or, in one chunk, slip past) the cap.
                    del buf[: len(buf) - len(delimiter)]
                search_from = max(0, len(buf) - len(delimiter))
                break
            kind, line_end = _delimiter_line(buf, idx + len(delimiter))
            if kind == "more":
                search_from = idx  # undecided until more bytes arrive
                break
            if kind == "content":
                search_from = idx + 1
                continue
            if started:
                yield _body(bytes(buf[:idx]), max_part_bytes)
            started = True
            if kind == "close":
                return
            del buf[:line_end]
            buf[:0] = b"\r\n"  # the part's header block starts right after the line
            search_from = 0
        if len(buf) > cap:
            raise _too_large(max_part_bytes)
    if started:
        raise TruncatedResponse("the multipart response ended without its closing boundary")


def _delimiter_line(buf: bytearray, at: int) -> tuple[str, int]:
    """What follows a delimiter match: close, a boundary line (and where it ends),
    content, or "more" when the buffer ends too early to tell."""
    if len(buf) < at + 2:
        return "more", 0
    if buf[at : at + 2] == b"--":
        return "close", at + 2
    pos = at
    while pos < len(buf) and buf[pos] in b" \t":
        pos += 1
        if pos - at > 64:
            return "content", 0
    if len(buf) < pos + 2:
        return "more", 0
    if buf[pos : pos + 2] == b"\r\n":
        return "line", pos + 2
    return "content", 0


def _body(part: bytes, max_part_bytes: int) -> bytes:
    # ``part`` is: CRLF, headers (possibly none), CRLF, body.
    head_end = part.find(b"\r\n\r\n")
    if head_end < 0 or head_end > MAX_PART_HEADER_BYTES:
        raise DicomWebError("a multipart part has no header block")
    body = part[head_end + 4 :]
    if len(body) > max_part_bytes:
        raise _too_large(max_part_bytes)
    return body


def _too_large(cap: int) -> ResponseTooLarge:
    return ResponseTooLarge(
        _(
            "The server sent an instance larger than {n} bytes; it was not kept "
            "(raise central.max_part_bytes to accept it)."
        ).format(n=cap)
    )
