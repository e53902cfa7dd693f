"""A C-MOVE from a real Orthanc into our SCP, cut by ``kill -9`` of the moving Orthanc
after a few instances (issue 16): our SCU ends with the lost association in words and
the count of what the peer delivered, what arrived is stored, indexed and counted, the
archive is consistent, and the same C-MOVE after Orthanc's restart completes the study."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from tests.harness.faults import kill_9, thaw
from tests.pacs_node.dimse.conftest import NODE_AET
from tests.pacs_node.dimse.data import write_study
from workstation.config import PeerNode, Settings
from workstation.pacs_node.archive.check import check_archive

pytestmark = [pytest.mark.network, pytest.mark.orthanc]

COUNT = 40
KILL_AFTER = 5
DIMSE_TIMEOUT_S = 5.0


@pytest.fixture
def mover(orthanc_factory: Any) -> Iterator[Any]:
    """An Orthanc of its own (killed and restarted here), holding a 40-instance study."""
    server = orthanc_factory(token_filter=False, name="move-faults")
    yield server
    if server.process is not None:
        thaw(server.process.pid)


def _upload(server: Any, files: list[Path]) -> None:
    with server.session() as http:
        for f in files:
            r = http.post(f"{server.http_url}/instances", data=f.read_bytes(), timeout=30)
            assert r.status_code == 200, r.text


def test_a_c_move_cut_by_kill_9_of_the_moving_orthanc_keeps_what_arrived_and_a_retry_completes(
    node_config: Settings, mover: Any, tmp_path: Path
) -> None:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.scu import DimseNode
    from workstation.pacs_node.dimse.service import start_node_service

    files = write_study(tmp_path / "move-study", COUNT, size=512, patient_id="P-FAULT-MOVE")
    _upload(mover, files)
    study_uid = str(dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    settings = dataclasses.replace(
        node_config,
        node=dataclasses.replace(
            node_config.node, dimse_timeout=DIMSE_TIMEOUT_S, network_timeout=DIMSE_TIMEOUT_S
        ),
    )
    peer = PeerNode(name="mover", ae_title=mover.aet, host="127.0.0.1", port=mover.dicom_port,
                    may_retrieve=True)  # fmt: skip
    pid = mover.process.pid
    killed = threading.Event()

    def _progress(p: Any) -> None:
        if p.done >= KILL_AFTER and not killed.is_set():
            killed.set()
            kill_9(pid)

    with Archive.open(settings) as archive, start_node_service(settings, archive) as svc:
        mover.add_modality("ws", NODE_AET, svc.port, AllowMove=True, AllowFind=True)
        node = DimseNode(settings, peer, archive=archive)
        try:
            started = time.monotonic()
            cut = node.move(NODE_AET, study_uid, progress=_progress)
            assert killed.is_set() and time.monotonic() - started < DIMSE_TIMEOUT_S + 30
            assert not cut.ok and cut.status is None, cut.as_dict()
            assert "was lost: it closed the connection, or did not answer" in cut.error
            mover.process.wait(timeout=10)
            # What arrived is stored and indexed; the peer's acknowledged count is reported.
            kept = {r.sop_instance_uid for r in archive.study_instances(study_uid)}
            assert KILL_AFTER <= cut.completed <= len(kept) < COUNT, cut.as_dict()
            assert archive.counts()["instances"] == len(kept)
            assert not check_archive(archive).damaged
            # Back: the same C-MOVE completes the study; what was kept is a duplicate.
            mover.restart()
            mover.add_modality("ws", NODE_AET, svc.port, AllowMove=True, AllowFind=True)
            again = node.move(NODE_AET, study_uid)
            assert again.ok and again.completed == COUNT, again.as_dict()
        finally:
            thaw(mover.process.pid)
        every = {str(dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in files}
        assert {r.sop_instance_uid for r in archive.study_instances(study_uid)} == every
        assert archive.counts()["instances"] == COUNT
        assert not check_archive(archive).damaged
