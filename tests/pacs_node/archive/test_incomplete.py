"""Files cut short are stored with an "incomplete" mark, or quarantined (issue 16, Build 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from tests.pacs_node.archive.conftest import settings_with
from tests.pacs_node.archive.synth import make_ct, write_series
from workstation.cli import exit_codes, main
from workstation.config import Settings
from workstation.pacs_node.archive import Archive, part10
from workstation.pacs_node.archive.completeness import incomplete_reason
from workstation.pacs_node.archive.fastheader import read_header
from workstation.pacs_node.archive.importing import Importer
from workstation.pacs_node.archive.results import Received, StoreStatus


def _media(folder: Path) -> dict[str, Path]:
    """Three whole CTs, one cut inside its pixel data, one whose pixel data is too short."""
    good = write_series(folder, 3, size=64)
    study = str(pydicom.dcmread(good[0]).StudyInstanceUID)
    cut = folder / "cut.dcm"
    cut.write_bytes(good[0].read_bytes()[:-3000])  # (same UIDs as good[0]: give it its own)
    ds = pydicom.dcmread(cut, force=True)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds.InstanceNumber = 8
    ds.save_as(cut, enforce_file_format=True)
    cut.write_bytes(cut.read_bytes()[:-3000])
    short = make_ct(study_uid=study, instance_number=9, size=16)
    short.Rows = short.Columns = 64  # 16x16 pixels declared as 64x64
    short.save_as(folder / "short.dcm", enforce_file_format=True)
    return {"cut": cut, "short": folder / "short.dcm", "study": Path(study)}


def test_cut_and_short_files_are_stored_marked_and_counted(
    capsys: pytest.CaptureFixture[str], settings: Settings, tmp_path: Path
) -> None:
    media = _media(tmp_path / "media")
    with Archive.open(settings) as archive:
        summary = Importer(archive).run([tmp_path / "media"])
        assert summary.stored == 5 and not summary.rejected
        study_uid = str(media["study"])
        marks = {i.instance_number: i.incomplete for i in archive.study_instances(study_uid)}
        assert marks[1] == marks[2] == marks[3] == ""
        assert "pixel data is shorter" in marks[9] and "(512 of 8192 bytes)" in marks[9]
        assert "cut short" in marks[8]
        assert archive.get_study(study_uid).num_incomplete == 2
    assert main(["studies", "--json"]) == exit_codes.OK
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["incomplete"] == 2 and listed["num_instances"] == 5


def test_with_policy_quarantine_they_are_refused_into_quarantine(
    settings: Settings, tmp_path: Path
) -> None:
    media = _media(tmp_path / "media")
    with Archive.open(settings_with(settings, incomplete_policy="quarantine")) as archive:
        summary = Importer(archive).run([tmp_path / "media"])
        assert summary.stored == 3
        by_name = {Path(r.origin).name: r for r in summary.rejected}
        assert set(by_name) == {"cut.dcm", "short.dcm"}
        assert by_name["short.dcm"].quarantine_path.read_bytes() == media["short"].read_bytes()
        assert "cut short" in by_name["cut.dcm"].reason
        assert archive.get_study(str(media["study"])).num_incomplete == 0


def test_a_received_data_set_cut_short_is_marked(settings: Settings) -> None:
    ds = make_ct(size=64)
    data = part10.encode_dataset(ds)[0]
    body = data[part10.meta_end(data) :][:-100]
    received = Received("1.2.840.10008.1.2.1", str(ds.SOPClassUID), str(ds.SOPInstanceUID))
    with Archive.open(settings) as archive:
        result = archive.store_bytes(body, source="c-store", received=received)
        assert result.status is StoreStatus.STORED
        assert "cut short" in archive.get_instance(str(ds.SOPInstanceUID)).incomplete


def test_whole_files_of_every_kind_are_not_marked(testdata: Path) -> None:
    """No false alarm on the shared test data (native, encapsulated, multi-frame, colour);
    the same files cut short are all found out."""
    checked = 0
    for path in sorted(testdata.rglob("*.dcm"))[:400]:
        if "malformed" in path.parts:
            continue
        data = path.read_bytes()
        meta = part10.read_meta(data)
        if meta is None or meta[1].get(0x0010, "") in (
            "1.2.840.10008.1.2.1.99",
            "1.2.840.10008.1.2.2",
        ):
            continue
        body_at, values = meta
        syntax = values.get(0x0010, "")
        assert incomplete_reason(data, body_at, syntax) == "", path
        # Going on from where the fast header reader stopped gives the same answer.
        fast = read_header(data, body_at, syntax)
        assert incomplete_reason(data, body_at, syntax, fast) == "", path
        pixels_at = data.rfind(b"\xe0\x7f\x10\x00")
        if pixels_at > body_at and len(data) - pixels_at > 200:  # cut inside the pixel data
            cut = data[: pixels_at + 100]
            assert incomplete_reason(cut, body_at, syntax), path
            assert incomplete_reason(cut, body_at, syntax, read_header(cut, body_at, syntax)), path
        checked += 1
    assert checked > 50
