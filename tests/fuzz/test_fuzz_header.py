"""Fuzz the archive's header path: fast reader, bounded inflate, pydicom fallback.

Contract (``archive.ingest`` relies on it): the fast reader returns a dict or None and
never raises; the bounded inflate returns at most ``keep`` bytes or raises
InvalidDicomError (InflateLimitError past the cap); reading a whole file's header ends
in a header or InvalidDicomError - or, on the pydicom fallback, one of pydicom's parse
errors, which the preparer turns into a refusal with the reason - and never in
MemoryError, RecursionError, IndexError or struct.error, nor in an allocation the
input's length fields dictate.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.bounds import FORBIDDEN, within_memory
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import FUZZ
from tests.fuzz.seeds import deflate_bomb, dicom_seeds
from workstation.pacs_node.archive import ingest, part10
from workstation.pacs_node.archive.completeness import incomplete_reason
from workstation.pacs_node.archive.errors import InvalidDicomError
from workstation.pacs_node.archive.fastheader import read_header
from workstation.pacs_node.archive.header import extract_header
from workstation.pacs_node.archive.inflate import InflateLimitError, inflate_header

#: The inflate cap used here (archive.max_inflated_bytes), small so bombs are cheap.
MAX_INFLATED = 8 * 1024 * 1024
#: Memory one example may use beyond its input: one inflate step, the kept header and
#: pydicom's working set for a small file.
MEMORY_BUDGET = 48 * 1024 * 1024
SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99")


def read_file_header(data: bytes) -> object:
    """What ``Preparer.prepare`` does with an imported file up to the index."""
    data, body_at = ingest._as_part10(data)
    ds, tsyntax = ingest._read_header(data, body_at, MAX_INFLATED)
    header = extract_header(ds, tsyntax)
    incomplete_reason(data, body_at, tsyntax, ds if isinstance(ds, dict) else None)
    return header


def _pydicom_errors() -> tuple[type[BaseException], ...]:
    from pydicom.errors import BytesLengthException
    from pydicom.errors import InvalidDicomError as PydicomInvalid

    # What pydicom raises for a malformed file (the preparer reports these as reasons).
    return (
        PydicomInvalid,
        BytesLengthException,
        ValueError,
        EOFError,
        NotImplementedError,
        OSError,
        LookupError,
    )


def _check_file(data: bytes) -> None:
    try:
        within_memory(lambda: read_file_header(data), MEMORY_BUDGET + 4 * len(data))
    except InvalidDicomError:
        pass
    except FORBIDDEN:
        raise
    except struct.error:
        raise
    except _pydicom_errors():
        pass


@FUZZ
@given(mutated(dicom_seeds()))
def test_file_header_contract(data: bytes) -> None:
    _check_file(data)


@FUZZ
@given(mutated(dicom_seeds()), st.sampled_from(SYNTAXES))
def test_fast_reader_never_raises(data: bytes, syntax: str) -> None:
    body_at = part10.meta_end(data) or 0
    out = read_header(data, body_at, syntax)
    assert out is None or isinstance(out, dict)
    if out is not None:
        try:
            extract_header(out, syntax)
        except InvalidDicomError:
            pass
        reason = incomplete_reason(data, body_at, syntax, out)
        assert isinstance(reason, str)


@FUZZ
@given(st.data())
def test_bounded_inflate_contract(data: st.DataObject) -> None:
    raw = data.draw(
        st.one_of(
            mutated(tuple(zlib.compress(s)[2:-4] for s in dicom_seeds()[:4])),
            st.binary(max_size=4096),
        )
    )
    keep = data.draw(st.sampled_from((0, 100, 64 * 1024)))
    try:
        out = within_memory(lambda: inflate_header(raw, MAX_INFLATED, keep), MEMORY_BUDGET)
    except InvalidDicomError:
        return
    assert len(out) <= keep


@pytest.mark.parametrize("inflated", [MAX_INFLATED + 1, 64 * MAX_INFLATED])
def test_deflate_bomb_is_refused_in_bounded_memory(inflated: int) -> None:
    bomb = deflate_bomb(inflated)
    with pytest.raises(InflateLimitError):
        within_memory(lambda: inflate_header(bomb, MAX_INFLATED), MEMORY_BUDGET)


def test_seeds_read_cleanly() -> None:
    """The unmutated seeds themselves go through the reader (sanity of the harness)."""
    read = 0
    for seed in dicom_seeds():
        try:
            read_file_header(seed)
            read += 1
        except (InvalidDicomError, *_pydicom_errors()):
            pass
    assert read >= 3
