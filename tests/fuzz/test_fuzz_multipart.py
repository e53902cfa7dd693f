"""Fuzz the DICOMweb ``multipart/related`` reader (``dicomweb.multipart``).

Contract: whatever the server sends, in whatever chunks, ``iter_parts`` yields part
bodies no larger than ``max_part_bytes`` or raises DicomWebError (ResponseTooLarge past
the cap), and it buffers no more than about one part: a stream that never sends its
next boundary is cut off at the cap, not held.
"""

from __future__ import annotations

import functools
import itertools

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.bounds import within_memory
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import FUZZ
from tests.fuzz.seeds import dicom_seeds
from workstation.pacs_node.dicomweb.errors import DicomWebError, ResponseTooLarge
from workstation.pacs_node.dicomweb.multipart import boundary_of, iter_parts

BOUNDARY = b"klinika-fuzz-7d1e"
MAX_PART = 64 * 1024


def _multipart(parts: list[bytes]) -> bytes:
    out = b""
    for part in parts:
        out += b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n"


@functools.cache
def multipart_seeds() -> tuple[bytes, ...]:
    dicom = [seed[:8192] for seed in dicom_seeds()[:3]]
    return (
        _multipart(dicom),
        _multipart([b"", b"--" + BOUNDARY + b"x", b"\r\n--" + BOUNDARY + b" \t"]),
        _multipart([b"a" * (MAX_PART - 1)]),
    )


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def read_all(chunks: list[bytes]) -> list[bytes]:
    parts = []
    try:
        for part in iter_parts(iter(chunks), BOUNDARY, max_part_bytes=MAX_PART):
            assert len(part) <= MAX_PART
            parts.append(part)
    except ResponseTooLarge:
        pass
    except DicomWebError as exc:
        if not str(exc):
            raise AssertionError("an error without a message") from exc
    return parts


@FUZZ
@given(mutated(multipart_seeds()), st.lists(st.integers(0, 1 << 20), max_size=12))
def test_multipart_reader_contract(data: bytes, cuts: list[int]) -> None:
    chunks = _chunked(data, cuts)
    whole = within_memory(lambda: read_all(chunks), 16 * MAX_PART + 8 * len(data))
    # The parts do not depend on how the stream was cut into chunks.
    assert whole == read_all([data]) or not data


def test_endless_part_is_cut_off_at_the_cap() -> None:
    head = b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\n"
    sent = 0

    def endless():  # type: ignore[no-untyped-def]
        nonlocal sent
        yield head
        while True:
            sent += 4096
            yield b"\x00" * 4096

    try:
        for _part in iter_parts(endless(), BOUNDARY, max_part_bytes=MAX_PART):
            raise AssertionError("an unterminated part was yielded")
    except ResponseTooLarge:
        pass
    assert sent <= MAX_PART + 32 * 1024


@FUZZ
@given(st.text(max_size=200))
def test_boundary_of_never_raises(content_type: str) -> None:
    value = boundary_of(content_type)
    assert value is None or isinstance(value, bytes)


def test_seed_parts_round_trip() -> None:
    dicom = [seed[:8192] for seed in dicom_seeds()[:3]]
    assert read_all([multipart_seeds()[0]]) == dicom
