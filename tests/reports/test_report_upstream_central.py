"""A signed report goes upstream through the outbox to the real central side: Orthanc
(PostgreSQL index, token filter trusting the auth API's JWKS, the doctors' report
route) and the auth API's report registry on PostgreSQL.

Checked: the PDF from Orthanc's ``/instances/{id}/pdf`` hashes as the registry's and
the local one and keeps its ``%%EOF\\n``; the registry holds every field; a repeat is
idempotent; an amendment leaves both versions retrievable; a report signed while
Orthanc is down arrives when it is back; another doctor's second final and amendment
are refused, naming who holds the report.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from tests.harness.ports import wait_until
from tests.reports.conftest import Site
from tests.reports.outbox_site import outbox_actions, outbox_worker, run_until, sign_new
from workstation.config import PeerNode
from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
from workstation.pacs_node.sync.jobs import JobState
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.reports.encapsulated_pdf import report_instance_uid
from workstation.services.activity import sync_snapshot
from workstation.services.jobs import JobState as ActivityState

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def registry(auth_api_pg: Any) -> Any:
    return auth_api_pg


@pytest.fixture(scope="module")
def central(orthanc_factory: Any, registry: Any) -> Any:
    """A central Orthanc of its own (one test stops and restarts it)."""
    return orthanc_factory(
        token_filter=True, index="postgresql", name="report-central", jwks_url=registry.jwks_url
    )


def _site_ca(site: Site) -> Site:
    """The same site as its signer sees it: the site CA signs (central-CA signing, which
    needs a central session with a token, is test_central_signing's); these tests are
    about the way up, which the worker takes with the central settings."""
    settings: Any = site.settings
    central = dataclasses.replace(settings.central, auth_url="")
    return dataclasses.replace(site, settings=dataclasses.replace(settings, central=central))


def _central_site(site: Site, central: Any, registry: Any) -> Site:
    settings: Any = site.settings
    settings = dataclasses.replace(
        settings,
        central=dataclasses.replace(
            settings.central, dicomweb_url=central.dicomweb_url, auth_url=registry.url
        ),
        reports=dataclasses.replace(settings.reports, upstream_stow_url=central.reports_url),
    )
    http = central.session("operator")
    for record in site.archive.study_instances(site.study_uid):  # the study is upstream
        data = site.archive.instance_file(record.sop_instance_uid).read_bytes()
        assert http.post(f"{central.http_url}/instances", data=data, timeout=30).ok
    return dataclasses.replace(site, settings=settings)


def _tokens(registry: Any, logins: dict[str, str], name: str = "dora") -> StaticTokenProvider:
    """The central login of ``name`` (the outbox records a version under its signer)."""
    return StaticTokenProvider(registry.login(name, logins[name])["access_token"])


def _orthanc_pdf(central: Any, sop_uid: str) -> tuple[bytes, dict[str, Any]]:
    http = central.session("admin")
    found = http.post(
        f"{central.http_url}/tools/find",
        json={"Level": "Instance", "Query": {"SOPInstanceUID": sop_uid}},
        timeout=30,
    ).json()
    assert len(found) == 1, found
    pdf = http.get(f"{central.http_url}/instances/{found[0]}/pdf", timeout=30)
    tags = http.get(f"{central.http_url}/instances/{found[0]}/simplified-tags", timeout=30)
    assert pdf.status_code == 200 and tags.status_code == 200
    return pdf.content, tags.json()


def _registry_reports(registry: Any, study_uid: str) -> list[dict[str, Any]]:
    rsp = registry.request(
        "GET", f"/reports?study={study_uid}", token=registry.token_for("operator")
    )
    assert rsp.status_code == 200
    return list(rsp.json()["reports"])


def _publish_job(queue: SyncQueue) -> int:
    return max(j.id for j in queue.jobs() if j.kind == "publish_report")


def test_signed_report_reaches_orthanc_and_the_registry_idempotently(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str]
) -> None:
    site = _central_site(signing_site, central, registry)
    tokens = _tokens(registry, central_logins)
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(_site_ca(site), queue)
    worker = outbox_worker(site, queue, tokens)
    first = sign_new(doctor, site.study_uid)
    run_until(worker, queue, _publish_job(queue), JobState.DONE)

    sop = report_instance_uid(first.report_id)
    local_pdf = site.store.pdf(first.report_id)
    assert local_pdf is not None and local_pdf.endswith(b"%%EOF\n")
    pdf, tags = _orthanc_pdf(central, sop)
    assert pdf == local_pdf  # Orthanc's /pdf keeps the %%EOF\n ending
    assert hashlib.sha256(pdf).hexdigest() == first.pdf_sha256
    assert tags["StudyInstanceUID"] == site.study_uid and tags["PatientID"] == "R-1"

    (record,) = _registry_reports(registry, site.study_uid)
    (signed_with,) = [
        e.detail["certificate"]
        for e in site.audit.events()
        if e.action == "report_sign" and e.detail.get("report_id") == first.report_id
    ]
    assert record["sop_instance_uid"] == sop and record["pdf_sha256"] == first.pdf_sha256
    assert record["status"] == "final" and record["version"] == 1
    assert record["author"] == "dora" and record["predecessor_sop_instance_uid"] is None
    assert record["signer_fingerprint"] == signed_with

    # A repeat (e.g. the answer was lost and the job ran again) changes nothing.
    doctor.queue_upstream(first, signed_with)
    run_until(worker, queue, _publish_job(queue), JobState.DONE)
    (again,) = _registry_reports(registry, site.study_uid)
    assert len(again["revisions"]) == 1
    _orthanc_pdf(central, sop)  # still exactly one instance

    second = doctor.sign(doctor.amend(first.report_id, "Side corrected").report_id)
    run_until(worker, queue, _publish_job(queue), JobState.DONE)
    (amended,) = _registry_reports(registry, site.study_uid)
    assert amended["status"] == "amended" and amended["version"] == 2
    assert amended["predecessor_sop_instance_uid"] == sop
    assert amended["pdf_sha256"] == second.pdf_sha256
    for version in (first, second):  # both versions retrievable upstream
        pdf, _tags = _orthanc_pdf(central, report_instance_uid(version.report_id))
        assert hashlib.sha256(pdf).hexdigest() == version.pdf_sha256


def test_report_signed_offline_arrives_when_orthanc_is_back(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str]
) -> None:
    site = _central_site(signing_site, central, registry)
    tokens = _tokens(registry, central_logins)
    queue = SyncQueue(site.archive.engine)
    doctor = outbox_actions(_site_ca(site), queue)
    worker = outbox_worker(site, queue, tokens)
    central.stop()
    try:
        report = sign_new(doctor, site.study_uid)
        job_id = _publish_job(queue)
        worker.run_once()
        job = queue.job(job_id)
        assert job is not None and job.state is JobState.QUEUED
        assert "cannot be reached" in job.last_error
        # The registry (up) took the version first; the archive follows when it is back.
        (waiting,) = _registry_reports(registry, site.study_uid)
        assert waiting["sop_instance_uid"] == report_instance_uid(report.report_id)
    finally:
        central.restart()
    run_until(worker, queue, job_id, JobState.DONE, timeout=60)
    pdf, _tags = _orthanc_pdf(central, report_instance_uid(report.report_id))
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    (record,) = _registry_reports(registry, site.study_uid)
    assert record["pdf_sha256"] == report.pdf_sha256


def test_report_signed_before_the_outbox_runs_is_delivered_when_it_starts(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str]
) -> None:
    """The start-up race: the archive is open, the outbox is not (yet): the version's
    job waits in the durable outbox table and goes out once the worker starts."""
    site = _central_site(signing_site, central, registry)
    report = sign_new(outbox_actions(site, None), site.study_uid)  # no outbox running
    sop_uid = report_instance_uid(report.report_id)
    queue = SyncQueue(site.archive.engine)  # what the outbox opens when it starts
    (job,) = [j for j in queue.jobs() if j.kind == "publish_report"]
    assert job.state is JobState.QUEUED and queue.items(job.id) == [sop_uid]
    worker = outbox_worker(site, queue, _tokens(registry, central_logins)).start()
    try:
        wait_until(
            lambda: queue.job(job.id).state is JobState.DONE,  # type: ignore[union-attr]
            60,
            "the report job to be delivered",
        )
    finally:
        worker.stop()
    pdf, _tags = _orthanc_pdf(central, sop_uid)
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    (record,) = _registry_reports(registry, site.study_uid)
    assert record["sop_instance_uid"] == sop_uid and record["pdf_sha256"] == report.pdf_sha256


def test_signed_versions_without_a_job_are_queued_on_outbox_start_once(
    signing_site: Site,
    central: Any,
    registry: Any,
    central_logins: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A version signed by an older build (or the process died between storing it in
    the study and queueing it) has no job: the outbox start queues it, once."""
    import sqlalchemy as sa

    from workstation.pacs_node.sync import schema
    from workstation.services import report_upstream
    from workstation.services.report_upstream import queue_unqueued_reports

    site = _central_site(signing_site, central, registry)
    queue = SyncQueue(site.archive.engine)
    report = sign_new(outbox_actions(site, queue), site.study_uid)
    with site.archive.engine.begin() as conn:  # as if the job had never been written
        conn.execute(sa.delete(schema.items))
        conn.execute(sa.delete(schema.jobs))
    draft = outbox_actions(site, queue).create(site.study_uid)  # unsigned: not queued
    settings: Any = site.settings
    with monkeypatch.context() as m:  # signed before the look-back: history stays put
        m.setattr(report_upstream, "RESCAN_DAYS", 0)
        assert queue_unqueued_reports(queue, settings, site.store, site.archive) == []  # type: ignore[arg-type]
    (job_id,) = queue_unqueued_reports(queue, settings, site.store, site.archive)  # type: ignore[arg-type]
    assert queue_unqueued_reports(queue, settings, site.store, site.archive) == []  # type: ignore[arg-type]
    payload = queue.payload(job_id)
    assert payload["report_id"] == report.report_id and payload["signer_fingerprint"]
    assert draft.report_id not in {queue.payload(j.id)["report_id"] for j in queue.jobs()}
    run_until(outbox_worker(site, queue, _tokens(registry, central_logins)), queue, job_id,
              JobState.DONE)  # fmt: skip
    pdf, _tags = _orthanc_pdf(central, report_instance_uid(report.report_id))
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    (record,) = _registry_reports(registry, site.study_uid)
    assert record["signer_fingerprint"] == payload["signer_fingerprint"]


def test_another_doctors_final_and_amendment_are_refused_naming_the_holder(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str]
) -> None:
    site = _central_site(signing_site, central, registry)
    # A FHIR server turned on: its job follows only a version the registry accepted.
    settings: Any = site.settings
    reports = dataclasses.replace(
        settings.reports, fhir_enabled=True, fhir_base_url="http://127.0.0.1:9/fhir"
    )
    site = dataclasses.replace(site, settings=dataclasses.replace(settings, reports=reports))
    signer = _site_ca(site)
    signer.signing("ada").enroll()  # a second signer on this workstation
    queue = SyncQueue(site.archive.engine)
    dora, ada = outbox_actions(signer, queue, "dora"), outbox_actions(signer, queue, "ada")
    as_dora = outbox_worker(site, queue, _tokens(registry, central_logins, "dora"))
    as_ada = outbox_worker(site, queue, _tokens(registry, central_logins, "ada"))
    first = sign_new(dora, site.study_uid)
    run_until(as_dora, queue, _publish_job(queue), JobState.DONE)
    assert [j.kind for j in queue.jobs()].count("report_fhir") == 1

    refused = sign_new(ada, site.study_uid)
    # While dora is the one logged in centrally, ada's version waits for ada's login.
    job_id = _publish_job(queue)
    for _ in range(20):  # (the FHIR job of the first version is due too)
        as_dora.run_once()
        if queue.job(job_id).attempts:  # type: ignore[union-attr]
            break
    waiting = queue.job(job_id)
    assert waiting is not None and waiting.state is JobState.QUEUED
    assert "Waiting for ada" in waiting.last_error
    job = run_until(as_ada, queue, _publish_job(queue), JobState.FAILED)
    assert "dora already holds the final report" in job.last_error
    shown = sync_snapshot(job)  # what the activity panel lists
    assert shown.state is ActivityState.FAILED and "dora" in shown.error
    ada.sign(ada.amend(first.report_id, "not hers").report_id)
    job = run_until(as_ada, queue, _publish_job(queue), JobState.FAILED)
    assert "registry refused" in job.last_error and "dora" in job.last_error
    (record,) = _registry_reports(registry, site.study_uid)
    assert record["author"] == "dora" and record["status"] == "final"
    # The refused versions reached no one: not the archive, not the FHIR server.
    found = central.session("admin").post(
        f"{central.http_url}/tools/find",
        json={
            "Level": "Instance",
            "Query": {"SOPInstanceUID": report_instance_uid(refused.report_id)},
        },
        timeout=30,
    )
    assert found.json() == []
    assert [j.kind for j in queue.jobs()].count("report_fhir") == 1


def test_report_goes_by_c_store_to_a_configured_node(
    signing_site: Site, central: Any, registry: Any, central_logins: dict[str, str]
) -> None:
    site = _central_site(signing_site, central, registry)
    settings: Any = site.settings
    peer = PeerNode(
        name="central-dimse", ae_title=central.aet, host="127.0.0.1", port=central.dicom_port
    )
    settings = dataclasses.replace(
        settings,
        central=dataclasses.replace(settings.central, dicomweb_url="", dimse_peer=peer.name),
        reports=dataclasses.replace(settings.reports, upstream_stow_url=""),
        node=dataclasses.replace(settings.node, peers=(peer,)),
    )
    site = dataclasses.replace(site, settings=settings)
    tokens = _tokens(registry, central_logins)
    queue = SyncQueue(site.archive.engine)
    report = sign_new(outbox_actions(_site_ca(site), queue), site.study_uid)
    central.add_modality("report-ws", settings.node.ae_title, 104, AllowStore=True)
    try:
        run_until(outbox_worker(site, queue, tokens), queue, _publish_job(queue), JobState.DONE)
    finally:
        central.remove_modality("report-ws")
    pdf, tags = _orthanc_pdf(central, report_instance_uid(report.report_id))
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    assert tags["StudyInstanceUID"] == site.study_uid
