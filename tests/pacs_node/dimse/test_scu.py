"""Our SCU: against dcmtk storescp, and against a second node of ours (find/get/move)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless, RLELossless

from tests.harness.ports import free_port, port_open, wait_until
from tests.pacs_node.dimse.conftest import DCMTK_AET, NODE_AET, received_files, wait_for_files
from tests.pacs_node.dimse.data import write_study
from workstation.config import PeerNode, Settings, ensure_home, load_settings
from workstation.pacs_node.remote import CancelToken, Outcome, Progress, QueryLevel

pytestmark = pytest.mark.network


def _client_settings(tmp_path: Path, node_config: Settings, name: str = "client") -> Settings:
    """A second workstation (own home and archive) whose AE table knows our node."""
    base = load_settings(home=tmp_path / name)
    peers = (
        PeerNode(name="node", ae_title=NODE_AET, host="127.0.0.1", port=node_config.node.port),
        PeerNode(name="dcmtk", ae_title=DCMTK_AET, host="127.0.0.1",
                 port=node_config.node.peers[0].port),
    )  # fmt: skip
    s = dataclasses.replace(
        base,
        node=dataclasses.replace(
            base.node, ae_title=name.upper()[:16], port=free_port(), bind_address="127.0.0.1",
            peers=peers, acse_timeout=10.0, network_timeout=10.0,
        ),
    )  # fmt: skip
    ensure_home(s)
    return s


@pytest.fixture
def served(node_config: Settings, tmp_path: Path) -> Settings:
    """node_config whose AE table lets the client query, retrieve and receive moves."""
    client_port = free_port()
    peers = (
        *node_config.node.peers,
        PeerNode(name="client", ae_title="CLIENT", host="127.0.0.1", port=client_port,
                 may_query=True, may_retrieve=True, move_destination=True),
    )  # fmt: skip
    cfg = dataclasses.replace(node_config, node=dataclasses.replace(node_config.node, peers=peers))
    return cfg


@pytest.fixture
def served_node(served: Settings) -> Iterator[tuple[Settings, Any, Any]]:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.service import start_node_service

    with Archive.open(served) as archive, start_node_service(served, archive) as svc:
        wait_until(lambda: port_open(svc.port), 10, "node")
        yield served, archive, svc


@pytest.fixture
def client(
    served_node: tuple[Settings, Any, Any], tmp_path: Path
) -> Iterator[tuple[Settings, Any]]:
    from workstation.pacs_node.archive.archive import Archive

    served, _archive, _svc = served_node
    cs = _client_settings(tmp_path, served)
    port = next(p.port for p in served.node.peers if p.ae_title == "CLIENT")
    cs = dataclasses.replace(cs, node=dataclasses.replace(cs.node, port=port))
    with Archive.open(cs) as archive:
        yield cs, archive


def _node(settings: Settings, name: str, archive: Any = None) -> Any:
    from workstation.pacs_node.dimse.scu import DimseNode

    peer = settings.peer(name)
    assert peer is not None
    return DimseNode(settings, peer, archive=archive)


def test_echo_and_store_to_storescp(storescp: Any, node_config: Settings, tmp_path: Path) -> None:
    out = storescp()
    client = _client_settings(tmp_path, node_config)
    files = write_study(tmp_path / "s", 6, syntaxes=(None, RLELossless))
    files.append(tmp_path / "s" / "not-dicom.dcm")
    files[-1].write_bytes(b"plain text, not DICOM")
    seen: list[Progress] = []
    dcmtk = _node(client, "dcmtk")
    assert dcmtk.echo() == 0
    result = dcmtk.store(files, progress=seen.append)
    # storescp accepts only uncompressed by default: RLE instances are decoded for it.
    assert result.completed == 6 and result.failed == 1
    assert [o.outcome for o in result.outcomes].count(Outcome.STORED) == 6
    bad = next(o for o in result.outcomes if o.outcome is Outcome.FAILED)
    assert "not-dicom" in bad.sop_instance_uid and bad.reason
    assert seen[-1].done == 7 and seen[-1].total == 7
    got = wait_for_files(out, 6)
    assert {dcmread(p).SOPInstanceUID for p in got} == {
        dcmread(p).SOPInstanceUID for p in files[:6]
    }


def test_store_compressed_as_stored_when_the_peer_accepts_it(
    storescp: Any, node_config: Settings, tmp_path: Path
) -> None:
    out = storescp("+xa")
    client = _client_settings(tmp_path, node_config)
    files = write_study(tmp_path / "s", 4, syntaxes=(JPEG2000Lossless, RLELossless), size=64)
    result = _node(client, "dcmtk").store(files)
    assert result.ok, result.as_dict()
    sent = {dcmread(p).SOPInstanceUID: dcmread(p).file_meta.TransferSyntaxUID for p in files}
    got = {
        dcmread(p).SOPInstanceUID: dcmread(p).file_meta.TransferSyntaxUID
        for p in wait_for_files(out, 4)
    }
    assert got == sent


def test_store_cancel_stops_between_instances(
    storescp: Any, node_config: Settings, tmp_path: Path
) -> None:
    storescp()
    client = _client_settings(tmp_path, node_config)
    files = write_study(tmp_path / "s", 10)
    cancel = CancelToken()

    def _progress(p: Progress) -> None:
        if p.done == 3:
            cancel.cancel()

    result = _node(client, "dcmtk").store(files, progress=_progress, cancel=cancel)
    assert result.cancelled and result.completed == 3


def test_find_get_move_against_our_node(
    served_node: tuple[Settings, Any, Any], client: tuple[Settings, Any], tmp_path: Path
) -> None:
    _served, server_archive, _svc = served_node
    cs, client_archive = client
    files = write_study(tmp_path / "s", 5, patient_name="KOZLOVA^ANNA", patient_id="P-SCU")
    other = write_study(tmp_path / "o", 2, patient_name="SMIRNOV^OLEG")
    for f in files + other:
        assert server_archive.store_file(f).ok
    study_uid = dcmread(files[0]).StudyInstanceUID
    series_uid = dcmread(files[0]).SeriesInstanceUID
    remote = _node(cs, "node", client_archive)

    studies = remote.find(QueryLevel.STUDY, {"PatientName": "KOZ*"})
    assert [s.StudyInstanceUID for s in studies] == [study_uid]
    assert int(studies[0].NumberOfStudyRelatedInstances) == 5
    assert len(remote.find(QueryLevel.STUDY, {}, limit=1)) == 1
    series = remote.find(QueryLevel.SERIES, {"StudyInstanceUID": study_uid})
    assert [s.SeriesInstanceUID for s in series] == [series_uid]
    images = remote.find(
        QueryLevel.IMAGE, {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid}
    )
    assert len(images) == 5

    seen: list[Progress] = []
    got = remote.get(study_uid, progress=seen.append)
    assert got.ok and got.completed == 5, got.as_dict()
    assert {o.sop_instance_uid for o in got.outcomes} == {dcmread(f).SOPInstanceUID for f in files}
    assert client_archive.counts()["instances"] == 5
    assert seen and seen[-1].done == 5 and seen[-1].total == 5

    one = dcmread(files[2]).SOPInstanceUID
    again = remote.get(study_uid, series_uid, [one])
    assert again.completed == 1 and [o.outcome for o in again.outcomes] == [Outcome.DUPLICATE]

    # C-MOVE: the node sends to the client's own SCP (a table destination of the node).
    from workstation.pacs_node.dimse.service import start_node_service

    receiver_archive = client_archive
    with start_node_service(cs, receiver_archive) as receiver:
        wait_until(lambda: port_open(receiver.port), 10, "receiver")
        other_study = dcmread(other[0]).StudyInstanceUID
        moved = remote.move("CLIENT", other_study)
    assert moved.ok and moved.completed == 2, moved.as_dict()
    assert receiver_archive.counts()["instances"] == 7


def test_move_to_unknown_destination_reports_a801(
    served_node: tuple[Settings, Any, Any], client: tuple[Settings, Any], tmp_path: Path
) -> None:
    _served, server_archive, _svc = served_node
    cs, client_archive = client
    files = write_study(tmp_path / "s", 1)
    assert server_archive.store_file(files[0]).ok
    result = _node(cs, "node", client_archive).move("NOWHERE", dcmread(files[0]).StudyInstanceUID)
    assert result.status == 0xA801 and result.error


def test_find_limit_sends_cancel(
    served_node: tuple[Settings, Any, Any], client: tuple[Settings, Any], tmp_path: Path
) -> None:
    _served, server_archive, _svc = served_node
    cs, client_archive = client
    for i in range(6):
        assert server_archive.store_file(write_study(tmp_path / f"s{i}", 1)[0]).ok
    found = _node(cs, "node", client_archive).find(QueryLevel.STUDY, {}, limit=2)
    assert len(found) == 2


def test_get_cancel(
    served_node: tuple[Settings, Any, Any], client: tuple[Settings, Any], tmp_path: Path
) -> None:
    _served, server_archive, _svc = served_node
    cs, client_archive = client
    files = write_study(tmp_path / "s", 30)
    for f in files:
        assert server_archive.store_file(f).ok
    cancel = CancelToken()

    def _progress(p: Progress) -> None:
        if p.done >= 2:
            cancel.cancel()

    result = _node(cs, "node", client_archive).get(
        dcmread(files[0]).StudyInstanceUID, progress=_progress, cancel=cancel
    )
    assert result.cancelled
    assert 2 <= client_archive.counts()["instances"] < 30


def test_unreachable_peer_raises_a_clear_error(node_config: Settings, tmp_path: Path) -> None:
    from workstation.pacs_node.dimse.errors import AssociationFailed

    client = _client_settings(tmp_path, node_config)
    with pytest.raises(AssociationFailed, match="cannot be reached"):
        _node(client, "dcmtk").echo()
    assert not received_files(tmp_path / "nothing")
