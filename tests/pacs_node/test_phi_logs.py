"""No patient-identifying data in the log file at INFO: import (good, broken, conflicting
files, an unreadable DICOMDIR) and C-STORE/C-FIND to our node, on synthetic data."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.ports import free_port, port_open, wait_until
from tests.pacs_node.archive.synth import make_ct
from workstation.config import PeerNode, Settings
from workstation.logging_setup import setup_logging
from workstation.pacs_node.remote import QueryLevel

pytestmark = pytest.mark.network

NAME = "Zzyzxname^Qwerty"
PATIENT_ID = "PHI-123456789"
BIRTH = "19230405"
OTHER_NAME = "Vvyxotherphi^Asdfgh"
OTHER_ID = "PHI-987654321"
PHI = ("Zzyzxname", "Qwerty", PATIENT_ID, BIRTH, "Vvyxotherphi", "Asdfgh", OTHER_ID)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = setup_logging(tmp_path / "logs", "INFO", stderr_level="CRITICAL")
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_workstation", False):
            root.removeHandler(handler)
            handler.close()


def _write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(3):
        ds = make_ct(patient_name=NAME, patient_id=PATIENT_ID, birth_date=BIRTH,
                     instance_number=i + 1, description=f"PHI-DESC {NAME}")  # fmt: skip
        path = folder / f"IM{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def test_import_and_network_logs_carry_no_patient_data(
    settings: Settings, tmp_path: Path, log_file: Path
) -> None:
    from pydicom import dcmread

    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.importing.pipeline import Importer
    from workstation.pacs_node.dimse.scu import DimseNode
    from workstation.pacs_node.dimse.service import start_node_service

    media = tmp_path / "media"
    good = _write(media / "good")
    # The same SOP Instance UID with other content and another patient: a conflict.
    twin = dcmread(good[0])
    twin.PatientName, twin.PatientID = OTHER_NAME, OTHER_ID
    twin.save_as(media / "conflict.dcm", enforce_file_format=True)
    # A cut-off file whose header holds the name.
    (media / "broken.dcm").write_bytes(good[1].read_bytes()[:700])
    # An unreadable DICOMDIR quoting the patient in a folder of its own.
    dd = media / "cd"
    _write(dd)
    (dd / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + f"garbage {NAME} {PATIENT_ID}".encode())
    (media / "notes.txt").write_text(f"{NAME} {PATIENT_ID}\n")

    client_aet = "PHICLIENT"
    node_cfg = dataclasses.replace(
        settings,
        node=dataclasses.replace(
            settings.node, ae_title="PHINODE", port=free_port(), bind_address="127.0.0.1",
            peers=(PeerNode(name="client", ae_title=client_aet, host="127.0.0.1", port=free_port(),
                            may_query=True, may_retrieve=True),),
        ),
    )  # fmt: skip
    with Archive.open(node_cfg) as archive:
        summary = Importer(archive).run([media])
        assert summary.stored >= 3 and summary.rejected, summary
        sender_files = _write(tmp_path / "send")
        with start_node_service(node_cfg, archive) as svc:
            wait_until(lambda: port_open(svc.port), 10, "node")
            client_cfg = dataclasses.replace(
                node_cfg, node=dataclasses.replace(node_cfg.node, ae_title=client_aet)
            )
            peer = PeerNode(name="node", ae_title="PHINODE", host="127.0.0.1", port=svc.port)
            remote = DimseNode(client_cfg, peer)
            sent = remote.send(sender_files)
            assert sent.ok, sent.as_dict()
            found = remote.find(QueryLevel.STUDY, {"PatientName": NAME, "PatientID": PATIENT_ID})
            assert found and str(found[0].PatientName) == NAME

    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "import started" in text  # INFO lines were written
    leaked = [p for p in PHI if p.lower() in text.lower()]
    assert not leaked, f"patient data in the log: {leaked}\n{text}"
