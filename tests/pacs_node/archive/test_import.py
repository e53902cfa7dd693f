"""The import pipeline on synthetic media: folders, DICOMDIR sets, ZIPs, hostile input."""

from __future__ import annotations

import io
import shutil
import threading
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from tests.pacs_node.archive.conftest import settings_with
from tests.pacs_node.archive.synth import make_ct, write_series
from workstation.pacs_node.archive import Archive
from workstation.pacs_node.archive.importing import Importer


def _sop_uids(paths: list[Path]) -> set[str]:
    return {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in paths}


def _stored_uids(archive: Archive) -> set[str]:
    return {
        i.sop_instance_uid
        for s in archive.find_studies()
        for i in archive.study_instances(s.study_instance_uid)
    }


@pytest.fixture
def media(tmp_path: Path) -> dict[str, list[Path]]:
    """Two patients, three series, plus a non-DICOM file, in nested folders."""
    root = tmp_path / "media"
    a = write_series(root / "a" / "s1", 6, patient_name="ALPHA^ONE", patient_id="P1")
    b = write_series(root / "a" / "s2", 4, patient_name="ALPHA^ONE", patient_id="P1")
    c = write_series(root / "b", 5, patient_name="BETA^TWO", patient_id="P2", modality="MR")
    (root / "README.TXT").write_text("viewer instructions")
    return {"root": [root], "dicom": a + b + c}


def test_folder_import_counts_and_second_run_changes_nothing(
    archive: Archive, media: dict[str, list[Path]]
) -> None:
    root = media["root"][0]
    summary = Importer(archive).run([root])
    assert summary.stored == 15 and summary.duplicates == 0
    # A readme beside the images is skipped and noted, not a failure (issue 10 §4).
    assert summary.rejected == [] and summary.ok
    assert [Path(o).name for o in summary.skipped] == ["README.TXT"]
    assert any("skipped, not DICOM: README.TXT" in n for n in summary.notes)
    assert not archive.quarantine.entries()
    assert archive.counts() == {"patients": 2, "studies": 3, "series": 3, "instances": 15}
    assert _stored_uids(archive) == _sop_uids(media["dicom"])
    changes: list[object] = []
    archive.subscribe(changes.extend)
    store_files = sorted(p for p in archive.store_root.rglob("*.dcm"))
    again = Importer(archive).run([root])
    assert again.stored == 0 and again.duplicates == 15
    assert archive.counts()["instances"] == 15
    assert changes == []  # duplicates change nothing
    assert sorted(p for p in archive.store_root.rglob("*.dcm")) == store_files


def test_zip_imports_the_same_as_the_folder(
    settings, media: dict[str, list[Path]], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    root = media["root"][0]
    zpath = tmp_path / "study.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root).as_posix())
    a = Archive.open(settings)
    try:
        from_folder = Importer(a).run([root])
        folder_uids, folder_counts = _stored_uids(a), a.counts()
    finally:
        a.close()
    shutil.rmtree(settings.home)
    b = Archive.open(settings)
    try:
        from_zip = Importer(b).run([zpath])
        assert (from_zip.stored, len(from_zip.rejected)) == (
            from_folder.stored,
            len(from_folder.rejected),
        )
        assert _stored_uids(b) == folder_uids
        assert b.counts() == folder_counts
    finally:
        b.close()


def test_zip_slip_bomb_and_nesting_refused_while_the_rest_imports(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    good = write_series(tmp_path / "src", 3)
    evil = make_ct(patient_name="EVIL^ZIP")
    buf = io.BytesIO()
    evil.save_as(buf, enforce_file_format=True)
    inner2 = io.BytesIO()
    with zipfile.ZipFile(inner2, "w") as z:
        z.writestr("deep.dcm", good[0].read_bytes())
    inner1 = io.BytesIO()
    with zipfile.ZipFile(inner1, "w") as z:
        z.writestr("level2.zip", inner2.getvalue())
        z.writestr("nested-ok.dcm", good[1].read_bytes())
    zpath = tmp_path / "hostile.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in good:
            zf.write(p, f"ok/{p.name}")
        zf.writestr("../../escaped.dcm", buf.getvalue())
        zf.writestr("/abs/escaped2.dcm", buf.getvalue())
        zf.writestr("bomb.dcm", b"\0" * (50 * 1024 * 1024))
        zf.writestr("level1.zip", inner1.getvalue())
    settings = settings_with(sqlite_archive.settings, max_zip_nesting=1)
    sqlite_archive.settings = settings
    summary = Importer(sqlite_archive).run([zpath])
    reasons = " | ".join(r.reason for r in summary.rejected)
    assert "zip slip" in reasons
    assert "zip bomb" in reasons
    assert "nested deeper" in reasons
    assert len(summary.rejected) == 4
    assert summary.stored == 3 and summary.duplicates == 1  # nested-ok.dcm duplicates ok/
    assert sqlite_archive.find_studies() and not any(
        s.patient_name == "EVIL^ZIP" for s in sqlite_archive.find_studies()
    )
    assert not (tmp_path.parent / "escaped.dcm").exists()


def test_zip_total_and_entry_caps(sqlite_archive: Archive, tmp_path: Path) -> None:
    files = write_series(tmp_path / "src", 4)
    zpath = tmp_path / "many.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in files:
            zf.write(p, p.name)
    sqlite_archive.settings = settings_with(sqlite_archive.settings, max_zip_entries=3)
    summary = Importer(sqlite_archive).run([zpath])
    assert summary.stored == 0 and "entries" in summary.rejected[0].reason
    total = sum(p.stat().st_size for p in files[:2]) + 10
    sqlite_archive.settings = settings_with(
        sqlite_archive.settings, max_zip_entries=100, max_zip_total_bytes=total
    )
    summary = Importer(sqlite_archive, workers=1, max_in_flight=1).run([zpath])
    assert summary.stored == 2
    assert all("in total" in r.reason for r in summary.rejected) and len(summary.rejected) == 2


def _file_set(root: Path, count: int) -> list[Path]:
    src = write_series(root.parent / "fs-src", count, patient_name="DIR^SET", patient_id="D1")
    fs = FileSet()
    for p in src:
        fs.add(p)
    fs.write(root)
    return src


def test_dicomdir_imports_exactly_its_referenced_files(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    media = tmp_path / "cd"
    src = _file_set(media, 5)
    # Files on the media that the DICOMDIR does not reference are not imported.
    write_series(media / "EXTRA", 2, patient_name="NOT^REFERENCED", patient_id="X")
    summary = Importer(sqlite_archive).run([media])
    assert summary.stored == 5 and not summary.rejected
    assert _stored_uids(sqlite_archive) == _sop_uids(src)
    assert any("DICOMDIR" in n for n in summary.notes)
    # Naming the DICOMDIR file itself does the same.
    again = Importer(sqlite_archive).run([media / "DICOMDIR"])
    assert again.duplicates == 5 and again.stored == 0


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_dicomdir_entry_outside_the_media_is_refused(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    media = tmp_path / "cd"
    _file_set(media, 3)
    outside = make_ct(patient_name="OUTSIDE^FILE")
    outside.save_as(tmp_path / "OUTSIDE", enforce_file_format=True)
    ds = pydicom.dcmread(media / "DICOMDIR")
    images = [r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    images[0].ReferencedFileID = ["..", "OUTSIDE"]
    ds.save_as(media / "DICOMDIR")
    summary = Importer(sqlite_archive).run([media])
    assert summary.stored == 2
    assert len(summary.rejected) == 1
    assert "outside the media" in summary.rejected[0].reason
    assert not any(s.patient_name == "OUTSIDE^FILE" for s in sqlite_archive.find_studies())


def test_lying_or_broken_dicomdir_falls_back_to_scanning(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    media = tmp_path / "cd"
    _file_set(media, 4)
    victim = next(p for p in sorted(media.rglob("*")) if p.is_file() and p.name != "DICOMDIR")
    victim.unlink()
    summary = Importer(sqlite_archive).run([media])
    assert summary.stored == 3
    assert any("scanned instead" in n for n in summary.notes)
    (media / "DICOMDIR").write_bytes(b"garbage" * 100)
    extra = write_series(media / "NEW", 1, patient_name="NEW^ONE", patient_id="N")
    summary = Importer(sqlite_archive).run([media])
    assert summary.stored == 1 and summary.duplicates == 3
    assert any("cannot be read" in n for n in summary.notes)
    assert _sop_uids(extra) <= _stored_uids(sqlite_archive)


def test_progress_and_cancel(sqlite_archive: Archive, tmp_path: Path) -> None:
    files = write_series(tmp_path / "src", 30)
    cancel = threading.Event()
    seen = []

    def progress(p):  # type: ignore[no-untyped-def]
        seen.append(p)
        if p.files_done >= 5:
            cancel.set()

    summary = Importer(sqlite_archive, workers=1, max_in_flight=1).run(
        [tmp_path / "src"], progress=progress, cancel=cancel
    )
    assert summary.cancelled
    assert 5 <= summary.stored < 30
    assert seen[0].files_total == 30 and seen[0].files_done == 0
    done = [p.files_done for p in seen]
    assert done == sorted(done)
    assert seen[-1].bytes_done > 0 and seen[-1].rate > 0 and seen[-1].eta_seconds is not None
    rest = Importer(sqlite_archive).run([tmp_path / "src"])
    assert rest.stored + summary.stored == 30 and rest.duplicates == summary.stored
    assert _stored_uids(sqlite_archive) == _sop_uids(files)


def test_garbage_and_truncated_files_end_with_a_reason(
    sqlite_archive: Archive, tmp_path: Path
) -> None:
    src = tmp_path / "bad"
    good = write_series(src, 2)
    data = good[0].read_bytes()
    (src / "truncated.dcm").write_bytes(data[:200])
    (src / "empty.dcm").write_bytes(b"")
    (src / "IM9").write_bytes(data[:300])  # DICOM by its marker, not by its name
    (src / "random.bin").write_bytes(bytes(range(256)) * 40)
    summary = Importer(sqlite_archive).run([src])
    assert summary.stored == 2
    by_name = {Path(r.origin).name: r for r in summary.rejected}
    assert set(by_name) == {"truncated.dcm", "empty.dcm", "IM9"}
    assert all(r.reason for r in by_name.values())
    assert all(r.quarantine_path is not None for r in by_name.values())  # broken DICOM: kept
    # Not DICOM at all (no marker, no data set start, not named .dcm): a note, not a reject.
    assert [Path(o).name for o in summary.skipped] == ["random.bin"]
    assert summary.to_json()["skipped"] == 1


def test_zip_of_a_cd_skips_its_dicomdir(sqlite_archive: Archive, tmp_path: Path) -> None:
    media = tmp_path / "cd"
    src = _file_set(media, 3)
    zpath = tmp_path / "cd.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in sorted(media.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(media).as_posix())
    summary = Importer(sqlite_archive).run([zpath])
    assert summary.stored == 3 and not summary.rejected
    assert _stored_uids(sqlite_archive) == _sop_uids(src)
