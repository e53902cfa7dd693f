"""The CLI verbs: import, studies, archive check, archive export (in-process)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from tests.pacs_node.archive.synth import write_series
from workstation.cli import exit_codes, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.fixture
def two_studies(ws_home: Path, tmp_path: Path) -> dict[str, list[Path]]:
    ct = write_series(
        tmp_path / "in" / "ct",
        4,
        patient_name="Сидоров^Олег",
        patient_id="S1",
        study_date="20240301",
        modality="CT",
    )
    mr = write_series(
        tmp_path / "in" / "mr",
        3,
        patient_name="NAKAMURA^KEN",
        patient_id="N1",
        study_date="20230105",
        modality="MR",
    )
    return {"ct": ct, "mr": mr, "root": [tmp_path / "in"]}


def test_import_and_studies_json(capsys, two_studies) -> None:  # type: ignore[no-untyped-def]
    code, out = run(capsys, "import", str(two_studies["root"][0]), "--json")
    assert code == exit_codes.OK
    summary = json.loads(out)
    assert (summary["stored"], summary["duplicates"], summary["rejected"]) == (7, 0, 0)
    code, out = run(capsys, "studies", "--json")
    studies = json.loads(out)
    assert code == 0 and len(studies) == 2
    for key in (
        "study_instance_uid",
        "patient_id",
        "patient_name",
        "study_date",
        "modalities",
        "num_series",
        "num_instances",
    ):
        assert all(key in s for s in studies)
    by_pid = {s["patient_id"]: s for s in studies}
    assert by_pid["S1"]["patient_name"] == "Сидоров^Олег"
    assert by_pid["S1"]["modalities"] == ["CT"] and by_pid["S1"]["num_instances"] == 4
    assert [
        s["patient_id"]
        for s in json.loads(run(capsys, "studies", "--json", "--patient", "сидор")[1])
    ] == ["S1"]
    assert [
        s["patient_id"] for s in json.loads(run(capsys, "studies", "--json", "--modality", "MR")[1])
    ] == ["N1"]
    assert [
        s["patient_id"]
        for s in json.loads(run(capsys, "studies", "--json", "--date", "20240101-20241231")[1])
    ] == ["S1"]
    assert json.loads(run(capsys, "studies", "--json", "--date", "-20221231")[1]) == []
    code, out = run(capsys, "studies")
    assert "Сидоров Олег" in out and "NAKAMURA KEN" in out
    assert run(capsys, "studies", "--date", "yesterday")[0] == exit_codes.USAGE


def test_import_with_rejects_exits_partial(capsys, two_studies, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "in" / "broken.dcm"
    bad.write_bytes(two_studies["ct"][0].read_bytes()[:300])
    code, out = run(capsys, "import", str(tmp_path / "in"))
    assert code == exit_codes.PARTIAL
    assert "broken.dcm" in out and "quarantine" in out
    assert run(capsys, "import")[0] == exit_codes.USAGE


def test_archive_check_detects_and_repairs(capsys, two_studies, ws_home) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "import", str(two_studies["root"][0]))
    code, out = run(capsys, "archive", "check", "--json")
    assert code == 0 and json.loads(out)["files_checked"] == 7
    store = ws_home / "store"
    files = sorted(p for p in store.rglob("*.dcm"))
    files[0].unlink()  # a lost file
    with open(files[1], "r+b") as fh:  # a damaged file (same size)
        fh.seek(500)
        fh.write(b"XXXX")
    orphan = store / "ab" / "cd" / ("abcd" + "0" * 28 + ".dcm")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    code, out = run(capsys, "archive", "check", "--json")
    report = json.loads(out)
    assert code == exit_codes.DAMAGED
    assert len(report["missing_files"]) == 1 and len(report["corrupt_files"]) == 1
    assert len(report["orphan_files"]) == 1
    code, out = run(capsys, "archive", "check", "--repair")
    assert code == 0 and "Repaired" in out
    code, out = run(capsys, "archive", "check", "--json")
    assert code == 0 and json.loads(out)["files_checked"] == 5
    assert not orphan.exists()
    studies = json.loads(run(capsys, "studies", "--json")[1])
    assert sum(s["num_instances"] for s in studies) == 5
    # Importing the media again brings the lost instances back.
    again = json.loads(run(capsys, "import", str(two_studies["root"][0]), "--json")[1])
    assert again["stored"] == 2 and again["duplicates"] == 5


def test_export_zip_dicomdir_and_anonymize(capsys, two_studies, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "import", str(two_studies["root"][0]))
    studies = json.loads(run(capsys, "studies", "--json", "--patient-id", "S1")[1])
    uid = studies[0]["study_instance_uid"]
    code, out = run(capsys, "archive", "export", uid, "--to", str(tmp_path / "out.zip"), "--json")
    assert code == 0 and json.loads(out)["files"] == 4
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        names = zf.namelist()
    assert names == [f"ST000001/SE000001/IM{i:06d}.dcm" for i in range(1, 5)]
    code, _ = run(
        capsys, "archive", "export", uid, "--to", str(tmp_path / "cd"), "--dicomdir", "--anonymize"
    )
    assert code == 0
    fs = FileSet(pydicom.dcmread(tmp_path / "cd" / "DICOMDIR"))
    exported = [inst.load() for inst in fs]
    assert len(exported) == 4
    assert {str(d.StudyInstanceUID) for d in exported} != {uid}
    assert len({str(d.StudyInstanceUID) for d in exported}) == 1
    assert len({str(d.SeriesInstanceUID) for d in exported}) == 1
    originals = {pydicom.dcmread(p).SOPInstanceUID for p in two_studies["ct"]}
    assert not originals & {str(d.SOPInstanceUID) for d in exported}
    for d in exported:
        assert d.PatientName == "ANONYMOUS" and d.PatientID.startswith("ANON")
        assert d.PatientIdentityRemoved == "YES"
        assert "ReferringPhysicianName" not in d or not d.ReferringPhysicianName
        assert "Сидоров" not in str(d)
        assert d.FrameOfReferenceUID != pydicom.dcmread(two_studies["ct"][0]).FrameOfReferenceUID
    # The anonymised copy imports as a study of its own.
    code, out = run(capsys, "import", str(tmp_path / "cd"), "--json")
    assert code == 0 and json.loads(out)["stored"] == 4
    assert (
        run(capsys, "archive", "export", "1.2.3.4", "--to", str(tmp_path / "x"))[0]
        == exit_codes.NOT_FOUND
    )
