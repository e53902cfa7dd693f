"""Import the shared public test data and pydicom's bundled files through the CLI.

Expected counts are computed here independently with pydicom (FileSet for DICOMDIRs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from workstation.cli import main
from workstation.config import load_settings
from workstation.pacs_node.archive import Archive, StoreStatus
from workstation.pacs_node.archive.check import check_archive
from workstation.pacs_node.archive.normalize import fold

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


def _expected(root: Path) -> dict[str, set]:
    """Distinct patients/studies/series/instances a correct import must produce."""
    files: list[Path] = []
    file_set_roots = {p.parent for p in root.rglob("DICOMDIR")}
    for p in sorted(root.rglob("*")):
        if not p.is_file() or any(r in p.parents or r == p.parent for r in file_set_roots):
            continue
        files.append(p)
    for dicomdir in sorted(root.rglob("DICOMDIR")):
        files.extend(Path(i.path) for i in FileSet(pydicom.dcmread(dicomdir)))
    out: dict[str, set] = {"patients": set(), "studies": set(), "series": set(), "instances": set()}
    for p in files:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            # A bare dataset (no preamble, no file meta) starting with group 0008 is
            # accepted by the importer, which gives it a file meta.
            if p.read_bytes()[:2] != b"\x08\x00":
                continue
            ds = pydicom.dcmread(p, stop_before_pixels=True, force=True)
        except Exception:  # noqa: BLE001 - unreadable: not expected in the archive
            continue
        sop = ds.get("SOPInstanceUID") or ds.file_meta.get("MediaStorageSOPInstanceUID")
        cls = ds.get("SOPClassUID") or ds.file_meta.get("MediaStorageSOPClassUID")
        if not (sop and cls and ds.get("StudyInstanceUID") and ds.get("SeriesInstanceUID")):
            continue
        if cls == MEDIA_STORAGE_DIRECTORY or sop in out["instances"]:
            continue
        out["instances"].add(sop)
        out["series"].add(ds.SeriesInstanceUID)
        out["studies"].add(ds.StudyInstanceUID)
        out["patients"].add(
            (
                str(ds.get("PatientID", "")),
                fold(str(ds.get("PatientName", ""))),
                str(ds.get("PatientBirthDate", "") or ""),
            )
        )
    return out


@pytest.fixture(scope="module")
def imported(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("ws-testdata")
    saved = os.environ.get("WORKSTATION_HOME")
    os.environ["WORKSTATION_HOME"] = str(home)
    try:
        out_file = home / "summary.json"
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["import", str(testdata), "--json"])
        out_file.write_text(buf.getvalue())
        summary = json.loads(buf.getvalue())
        settings = load_settings(home=home)
        archive = Archive.open(settings)
        yield {"code": code, "summary": summary, "archive": archive, "home": home}
        archive.close()
    finally:
        if saved is None:
            os.environ.pop("WORKSTATION_HOME", None)
        else:
            os.environ["WORKSTATION_HOME"] = saved


def test_testdata_counts(imported: dict, testdata: Path) -> None:
    expected = _expected(testdata)
    counts = imported["archive"].counts()
    assert counts == {k: len(v) for k, v in expected.items()}
    s = imported["summary"]
    assert s["stored"] == counts["instances"]
    assert s["stored"] + s["duplicates"] + s["rejected"] + s["skipped"] == s["files_total"]
    assert imported["code"] == 1  # some inputs (malformed files) are rejected


def test_dicomdir_sets_yield_exactly_their_instances(testdata: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from workstation.pacs_node.archive.importing import Importer

    fs_root = testdata / "dicomdir" / "pydicom-dicomdirtests"
    referenced = set()
    for dicomdir in fs_root.rglob("DICOMDIR"):
        referenced |= {i.SOPInstanceUID for i in FileSet(pydicom.dcmread(dicomdir))}
    with Archive.open(settings) as archive:
        summary = Importer(archive).run([fs_root])
        assert summary.stored == len(referenced) and not summary.rejected
        stored = {
            i.sop_instance_uid
            for st in archive.find_studies()
            for i in archive.study_instances(st.study_instance_uid)
        }
        assert stored == referenced


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_malformed_file_is_stored_or_quarantined_with_a_reason(
    imported: dict, testdata: Path
) -> None:
    rejected = {Path(r["origin"]): r for r in imported["summary"]["rejected_files"]}
    archive: Archive = imported["archive"]
    for path in sorted((testdata / "malformed").iterdir()):
        if path in rejected:
            r = rejected[path]
            assert r["reason"], path
            assert r["quarantine_path"] and Path(r["quarantine_path"]).is_file(), path
            reason_file = Path(r["quarantine_path"]).with_suffix(".txt").read_text()
            assert r["reason"] in reason_file
        else:
            sop = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
            assert archive.instance_file(sop).is_file(), path


def test_archive_check_is_clean_after_import(imported: dict) -> None:
    report = check_archive(imported["archive"])
    assert not report.damaged, report.to_json()
    assert report.files_checked == imported["archive"].counts()["instances"]


def test_log_holds_no_patient_names_or_ids(imported: dict) -> None:
    archive: Archive = imported["archive"]
    log = (imported["home"] / "logs" / "workstation.log").read_text(encoding="utf-8")
    assert "import finished" in log
    secrets = set()
    for rec in archive.query("PATIENT", {"PatientName": "", "PatientID": ""}, limit=10_000):
        for value in (rec["PatientName"], rec["PatientID"]):
            if len(value) >= 4 and not value.isdigit():
                secrets.add(value)
    assert secrets
    leaked = sorted(s for s in secrets if s in log)
    assert not leaked


def test_cyrillic_and_charset_names_are_searchable(imported: dict) -> None:
    archive: Archive = imported["archive"]
    names = [s.patient_name for s in archive.find_studies()]
    assert names
    for name in names:
        if name.strip():
            hits = archive.find_studies(
                __import__("workstation.pacs_node.archive", fromlist=["StudyQuery"]).StudyQuery(
                    patient_name=name.lower()
                )
            )
            assert any(h.patient_name == name for h in hits), name


def test_pydicom_bundled_files_never_crash(settings) -> None:  # type: ignore[no-untyped-def]
    from workstation.pacs_node.archive.importing import Importer

    bundled = Path(pydicom.__file__).parent / "data" / "test_files"
    with Archive.open(settings) as archive:
        summary = Importer(archive).run([bundled])
        assert summary.stored > 30
        assert (
            summary.stored + summary.duplicates + len(summary.rejected) + len(summary.skipped)
            == summary.files_total
        )
        assert all(r.reason for r in summary.rejected)
        assert archive.counts()["instances"] == summary.stored
        assert not check_archive(archive).damaged
        statuses = {r.status for r in summary.rejected}
        assert statuses <= {s.value for s in StoreStatus}
