"""DicomWebNode against the central Orthanc's DICOMweb behind the token filter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import RLELossless

from tests.pacs_node.dimse.data import write_study
from workstation.config import Settings
from workstation.pacs_node.dicomweb.client import DicomWebNode
from workstation.pacs_node.dicomweb.errors import NotAuthorized
from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
from workstation.pacs_node.remote import Outcome, Progress, QueryLevel

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres]


class RotatingTokens:
    """A provider whose first token is stale; a 401 makes it hand out a fresh one."""

    def __init__(self, stale: str, fresh: str) -> None:
        self.current, self.fresh, self.rejected = stale, fresh, []

    def access_token(self) -> str | None:
        return self.current

    def token_rejected(self, token: str) -> None:
        self.rejected.append(token)
        self.current = self.fresh


@pytest.fixture
def archive(settings: Settings) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(settings) as a:
        yield a


def _node(orthanc: Any, archive: Any = None, role: str = "operator", **kw: Any) -> DicomWebNode:
    return DicomWebNode(
        orthanc.dicomweb_url, StaticTokenProvider(orthanc.token(role)), archive=archive, **kw
    )


def test_stow_qido_wado_round_trip(orthanc: Any, archive: Any, tmp_path: Path) -> None:
    files = write_study(
        tmp_path / "s", 7, syntaxes=(None, RLELossless), patient_name="IVANOV^IGOR",
        patient_id="P-DW-1", description="CHEST CT",
    )  # fmt: skip
    study_uid = dcmread(files[0]).StudyInstanceUID
    up = _node(orthanc, stow_batch_instances=3)
    seen: list[Progress] = []
    sent = up.send(files, progress=seen.append)
    assert sent.ok and sent.completed == 7, sent.as_dict()
    assert [p.done for p in seen] == list(range(1, 8))
    again = up.send(files[:2])  # idempotent: sending again is confirmed, not doubled
    assert again.ok, again.as_dict()

    reader = _node(orthanc, archive, role="doctor")
    studies = reader.find(QueryLevel.STUDY, {"PatientName": "IVANOV^I*", "PatientID": "P-DW-1"})
    assert [str(s.StudyInstanceUID) for s in studies] == [study_uid]
    assert reader.find(QueryLevel.STUDY, {"PatientName": "IVANOV^X*", "PatientID": "P-DW-1"}) == []
    series = reader.find(QueryLevel.SERIES, {"StudyInstanceUID": study_uid})
    assert len(series) == 1
    instances = reader.find(
        QueryLevel.IMAGE,
        {"StudyInstanceUID": study_uid, "SeriesInstanceUID": str(series[0].SeriesInstanceUID)},
    )
    assert len(instances) == 7

    progress: list[Progress] = []
    got = reader.retrieve(study_uid, progress=progress.append)
    assert got.ok and got.completed == 7, got.as_dict()
    assert {o.sop_instance_uid for o in got.outcomes} == {dcmread(f).SOPInstanceUID for f in files}
    assert archive.counts()["instances"] == 7
    stored = archive.get_instance(dcmread(files[1]).SOPInstanceUID)
    assert stored.transfer_syntax_uid == RLELossless  # as stored upstream, not transcoded

    meta = reader.metadata(study_uid)
    assert len(meta) == 7 and {str(m.PatientID) for m in meta} == {"P-DW-1"}

    first = dcmread(files[0])
    frames = reader.frames(study_uid, first.SeriesInstanceUID, first.SOPInstanceUID, [1])
    assert frames[0] == first.PixelData
    assert np.frombuffer(frames[0], np.int16).shape == (16 * 16,)

    one = reader.retrieve(study_uid, str(first.SeriesInstanceUID), [str(first.SOPInstanceUID)])
    assert [o.outcome for o in one.outcomes] == [Outcome.DUPLICATE]


def test_bad_token_is_not_authorized_and_a_fresh_one_is_used(orthanc: Any, tmp_path: Path) -> None:
    bad = DicomWebNode(orthanc.dicomweb_url, StaticTokenProvider("not-a-jwt"))
    with pytest.raises(NotAuthorized):
        bad.find(QueryLevel.STUDY, {"PatientID": "P-NOBODY"})
    tokens = RotatingTokens("expired-or-garbage", orthanc.token("operator"))
    node = DicomWebNode(orthanc.dicomweb_url, tokens)
    result = node.send(write_study(tmp_path / "s", 2, patient_id="P-DW-2"))
    assert result.ok, result.as_dict()
    assert tokens.rejected == ["expired-or-garbage"]


def test_doctor_may_not_stow_images(orthanc: Any, tmp_path: Path) -> None:
    result = _node(orthanc, role="doctor").send(write_study(tmp_path / "s", 2))
    assert not result.ok and result.failed == 2
    assert "refused access" in result.error


def test_unreachable_server_is_a_result_not_a_crash(tmp_path: Path) -> None:
    from tests.harness.ports import free_port

    node = DicomWebNode(f"http://127.0.0.1:{free_port()}/dicom-web", timeout_s=2)
    result = node.send(write_study(tmp_path / "s", 3))
    assert result.failed == 3 and "cannot be reached" in result.error
