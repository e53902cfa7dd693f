"""Our SCU and SCP against the real central Orthanc (token filter, PostgreSQL index):
C-ECHO, C-STORE, C-FIND, C-GET, and C-MOVE from Orthanc into our SCP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import RLELossless

from tests.pacs_node.dimse.conftest import NODE_AET
from tests.pacs_node.dimse.data import write_study
from workstation.config import PeerNode, Settings
from workstation.pacs_node.remote import Outcome, QueryLevel

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres]


@pytest.fixture
def with_orthanc(node_config: Settings, orthanc: Any) -> Settings:
    peer = PeerNode(
        name="central", ae_title=orthanc.aet, host="127.0.0.1", port=orthanc.dicom_port,
        may_store=True, may_query=True, may_retrieve=True,
    )  # fmt: skip
    peers = (*node_config.node.peers, peer)
    return dataclasses.replace(node_config, node=dataclasses.replace(node_config.node, peers=peers))


@pytest.fixture
def our_node(with_orthanc: Settings, orthanc: Any) -> Iterator[tuple[Any, Any]]:
    """Our SCP, declared to Orthanc as a modality it may C-MOVE to."""
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.service import start_node_service

    with Archive.open(with_orthanc) as archive, start_node_service(with_orthanc, archive) as svc:
        orthanc.add_modality(
            "klinika-ws-test", NODE_AET, svc.port, AllowFind=True, AllowMove=True, AllowGet=True
        )
        try:
            yield archive, svc
        finally:
            orthanc.remove_modality("klinika-ws-test")


def _central(settings: Settings, archive: Any) -> Any:
    from workstation.pacs_node.dimse.scu import DimseNode

    return DimseNode(settings, settings.peer("central"), archive=archive)  # type: ignore[arg-type]


def test_echo_store_find_get_move(
    with_orthanc: Settings, our_node: tuple[Any, Any], orthanc: Any, tmp_path: Path
) -> None:
    archive, _svc = our_node
    files = write_study(tmp_path / "s", 6, syntaxes=(None, RLELossless), patient_id="P-ORTHANC")
    study_uid = dcmread(files[0]).StudyInstanceUID
    central = _central(with_orthanc, archive)

    assert central.echo() == 0
    sent = central.store(files)
    assert sent.ok and sent.completed == 6, sent.as_dict()

    found = central.find(QueryLevel.STUDY, {"StudyInstanceUID": study_uid})
    assert len(found) == 1 and int(found[0].NumberOfStudyRelatedInstances) == 6
    series = central.find(QueryLevel.SERIES, {"StudyInstanceUID": study_uid})
    assert len(series) == 1

    got = central.get(study_uid)
    assert got.ok and got.completed == 6, got.as_dict()
    assert {o.sop_instance_uid for o in got.outcomes} == {dcmread(f).SOPInstanceUID for f in files}
    assert all(o.outcome is Outcome.STORED for o in got.outcomes)
    assert archive.counts()["instances"] == 6

    # Orthanc C-MOVEs into our SCP; instances already here are duplicates, not errors.
    moved = central.move(NODE_AET, study_uid)
    assert moved.ok and moved.completed == 6, moved.as_dict()
    assert archive.counts()["instances"] == 6


def test_move_of_a_new_study_into_our_scp(
    with_orthanc: Settings, our_node: tuple[Any, Any], orthanc: Any, tmp_path: Path
) -> None:
    archive, _svc = our_node
    files = write_study(tmp_path / "m", 5)
    r = orthanc.session("admin").post(
        f"{orthanc.http_url}/instances", data=files[0].read_bytes(), timeout=30
    )
    assert r.status_code == 200, r.text
    for f in files[1:]:
        orthanc.session("admin").post(
            f"{orthanc.http_url}/instances", data=f.read_bytes(), timeout=30
        )
    study_uid = dcmread(files[0]).StudyInstanceUID
    moved = _central(with_orthanc, archive).move(NODE_AET, study_uid)
    assert moved.ok and moved.completed == 5, moved.as_dict()
    assert {r.sop_instance_uid for r in archive.study_instances(study_uid)} == {
        dcmread(f).SOPInstanceUID for f in files
    }
