"""Guarded engine calls against a real archive: refusals are audited, work is audited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.app.synthetic import write_study
from tests.auth.standalone_session import standalone_session
from workstation.auth.audit import AuditLog
from workstation.auth.db import AuthDatabase
from workstation.auth.errors import PermissionDenied, SessionLocked
from workstation.auth.permissions import Role
from workstation.pacs_node.archive.archive import Archive
from workstation.pacs_node.archive.queries import StudyQuery
from workstation.services.jobs import JobRegistry, JobState
from workstation.services.study_actions import StudyActions
from workstation.services.thumbnails import shrink, study_thumbnail


@pytest.fixture
def world(settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    archive = Archive.open(settings)
    db = AuthDatabase.from_settings(settings)
    jobs = JobRegistry()
    folder = tmp_path / "study"
    uid = write_study(folder, patient_name="GUARD^TEST", patient_id="G-1", series=2)
    for f in sorted(folder.iterdir()):
        assert archive.store_file(f).ok
    yield archive, AuditLog(db), jobs, uid
    jobs.shutdown()
    archive.close()
    db.close()


def _actions(world, role: Role) -> StudyActions:  # type: ignore[no-untyped-def]
    archive, audit, jobs, _uid = world
    return StudyActions(standalone_session(role.value, role), archive, audit, jobs)


def test_refusals_are_audited_and_change_nothing(world) -> None:  # type: ignore[no-untyped-def]
    archive, audit, _jobs, uid = world
    doctor = _actions(world, Role.DOCTOR)
    with pytest.raises(PermissionDenied):
        doctor.delete_study(uid)
    assert archive.counts()["studies"] == 1
    denied = audit.events(action="permission_denied")[-1]
    assert denied.actor == "doctor" and denied.study_uid == uid
    assert denied.detail["permission"] == "studies.delete" and denied.outcome == "denied"
    doctor.session.locked = True
    with pytest.raises(SessionLocked):
        doctor.search(StudyQuery())


def test_open_search_count_delete(world) -> None:  # type: ignore[no-untyped-def]
    archive, audit, _jobs, uid = world
    admin = _actions(world, Role.ADMIN)
    assert admin.count(StudyQuery(patient_name="guard")) == 1
    assert admin.count(StudyQuery(patient_name="nobody")) == 0
    study, series = admin.open_study(uid)
    assert study.patient_id == "G-1" and len(series) == 2
    assert audit.events(action="study_open")[-1].study_uid == uid
    assert admin.delete_study(uid) == 6
    assert archive.counts()["studies"] == 0
    assert audit.events(action="study_delete")[-1].detail["instances"] == 6


def test_export_job_is_audited(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _archive, audit, jobs, uid = world
    job = _actions(world, Role.DOCTOR).export_study(uid, tmp_path / "out.zip", anonymize=True)
    snap = jobs.wait(job, 60)
    assert snap.state is JobState.DONE and (tmp_path / "out.zip").stat().st_size > 0
    event = audit.events(action="study_export")[-1]
    assert event.study_uid == uid and event.detail["anonymized"] and event.detail["zip"]


def test_thumbnail_of_a_synthetic_study(world) -> None:  # type: ignore[no-untyped-def]
    archive, _audit, _jobs, uid = world
    image = study_thumbnail(archive, uid, size=32)
    assert image is not None and image.dtype == np.uint8 and max(image.shape) <= 32
    assert int(image.max()) - int(image.min()) > 50  # the disc shows against the background
    assert shrink(np.zeros((512, 256), np.uint8), 64).shape == (64, 32)
