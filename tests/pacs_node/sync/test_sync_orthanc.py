"""Offline sync against a real Orthanc that goes away in the middle of an upload.

The workstation side is restarted (in process, and once by kill -9 of
``workstation sync run``); when Orthanc comes back the outbox finishes and Orthanc holds
every instance exactly once.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.harness.ports import wait_until
from tests.pacs_node.dimse.data import write_study
from tests.pacs_node.sync.central_sync import (
    finish_sync_run,
    orthanc_study_instances,
    settings_for_central,
    start_sync_run,
    sync_worker,
)
from workstation.config import load_settings
from workstation.pacs_node.sync.jobs import Backoff, JobState
from workstation.pacs_node.sync.queue import SyncQueue

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def central(orthanc_factory: Any) -> Any:
    """A central Orthanc of its own (this test stops and restarts it)."""
    return orthanc_factory(token_filter=True, index="postgresql", name="sync-central")


def _import(archive: Any, tmp_path: Path, n: int) -> tuple[str, list[str]]:
    files = write_study(tmp_path / "study", n, size=64, patient_id="P-SYNC")
    results = [archive.store_file(f) for f in files]
    assert all(r.ok for r in results)
    return results[0].study_instance_uid, [r.sop_instance_uid for r in results]  # type: ignore[return-value]


def test_outbox_survives_orthanc_outage_and_workstation_restart(
    central: Any, tmp_path: Path, soak: int
) -> None:
    from workstation.pacs_node.archive.archive import Archive

    n = 40 * soak
    settings = settings_for_central(tmp_path / "ws", central.dicomweb_url)
    archive = Archive.open(settings)
    study_uid, uids = _import(archive, tmp_path, n)
    queue, worker = sync_worker(
        settings, archive, central.token("operator"), Backoff(base_s=0.3, max_s=2.0)
    )
    job_id = queue.enqueue_send_study(study_uid, uids, target="central")

    stopped = threading.Event()

    def _on_change(job: Any) -> None:
        if job.done >= 10 and not stopped.is_set():
            stopped.set()
            # Runs on the worker thread between two batches: Orthanc goes away mid-upload.
            central.stop()

    queue.subscribe(_on_change)
    worker.start()
    wait_until(lambda: stopped.is_set() and central.process.poll() is not None, 60, "Orthanc stop")
    wait_until(lambda: queue.job(job_id).attempts >= 2, 60, "a failed attempt and a retry")  # type: ignore[union-attr]
    job = queue.job(job_id)
    assert job is not None and job.state in (JobState.QUEUED, JobState.RUNNING)
    assert 10 <= job.done < n
    assert "cannot be reached" in job.last_error

    # The workstation restarts (worker and archive closed, everything reopened).
    worker.stop()
    archive.close()
    archive = Archive.open(settings)
    queue, worker = sync_worker(
        settings, archive, central.token("operator"), Backoff(base_s=0.3, max_s=2.0)
    )
    assert queue.job(job_id).state in (JobState.QUEUED, JobState.RUNNING)  # type: ignore[union-attr]
    central.restart()
    worker.start()
    try:
        wait_until(lambda: queue.job(job_id).state is JobState.DONE, 120, "the outbox to finish")  # type: ignore[union-attr]
    finally:
        worker.stop()
        archive.close()
    held = orthanc_study_instances(central, study_uid)
    assert sorted(held) == sorted(uids)  # every instance, once


def test_kill_9_of_sync_run_resumes(central: Any, tmp_path: Path) -> None:
    from workstation.pacs_node.archive.archive import Archive

    home = tmp_path / "ws"
    (home / "config").mkdir(parents=True)
    (home / "config" / "workstation.toml").write_text(
        f'[central]\ndicomweb_url = "{central.dicomweb_url}"\n'
    )
    settings = load_settings(home=home)
    with Archive.open(settings) as archive:
        study_uid, uids = _import(archive, tmp_path, 300)
        job_id = SyncQueue(archive.engine).enqueue_send_study(study_uid, uids, target="central")
    token = central.token("operator") + "\n"
    proc = start_sync_run(home, token)
    with Archive.open(settings) as archive:
        queue = SyncQueue(archive.engine)
        wait_until(
            lambda: queue.job(job_id).done >= 50 or proc.poll() is not None, 60, "upload start"
        )  # type: ignore[union-attr]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        partial = queue.job(job_id)
    assert partial is not None and partial.state is JobState.RUNNING and partial.done < 300
    done = finish_sync_run(home, token)
    assert done.returncode == 0, done.stdout + done.stderr
    with Archive.open(settings) as archive:
        assert SyncQueue(archive.engine).job(job_id).state is JobState.DONE  # type: ignore[union-attr]
    assert sorted(orthanc_study_instances(central, study_uid)) == sorted(uids)
