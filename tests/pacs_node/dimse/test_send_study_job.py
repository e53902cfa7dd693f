"""The app's "send study" job: every instance of a local study goes to a real dcmtk
storescp over C-STORE, and the delivery is audited with the peer's outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.app.synthetic import write_study
from tests.auth.standalone_session import standalone_session
from tests.pacs_node.dimse.conftest import wait_for_files
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.auth.permissions import Role
from workstation.config import Settings
from workstation.pacs_node.dimse.scu import DimseNode
from workstation.services.jobs import JobRegistry, JobState
from workstation.services.study_actions import StudyActions


def test_send_study_job_delivers_every_instance_and_audits_it(
    node_config: Settings, archive: Any, storescp: Callable[..., Path], tmp_path: Path
) -> None:
    folder = tmp_path / "study"
    uid = write_study(folder, patient_name="SEND^JOB", patient_id="S-1", series=2)
    for f in sorted(folder.iterdir()):
        assert archive.store_file(f).ok
    expected = len(archive.study_instances(uid))
    out = storescp()
    db = AuthDatabase.from_settings(node_config)
    jobs = JobRegistry()
    try:
        session = standalone_session("sender", Role.OPERATOR)
        audit = AuditLog(db)
        actions = StudyActions(session, archive, audit, jobs)
        peer = DimseNode(node_config, node_config.peer("dcmtk"))  # type: ignore[arg-type]
        job = actions.send_study(uid, peer, "dcmtk")
        snap = jobs.wait(job, 60)
        assert snap.state is JobState.DONE, (snap.error, snap.failures)
        assert snap.result.completed == expected and snap.result.failed == 0
        assert len(wait_for_files(out, expected)) == expected
        sent = [e for e in audit.events(action="study_send") if e.study_uid == uid]
        assert len(sent) == 1 and sent[0].outcome == "success" and sent[0].actor == "sender"
    finally:
        jobs.shutdown()
        db.close()
