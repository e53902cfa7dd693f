"""Signed reports go upstream in batches: one registry call (``POST
/reports/documents/batch``) and one STOW-RS through the doctors' report route for many
``publish_report`` jobs, against the real auth API (PostgreSQL) and Orthanc.

Checked: a batch over several studies arrives complete in one run, an amendment after
its predecessor; a version the archive refuses (its study is not upstream) and one the
registry refuses (another doctor holds the final report) fail alone, with their
reasons, and a retry runs only the one retried; a kill -9 of the workstation while the
batch is on the wire, then a restart, leaves every report exactly once in Orthanc and
in the registry.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.synthetic import write_study
from tests.harness.faults import freeze, kill_9, thaw
from tests.harness.ports import wait_until
from tests.pacs_node.sync.central_sync import finish_sync_run, start_sync_run
from tests.reports.conftest import Site
from tests.reports.outbox_site import outbox_actions, outbox_worker, sign_new
from tests.reports.test_report_upstream_central import (
    _central_site,
    _orthanc_pdf,
    _registry_reports,
    _site_ca,
    _tokens,
    central,
    registry,
)
from workstation.pacs_node.sync.jobs import JobState, JobView
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.reports.encapsulated_pdf import report_instance_uid
from workstation.reports.model import Report

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres, pytest.mark.slow]
__all__ = ["central", "registry"]  # that module's fixtures, used here too


def _study(site: Site, tmp: Path, n: int, central: Any | None) -> str:
    """Another local study (patient R-1 like the site's), uploaded when ``central``."""
    folder = tmp / f"study-{n}"
    uid = write_study(folder, patient_name="MUSTERMANN^ERIKA", patient_id="R-1", images=1)
    for f in sorted(folder.iterdir()):
        assert site.archive.store_file(f).ok
        if central is not None:
            http = central.session("operator")
            assert http.post(f"{central.http_url}/instances", data=f.read_bytes(), timeout=30).ok
    return uid


def _publish_jobs(queue: SyncQueue) -> dict[str, JobView]:
    """The publish_report jobs by SOP Instance UID."""
    jobs = [j for j in queue.jobs(limit=1000) if j.kind == "publish_report"]
    payloads = queue.payloads([j.id for j in jobs])
    return {payloads[j.id]["sop_instance_uid"]: j for j in jobs}


def _in_orthanc(central: Any, sop_uid: str) -> int:
    found = central.session("admin").post(
        f"{central.http_url}/tools/find",
        json={"Level": "Instance", "Query": {"SOPInstanceUID": sop_uid}},
        timeout=30,
    )
    assert found.status_code == 200
    return len(found.json())


def _arrived(central: Any, report: Report) -> None:
    pdf, _tags = _orthanc_pdf(central, report_instance_uid(report.report_id))
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256


def test_a_batch_over_several_studies_arrives_complete_and_in_order(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str],
    tmp_path: Path,
) -> None:  # fmt: skip
    site = _central_site(signing_site, central, registry)
    studies = [site.study_uid] + [_study(site, tmp_path, i, central) for i in range(3)]
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(_site_ca(site), queue)
    firsts = [sign_new(doctor, s) for s in studies]
    amended = doctor.sign(doctor.amend(firsts[0].report_id, "Side corrected").report_id)
    reports = [*firsts, amended]

    worker = outbox_worker(site, queue, _tokens(registry, central_logins))
    assert worker.run_once()  # one run takes the whole batch
    jobs = _publish_jobs(queue)
    assert len(jobs) == len(reports)
    assert {j.state for j in jobs.values()} == {JobState.DONE}
    assert {j.attempts for j in jobs.values()} == {1}  # no retry: the amendment came in order
    assert not worker.run_once()  # nothing left

    for report in reports:
        _arrived(central, report)
    (record,) = _registry_reports(registry, studies[0])
    assert record["status"] == "amended" and record["version"] == 2
    assert [r["sop_instance_uid"] for r in record["revisions"]] == [
        report_instance_uid(firsts[0].report_id), report_instance_uid(amended.report_id),
    ]  # fmt: skip
    for study, report in zip(studies[1:], firsts[1:], strict=True):
        (record,) = _registry_reports(registry, study)
        assert record["sop_instance_uid"] == report_instance_uid(report.report_id)
        assert record["pdf_sha256"] == report.pdf_sha256 and record["author"] == "dora"


def test_a_refused_item_fails_alone_and_only_it_is_retried(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str],
    tmp_path: Path,
) -> None:  # fmt: skip
    site = _central_site(signing_site, central, registry)
    upstream = [site.study_uid, _study(site, tmp_path, 1, central)]
    not_upstream = _study(site, tmp_path, 2, None)  # Orthanc refuses a report on it
    held = _study(site, tmp_path, 3, central)  # ada holds its final report centrally
    ada = registry.login("ada", central_logins["ada"])["access_token"]
    taken = registry.request(
        "POST", "/reports/documents", token=ada,
        json={
            "study_instance_uid": held, "sop_instance_uid": "2.25.4711" + str(os.getpid()),
            "pdf_sha256": "a" * 64, "version": 1, "status": "final",
            "signer_fingerprint": "b" * 64,
        },
    )  # fmt: skip
    assert taken.status_code == 201, taken.text
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(_site_ca(site), queue)
    good = [sign_new(doctor, s) for s in upstream]
    refused_by_archive = sign_new(doctor, not_upstream)
    refused_by_registry = sign_new(doctor, held)

    worker = outbox_worker(site, queue, _tokens(registry, central_logins))
    assert worker.run_once()
    jobs = _publish_jobs(queue)
    for report in good:
        assert jobs[report_instance_uid(report.report_id)].state is JobState.DONE
        _arrived(central, report)
    archive_job = jobs[report_instance_uid(refused_by_archive.report_id)]
    assert archive_job.state is JobState.FAILED, archive_job.last_error
    assert "central archive refused" in archive_job.last_error
    assert queue.items(archive_job.id) and archive_job.failed == 1
    registry_job = jobs[report_instance_uid(refused_by_registry.report_id)]
    assert registry_job.state is JobState.FAILED
    assert "ada already holds the final report" in registry_job.last_error
    assert _in_orthanc(central, report_instance_uid(refused_by_registry.report_id)) == 0
    assert _in_orthanc(central, report_instance_uid(refused_by_archive.report_id)) == 0
    # The registry went first and took the version the archive refused; not ada's study's.
    (waiting,) = _registry_reports(registry, not_upstream)
    assert waiting["sop_instance_uid"] == report_instance_uid(refused_by_archive.report_id)
    assert [r["author"] for r in _registry_reports(registry, held)] == ["ada"]

    # The study reaches the archive; retrying that job sends it alone.
    for instance in site.archive.study_instances(not_upstream):
        data = site.archive.instance_file(instance.sop_instance_uid).read_bytes()
        assert (
            central.session("operator")
            .post(f"{central.http_url}/instances", data=data, timeout=30)
            .ok
        )
    assert queue.retry(archive_job.id)
    assert worker.run_once()
    after = _publish_jobs(queue)
    assert after[report_instance_uid(refused_by_archive.report_id)].state is JobState.DONE
    _arrived(central, refused_by_archive)
    for report in good:  # ran once, not again
        assert after[report_instance_uid(report.report_id)].attempts == 1
    assert after[report_instance_uid(refused_by_registry.report_id)].state is JobState.FAILED
    assert after[report_instance_uid(refused_by_registry.report_id)].attempts == 1
    (record,) = _registry_reports(registry, not_upstream)
    assert len(record["revisions"]) == 1  # the repeat changed nothing


def test_kill_9_mid_batch_then_restart_delivers_every_report_exactly_once(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str],
    tmp_path: Path, ws_home: Path,
) -> None:  # fmt: skip
    """The workstation's outbox process is killed while its batch is on the wire (the
    registry has recorded it, the archive is frozen mid-request); the restarted outbox
    finishes it: each report once in Orthanc, once in the registry, every job done."""
    site = _central_site(signing_site, central, registry)
    studies = [site.study_uid] + [_study(site, tmp_path, i, central) for i in range(2)]
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(_site_ca(site), queue)
    reports = [sign_new(doctor, studies[i % len(studies)]) for i in range(6)]
    sop_uids = [report_instance_uid(r.report_id) for r in reports]
    (ws_home / "config").mkdir(parents=True, exist_ok=True)
    (ws_home / "config" / "workstation.toml").write_text(
        f'[central]\ndicomweb_url = "{central.dicomweb_url}"\nauth_url = "{registry.url}"\n'
        f'[reports]\nupstream_stow_url = "{central.reports_url}"\n'
    )
    token = registry.login("dora", central_logins["dora"])["access_token"] + "\n"

    def recorded() -> set[str]:
        return {r["sop_instance_uid"] for s in set(studies) for r in _registry_reports(registry, s)}

    assert central.process is not None
    freeze(central.process.pid)
    try:
        proc = start_sync_run(ws_home, token)
        wait_until(
            lambda: set(sop_uids) <= recorded() or proc.poll() is not None, 60,
            "the registry to take the batch",
        )  # fmt: skip
        assert proc.poll() is None, "the outbox ended while the archive was frozen"
        kill_9(proc.pid)
        proc.wait(timeout=30)
    finally:
        thaw(central.process.pid)
    jobs = _publish_jobs(queue)
    assert {jobs[u].state for u in sop_uids} == {JobState.RUNNING}  # a dead process's lease

    done = finish_sync_run(ws_home, token)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = _publish_jobs(queue)
    assert {jobs[u].state for u in sop_uids} == {JobState.DONE}
    for report, sop_uid in zip(reports, sop_uids, strict=True):
        assert _in_orthanc(central, sop_uid) == 1
        _arrived(central, report)
    revisions = [
        rev["sop_instance_uid"]
        for s in set(studies)
        for r in _registry_reports(registry, s)
        for rev in r["revisions"]
    ]
    assert sorted(revisions) == sorted(sop_uids)  # each once, nothing doubled
