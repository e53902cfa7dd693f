"""Crashes the fuzz tests (tests/fuzz) found, each kept with its minimal input.

Each input once escaped its reader with an exception the caller did not expect; now
it ends in the reader's own refusal with a reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from workstation.config import ImportSettings
from workstation.pacs_node.archive.importing.items import InputItem, Refusal, RefusedInput
from workstation.pacs_node.archive.importing.zipsource import zip_items


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _outcomes(data: bytes) -> list[str]:
    """For every member, "item:<n bytes>" or "refused:<reason>"."""
    out = []
    for entry in zip_items(io.BytesIO(data), "in.zip", ImportSettings()):
        if isinstance(entry, Refusal):
            out.append("refused:" + entry.reason)
            continue
        assert isinstance(entry, InputItem)
        try:
            out.append(f"item:{len(entry.read())}")
        except RefusedInput as exc:
            out.append("refused:" + str(exc))
    return out


def test_zip_with_its_first_byte_missing_is_refused_not_a_value_error() -> None:
    # The member's header offset becomes -1: zipfile raised "ValueError: negative seek".
    damaged = _zip({"a.dcm": b"x" * 100})[1:]
    [outcome] = _outcomes(damaged)
    assert outcome.startswith("refused:The member cannot be inflated")


def test_member_with_a_corrupt_deflate_stream_is_refused_not_a_zlib_error() -> None:
    data = bytearray(_zip({"a.dcm": b"x" * 100}))
    at = data.index(b"a.dcm") + len("a.dcm")  # first bytes of the deflate stream
    data[at : at + 4] = b"\xff\xff\xff\xff"  # an invalid block type
    [outcome] = _outcomes(bytes(data))
    assert outcome.startswith("refused:The member cannot be inflated")


def test_nested_zip_with_a_corrupt_deflate_stream_is_refused() -> None:
    inner = bytearray(_zip({"a.dcm": b"y" * 100}))
    outer = bytearray(_zip({"inner.zip": bytes(inner)}, zipfile.ZIP_DEFLATED))
    at = outer.index(b"inner.zip") + len("inner.zip")
    outer[at : at + 4] = b"\xff\xff\xff\xff"
    [outcome] = _outcomes(bytes(outer))
    assert outcome.startswith("refused:The member cannot be inflated")


def test_good_members_next_to_a_damaged_one_still_read() -> None:
    data = bytearray(_zip({"a.dcm": b"x" * 100, "b.dcm": b"z" * 50}))
    at = data.index(b"a.dcm") + len("a.dcm")
    data[at : at + 4] = b"\xff\xff\xff\xff"
    outcomes = _outcomes(bytes(data))
    assert outcomes[0].startswith("refused:") and outcomes[1] == "item:50"


def _one_record_dicomdir(folder: Path, sop_instance_uid: str) -> Path:
    """``folder``/DICOMDIR, a Part-10 DICOMDIR with one IMAGE record for file A/B."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds = Dataset()
    ds.file_meta = meta
    record = Dataset()
    record.DirectoryRecordType = "IMAGE"
    record.ReferencedFileID = ["A", "B"]
    ds.DirectoryRecordSequence = Sequence([record])
    path = folder / "DICOMDIR"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_damaged_dicomdir_is_read_without_allocating_its_declared_lengths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A DICOMDIR missing one byte of its preamble: read from the file, pydicom met a
    # length of about 1.1 GB and the file object allocated all of it before reading.
    import tracemalloc

    from workstation.pacs_node.archive.importing.dicomdir import (
        DicomdirUnreadable,
        list_files,
        read_file_set,
    )

    path = _one_record_dicomdir(tmp_path, "1.2.826.0.1.3680043.8.498.1")
    data = path.read_bytes()
    # Shift everything after the preamble by one byte and make one length huge.
    damaged = bytearray(data[:127] + data[128:])
    at = damaged.index(b"SQ") + 4
    damaged[at : at + 4] = b"\xf0\xff\xff\x3f"
    path.write_bytes(bytes(damaged))
    tracemalloc.start()
    try:
        try:
            read_file_set(path, list_files(tmp_path), tmp_path)
        except DicomdirUnreadable:
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


def _deeply_nested_part10(depth: int) -> bytes:
    """A small Part-10 CT whose data set nests ``depth`` undefined-length sequences."""
    import struct

    from workstation.pacs_node.archive import part10

    def element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(value)) + value

    sequence = struct.pack("<HH", 0x0008, 0x1140) + b"SQ\x00\x00" + b"\xff\xff\xff\xff"
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    closing = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    sop_class, sop_uid = "1.2.840.10008.5.1.4.1.1.2", "1.2.826.0.1.3680043.8.498.77"
    body = (
        element(0x0008, 0x0016, b"UI", sop_class.encode() + b"\x00")
        + element(0x0008, 0x0018, b"UI", sop_uid.encode() + b"\x00")
        + (sequence + item) * depth
        + closing * depth
        + element(0x0020, 0x000D, b"UI", b"1.2.826.0.1.3680043.8.498.78")
        + element(0x0020, 0x000E, b"UI", b"1.2.826.0.1.3680043.8.498.79")
    )
    return part10.build_meta(sop_class, sop_uid, "1.2.840.10008.1.2.1") + body


def test_sequences_nested_1000_deep_are_refused_with_a_reason_not_a_recursion_error() -> None:
    # The fast reader declines nesting past 32 levels; pydicom then recursed until
    # RecursionError.  Found by tests/fuzz/test_fuzz_header.py ("nest" mutation).
    import pytest

    from workstation.pacs_node.archive import ingest, part10
    from workstation.pacs_node.archive.errors import InvalidDicomError

    data = _deeply_nested_part10(1000)
    body_at = part10.meta_end(data)
    assert body_at is not None
    with pytest.raises(InvalidDicomError, match="nests sequences too deeply"):
        ingest._read_header(data, body_at, 1 << 30)


def test_deeply_nested_file_is_rejected_and_a_good_one_stored_after_it(sqlite_archive) -> None:  # type: ignore[no-untyped-def]
    from workstation.pacs_node.archive.results import StoreStatus

    refused = sqlite_archive.store_bytes(_deeply_nested_part10(1000), source="import")
    assert refused.status is StoreStatus.REJECTED
    assert "nests sequences too deeply" in refused.reason
    stored = sqlite_archive.store_bytes(_deeply_nested_part10(3), source="import")
    assert stored.status is StoreStatus.STORED, stored.reason


def test_dicomdir_record_with_an_unknown_vr_makes_the_dicomdir_unreadable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # pydicom decodes a record's Referenced File ID on first access: with the VR
    # damaged to "BS" that raised NotImplementedError out of read_file_set (found by
    # tests/fuzz/test_fuzz_dicomdir.py).  Now the import falls back to a folder scan.
    import pytest

    from workstation.pacs_node.archive.importing.dicomdir import (
        DicomdirUnreadable,
        list_files,
        read_file_set,
    )

    path = _one_record_dicomdir(tmp_path, "1.2.826.0.1.3680043.8.498.2")
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "B").write_bytes(b"\x00" * 132)
    assert len(read_file_set(path, list_files(tmp_path), tmp_path).files) == 1
    data = path.read_bytes()
    tag = b"\x04\x00\x00\x15CS"
    assert data.count(tag) == 1
    path.write_bytes(data.replace(tag, b"\x04\x00\x00\x15BS"))
    with pytest.raises(DicomdirUnreadable, match="Unknown Value Representation"):
        read_file_set(path, list_files(tmp_path), tmp_path)


def _sequence_header_cut_short() -> bytes:
    """The minimal input of the fuzz-found ``struct.error`` (commit 86082d2): a Part-10
    CT whose data set is one SQ element header (tag, VR, reserved) with its 4-byte
    length cut off by the end of the file."""
    from workstation.pacs_node.archive import part10

    sop_class, sop_uid = "1.2.840.10008.5.1.4.1.1.2", "1.2.826.0.1.3680043.8.498.77"
    body = b"\x08\x00\x40\x11" + b"SQ\x00\x00"  # (0008,1140) SQ, then the end of the file
    return part10.build_meta(sop_class, sop_uid, "1.2.840.10008.1.2.1") + body


def test_sequence_length_cut_off_by_the_end_of_file_is_refused_not_a_struct_error() -> None:
    # pydicom unpacks the missing length from too few bytes: struct.error escaped the
    # header fallback (found by a long tests/fuzz/test_fuzz_header.py run).
    import struct

    import pytest

    from workstation.pacs_node.archive import ingest, part10
    from workstation.pacs_node.archive.errors import InvalidDicomError
    from workstation.pacs_node.archive.header_fallback import read_header_dataset

    data = _sequence_header_cut_short()
    body_at = part10.meta_end(data)
    assert body_at is not None and len(data) - body_at == 8
    with pytest.raises(InvalidDicomError, match="header cannot be read") as caught:
        ingest._read_header(data, body_at, 1 << 30)
    assert isinstance(caught.value.__cause__, struct.error)
    with pytest.raises(InvalidDicomError, match=r"\(struct\.error: "):
        read_header_dataset(data)


def test_sequence_cut_short_is_rejected_and_a_good_file_stored_after_it(sqlite_archive) -> None:  # type: ignore[no-untyped-def]
    from workstation.pacs_node.archive.results import StoreStatus

    refused = sqlite_archive.store_bytes(_sequence_header_cut_short(), source="import")
    assert refused.status is StoreStatus.REJECTED
    assert "header cannot be read" in refused.reason
    stored = sqlite_archive.store_bytes(_deeply_nested_part10(3), source="import")
    assert stored.status is StoreStatus.STORED, stored.reason
