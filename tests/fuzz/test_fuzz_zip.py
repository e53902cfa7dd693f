"""Fuzz the ZIP reader of the import (``importing.zipsource``).

Contract: iterating a damaged archive yields InputItems and Refusals and raises nothing;
reading an item returns at most ``max_file_bytes`` or raises RefusedInput (with the
reason the import shows); memory stays within the inflate caps whatever the archive
declares.
"""

from __future__ import annotations

import functools
import io
import zipfile

from hypothesis import given

from tests.fuzz.bounds import within_memory
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import FUZZ
from tests.fuzz.seeds import dicom_seeds
from workstation.config import ImportSettings
from workstation.pacs_node.archive.importing.items import InputItem, Refusal, RefusedInput
from workstation.pacs_node.archive.importing.zipsource import zip_items

CAPS = ImportSettings(
    max_file_bytes=1024 * 1024,
    max_zip_total_bytes=4 * 1024 * 1024,
    max_zip_entries=64,
    max_zip_nesting=2,
    max_zip_ratio=50,
)
MEMORY_BUDGET = 32 * 1024 * 1024


def _zip(members: dict[str, bytes], method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@functools.cache
def zip_seeds() -> tuple[bytes, ...]:
    # Cut to the header: a damaged archive is printed whole when an example fails.
    files = {f"IMG{n:04d}.dcm": seed[:4096] for n, seed in enumerate(dicom_seeds()[:4])}
    deflated = _zip(files, zipfile.ZIP_DEFLATED)
    return (
        deflated,
        _zip(files, zipfile.ZIP_STORED),
        _zip({"outer/inner.zip": deflated, "readme.txt": b"hello"}, zipfile.ZIP_STORED),
        _zip({"zeros.dcm": bytes(2 * 1024 * 1024)}, zipfile.ZIP_DEFLATED),  # ratio bomb
    )


def read_all(data: bytes) -> tuple[int, int]:
    items = refusals = 0
    for entry in zip_items(io.BytesIO(data), "fuzz.zip", CAPS):
        if isinstance(entry, Refusal):
            assert entry.reason
            refusals += 1
            continue
        assert isinstance(entry, InputItem)
        try:
            content = entry.read()
        except RefusedInput as exc:
            if not str(exc):
                raise AssertionError("a refusal without a reason") from exc
            refusals += 1
            continue
        assert len(content) <= CAPS.max_file_bytes
        items += 1
    return items, refusals


@FUZZ
@given(mutated(zip_seeds()))
def test_zip_reader_contract(data: bytes) -> None:
    within_memory(lambda: read_all(data), MEMORY_BUDGET + 4 * len(data))


def test_zip_seeds_read() -> None:
    items, refusals = read_all(zip_seeds()[0])
    assert items == 4 and refusals == 0
    items, refusals = read_all(zip_seeds()[3])
    assert items == 0 and refusals == 1  # the ratio bomb
