"""The report test site wired to a real outbox: signing queues upstream jobs, and a
:class:`SyncWorker` with the report handlers drains them (run step by step in tests)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.harness.ports import wait_until
from tests.reports.conftest import Site, session_for
from workstation.pacs_node.sync.jobs import Backoff, JobState, JobView
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.pacs_node.sync.remotes import remote_resolver
from workstation.pacs_node.sync.worker import SyncWorker
from workstation.reports.model import Report
from workstation.services.report_actions import ReportActions
from workstation.services.report_upstream import register_report_upstream


def with_reports(site: Site, **report_settings: Any) -> Site:
    """``site`` with these report settings (e.g. hl7_enabled=True)."""
    settings: Any = site.settings
    reports = dataclasses.replace(settings.reports, **report_settings)
    return dataclasses.replace(site, settings=dataclasses.replace(settings, reports=reports))


def outbox_actions(site: Site, queue: SyncQueue, name: str = "dora") -> ReportActions:
    return ReportActions(
        session_for(name), site.store, site.audit, site.settings,  # type: ignore[arg-type]
        archive=site.archive, secrets=site.secrets, outbox=queue,
    )  # fmt: skip


def outbox_worker(site: Site, queue: SyncQueue, tokens: Any = None) -> SyncWorker:
    settings: Any = site.settings
    worker = SyncWorker(
        queue, site.archive, remote_resolver(settings, site.archive, tokens),
        backoff=Backoff(base_s=0.05, max_s=0.2, jitter=0.0), poll_s=0.05,
    )  # fmt: skip
    register_report_upstream(worker, settings, tokens)
    return worker


def sign_new(
    actions: ReportActions, study_uid: str, impression: str = "No acute findings."
) -> Report:
    draft = actions.create(study_uid, sections={"findings": "Normal.", "impression": impression})
    return actions.sign(draft.report_id)


def run_until(worker: SyncWorker, queue: SyncQueue, job_id: int, *states: JobState,
              timeout: float = 30) -> JobView:  # fmt: skip
    """Run due jobs until job ``job_id`` is in one of ``states``."""

    def reached() -> bool:
        worker.run_once()
        job = queue.job(job_id)
        return job is not None and job.state in states

    wait_until(reached, timeout, f"job {job_id} to reach {states}")
    job = queue.job(job_id)
    assert job is not None
    return job
