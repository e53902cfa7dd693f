"""An import job with a readme beside the images ends "Done", not "Done with failures"
(issue 10 §4); broken DICOM still makes it partial."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.auth.standalone_session import standalone_session
from tests.pacs_node.archive.synth import write_series
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.auth.permissions import Role
from workstation.pacs_node.archive.archive import Archive
from workstation.services.jobs import JobRegistry, JobState
from workstation.services.study_actions import StudyActions


@pytest.fixture
def operator(settings: Any) -> Any:
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    jobs = JobRegistry()
    session = standalone_session("op", Role.OPERATOR)
    yield StudyActions(session, archive, AuditLog(db), jobs), jobs
    jobs.shutdown()
    archive.close()
    db.close()


def test_a_readme_is_a_note_and_broken_dicom_a_failure(operator: Any, tmp_path: Path) -> None:
    actions, jobs = operator
    media = tmp_path / "cd"
    files = write_series(media / "SE1", 3)
    (media / "SE1" / "README.TXT").write_text("Viewer: run viewer.exe\n")
    snap = jobs.wait(actions.import_paths([media]), 60)
    assert snap.state is JobState.DONE, snap
    assert snap.result.stored == 3 and not snap.result.rejected
    assert any("skipped, not DICOM: README.TXT" in n for n in snap.result.notes)

    (media / "SE1" / "IM_CUT.dcm").write_bytes(files[0].read_bytes()[:300])
    snap = jobs.wait(actions.import_paths([media]), 60)
    assert snap.state is JobState.PARTIAL
    assert [Path(r.origin).name for r in snap.result.rejected] == ["IM_CUT.dcm"]
