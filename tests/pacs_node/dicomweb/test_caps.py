"""Caps on what the central's DICOMweb answers may make us hold: QIDO result counts and
the size of one WADO-RS part, against the real token-checked Orthanc."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.pacs_node.dimse.data import write_study
from workstation.config import Settings
from workstation.pacs_node.dicomweb.client import DicomWebNode
from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
from workstation.pacs_node.remote import QueryLevel

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres]


@pytest.fixture
def archive(settings: Settings) -> Iterator[Any]:
    from workstation.pacs_node.archive.archive import Archive

    with Archive.open(settings) as a:
        yield a


def _node(orthanc: Any, role: str = "operator", **kw: Any) -> DicomWebNode:
    return DicomWebNode(orthanc.dicomweb_url, StaticTokenProvider(orthanc.token(role)), **kw)


def test_qido_results_stop_at_the_cap_and_say_so(orthanc: Any, tmp_path: Path) -> None:
    pid = f"CAP-{uuid.uuid4().hex[:10]}"
    files = [write_study(tmp_path / f"s{i}", 1, patient_id=pid)[0] for i in range(5)]
    assert _node(orthanc).send(files).ok

    capped = _node(orthanc, "doctor", max_results=3).find(QueryLevel.STUDY, {"PatientID": pid})
    assert len(capped) == 3 and capped.truncated and capped.cap == 3
    whole = _node(orthanc, "doctor", max_results=10).find(QueryLevel.STUDY, {"PatientID": pid})
    assert len(whole) == 5 and not whole.truncated
    limited = _node(orthanc, "doctor", max_results=3).find(
        QueryLevel.STUDY, {"PatientID": pid}, limit=2
    )
    assert len(limited) == 2 and not limited.truncated


def test_a_wado_part_over_the_cap_is_refused_with_a_clear_error(
    orthanc: Any, archive: Any, tmp_path: Path
) -> None:
    files = write_study(tmp_path / "big", 2, size=64)  # 64x64x2 bytes of pixels each
    assert _node(orthanc).send(files).ok
    study_uid = str(dcmread(files[0]).StudyInstanceUID)

    small = _node(orthanc, "doctor", archive=archive, max_instance_bytes=4096)
    got = small.retrieve(study_uid)
    assert not got.ok and got.completed == 0
    assert "larger than 4096 bytes" in (got.error or "") and "central.max_part_bytes" in got.error
    assert archive.counts()["instances"] == 0

    roomy = _node(orthanc, "doctor", archive=archive)
    again = roomy.retrieve(study_uid)
    assert again.ok and again.completed == 2, again.as_dict()
