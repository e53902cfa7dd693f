"""A Hypothesis strategy that damages bytes the way hostile or broken input does.

Each example picks a seed and applies a few mutations: flip bits, overwrite a byte,
truncate, delete or duplicate a slice, insert a huge or undefined length (the 32-bit
and 16-bit values a reader might trust), insert deeply nested undefined-length
sequences or items, and splice in a slice of another seed.
"""

from __future__ import annotations

import struct

from hypothesis import strategies as st

_HUGE_32 = (0xFFFFFFFF, 0xFFFFFFFE, 0x7FFFFFFF, 0x80000000, 0x10000000, 0xFFFFFFF0)
_HUGE_16 = (0xFFFF, 0xFFFE, 0x8000)
_SEQ = struct.pack("<HH", 0x0008, 0x1140) + b"SQ\x00\x00" + struct.pack("<I", 0xFFFFFFFF)
_ITEM = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
_ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
_SEQ_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def _nest(depth: int, closed: bool) -> bytes:
    opening = (_SEQ + _ITEM) * depth
    return opening + ((_ITEM_END + _SEQ_END) * depth if closed else b"")


@st.composite
def _mutation(draw, data: bytes) -> bytes:  # type: ignore[no-untyped-def]
    size = len(data)
    at = draw(st.integers(0, max(0, size)))
    kind = draw(
        st.sampled_from(
            ("flip", "byte", "truncate", "delete", "duplicate", "huge32", "huge16", "nest", "junk")
        )
    )
    if kind == "flip" and size:
        at = min(at, size - 1)
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    if kind == "byte" and size:
        at = min(at, size - 1)
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 64)) :]
    if kind == "duplicate":
        piece = data[at : at + draw(st.integers(1, 4096))]
        return data[:at] + piece * draw(st.integers(2, 8)) + data[at:]
    if kind == "huge32":
        value = struct.pack("<I", draw(st.sampled_from(_HUGE_32)))
        overwrite = draw(st.booleans())
        return data[:at] + value + data[at + (4 if overwrite else 0) :]
    if kind == "huge16":
        value = struct.pack("<H", draw(st.sampled_from(_HUGE_16)))
        return data[:at] + value + data[at + 2 :]
    if kind == "nest":
        depth = draw(st.sampled_from((2, 40, 1000, 5000)))
        return data[:at] + _nest(depth, draw(st.booleans())) + data[at:]
    return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]


@st.composite
def mutated(draw, seeds: tuple[bytes, ...], max_mutations: int = 4) -> bytes:  # type: ignore[no-untyped-def]
    """One seed, damaged by 1..``max_mutations`` mutations."""
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, max_mutations))):
        data = draw(_mutation(data))
    return data
