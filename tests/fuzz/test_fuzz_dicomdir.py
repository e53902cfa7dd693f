"""Fuzz the DICOMDIR reader of the import (``importing.dicomdir``).

Contract: a damaged DICOMDIR gives a FileSetResult or raises DicomdirUnreadable (the
import then scans the folder and says so); every file it returns is one the walk of the
media found, inside the media; entries pointing elsewhere are refused with a reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzz.bounds import FORBIDDEN, within_memory
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import FUZZ
from tests.fuzz.seeds import dicomdir_seeds
from workstation.pacs_node.archive.importing.dicomdir import (
    DicomdirUnreadable,
    FileSetResult,
    list_files,
    read_file_set,
)

#: The referenced files of the test data's DICOMDIRs and of the synthetic one.
_MEDIA_FILES = (
    ("77654033", "CR1", "6154"),
    ("77654033", "CT2", "17136"),
    ("98892001", "MR1", "4919"),
    ("PT000000", "ST000000", "SE000000", "IM000000"),
    ("PT000000", "ST000000", "SE000000", "IM000001"),
    ("PT000000", "ST000000", "SE000000", "IM000002"),
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    for parts in _MEDIA_FILES:
        path = root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x00" * 132)
    return root


def read(media: Path, data: bytes) -> FileSetResult | None:
    dicomdir = media / "DICOMDIR"
    dicomdir.write_bytes(data)
    try:
        return read_file_set(dicomdir, list_files(media), media)
    except DicomdirUnreadable as exc:
        reason = str(exc)
    finally:
        dicomdir.unlink()
    assert reason, "refused without a reason"
    return None


@FUZZ
@given(data=mutated(dicomdir_seeds()))
def test_dicomdir_reader_contract(media: Path, data: bytes) -> None:
    try:
        result = within_memory(lambda: read(media, data), 64 * 1024 * 1024 + 8 * len(data))
    except FORBIDDEN:
        raise
    if result is None:
        return
    found = set(list_files(media).values())
    for path in result.files:
        assert path in found and path.name != "DICOMDIR"
    for entry, reason in result.refused:
        assert reason and len(entry) <= 200
    assert result.missing >= 0


def test_seed_dicomdirs_reference_the_media(media: Path) -> None:
    results = [read(media, seed) for seed in dicomdir_seeds()]
    assert all(r is not None for r in results)
    assert any(r.files for r in results if r is not None)
