"""The central Orthanc goes away in the middle of an outbox upload and of a retrieve
(issue 16, Build 4), by real signals: frozen (SIGSTOP: connections hang, nothing is
answered), killed (SIGKILL: the stream breaks off, then nobody listens), restarted.

Each fault ends the run with a clear status in the activity panel (the engine's
``sync_snapshot``: "Waiting to retry (attempt n): The central archive cannot be reached:
<why>"), the job waits and retries by itself, nothing Orthanc acknowledged is lost, and
in the end Orthanc (or our archive, for a retrieve) holds every instance exactly once.
A central name that does not resolve (``.invalid``) is the same kind of status.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.faults import freeze, kill_9, thaw
from tests.harness.ports import wait_until
from tests.pacs_node.dimse.data import write_study
from tests.pacs_node.sync.central_sync import (
    orthanc_study_instances,
    settings_for_central,
    sync_worker,
)
from workstation.config import Settings
from workstation.pacs_node.archive.check import check_archive
from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider
from workstation.pacs_node.sync.jobs import Backoff, ItemState, JobState, JobView
from workstation.pacs_node.sync.queue import SyncQueue
from workstation.pacs_node.sync.remotes import remote_resolver
from workstation.pacs_node.sync.worker import SyncWorker
from workstation.services.activity import sync_snapshot
from workstation.services.jobs import JobState as PanelState

pytestmark = [pytest.mark.network, pytest.mark.orthanc, pytest.mark.postgres]

#: The central's HTTP timeout in these tests: a frozen server is given up on after it.
TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def central(orthanc_factory: Any) -> Iterator[Any]:
    """A central Orthanc of its own (frozen, killed and restarted here)."""
    server = orthanc_factory(token_filter=True, index="postgresql", name="faults-central")
    yield server
    if server.process is not None:
        thaw(server.process.pid)  # a failed test must not leave it stopped


def _settings(home: Path, url: str) -> Settings:
    return settings_for_central(home, url, timeout_seconds=TIMEOUT_S)


def _worker(settings: Settings, archive: Any, token: str) -> tuple[SyncQueue, SyncWorker]:
    return sync_worker(settings, archive, token, Backoff(base_s=0.5, max_s=2.0, jitter=0.0))


def _waiting_because(queue: SyncQueue, job_id: int, why: str) -> JobView:
    """Wait until the job is back in the queue after a failed run whose error says ``why``."""
    seen: list[str] = []

    def _back() -> bool:
        job = queue.job(job_id)
        if job is None or job.state is not JobState.QUEUED or not job.attempts:
            return False
        seen.append(job.last_error)
        return why in job.last_error

    try:
        wait_until(_back, 60, f"job {job_id} waiting because {why!r}")
    except TimeoutError:
        pytest.fail(f"never waiting because {why!r}; errors seen: {sorted(set(seen))}")
    job = queue.job(job_id)
    assert job is not None
    return job


def _assert_panel_says_waiting(job: JobView, why: str) -> None:
    """What the activity panel shows: waiting to retry, with the reason in words."""
    snap = sync_snapshot(job)
    assert snap.state is PanelState.QUEUED
    assert snap.message.startswith(f"Waiting to retry (attempt {job.attempts}): ")
    assert "The central archive cannot be reached" in snap.message
    assert why in snap.message, snap.message


def test_outbox_rides_out_a_frozen_then_killed_orthanc(central: Any, tmp_path: Path) -> None:
    from workstation.pacs_node.archive.archive import Archive

    settings = _settings(tmp_path / "ws", central.dicomweb_url)
    files = write_study(tmp_path / "study", 60, size=64, patient_id="P-FAULT")
    archive = Archive.open(settings)
    stored = [archive.store_file(f) for f in files]
    study_uid, uids = stored[0].study_instance_uid, [r.sop_instance_uid for r in stored]
    queue, worker = _worker(settings, archive, central.token("operator"))
    job_id = queue.enqueue_send_study(study_uid, uids, target="central")
    pid = central.process.pid
    fault: dict[str, int] = {}

    def _on_change(job: JobView) -> None:
        # On the worker thread, between two batches: the fault strikes mid-upload.
        if "frozen_at" not in fault and job.done >= 10:
            fault["frozen_at"] = job.done
            freeze(pid)
        elif "killed_at" not in fault and "thawed" in fault and job.done >= fault["thawed"] + 10:
            fault["killed_at"] = job.done
            kill_9(pid)

    queue.subscribe(_on_change)
    worker.start()
    try:
        # 1. Frozen: the STOW request hangs; the run ends after the timeout, clearly.
        started = time.monotonic()
        no_answer = f"no answer from 127.0.0.1 within {TIMEOUT_S:g} s"
        job = _waiting_because(queue, job_id, no_answer)
        assert time.monotonic() - started < TIMEOUT_S + 30
        _assert_panel_says_waiting(job, no_answer)
        assert job.done == fault["frozen_at"] < 60
        fault["thawed"] = job.done
        thaw(pid)
        # 2. Killed: the upload breaks off, then nobody listens; retries keep failing.
        wait_until(lambda: "killed_at" in fault, 60, "the kill -9")
        central.process.wait(timeout=10)
        job = _waiting_because(queue, job_id, "127.0.0.1 refuses connections")
        _assert_panel_says_waiting(job, "refuses connections")
        # Everything Orthanc acknowledged before its death survived it.
        acknowledged = set(queue.items(job_id, ItemState.SENT))
        assert len(acknowledged) == job.done >= fault["killed_at"]
        worker.stop()
        central.restart()
        assert acknowledged <= set(orthanc_study_instances(central, study_uid))
        # 3. Back: the outbox finishes by itself.
        worker.start()
        wait_until(lambda: queue.job(job_id).state is JobState.DONE, 120, "the outbox")  # type: ignore[union-attr]
    finally:
        worker.stop()
        thaw(pid)
        archive.close()
    held = orthanc_study_instances(central, study_uid)
    assert sorted(held) == sorted(uids)  # every instance, once
    done = queue.job(job_id)
    assert done is not None and sync_snapshot(done).message == "60 of 60 confirmed by central"


def test_a_retrieve_cut_off_by_kill_9_keeps_what_arrived_and_completes_later(
    central: Any, tmp_path: Path
) -> None:
    from workstation.pacs_node.archive.archive import Archive

    count = 160  # 128 KiB each: more than the socket buffers hold, so the kill cuts the stream
    files = write_study(tmp_path / "central-study", count, size=256, patient_id="P-FAULT-IN")
    uploader = Archive.open(_settings(tmp_path / "uploader", central.dicomweb_url))
    try:
        sent = remote_resolver(
            _settings(tmp_path / "uploader", central.dicomweb_url), uploader,
            StaticTokenProvider(central.token("operator")),
        )("central").send(files)  # fmt: skip
    finally:
        uploader.close()
    assert sent.ok and sent.completed == count, sent.error
    study_uid = _study_of(files[0])

    settings = _settings(tmp_path / "ws", central.dicomweb_url)
    archive = Archive.open(settings)
    queue, worker = _worker(settings, archive, central.token("operator"))
    job_id = queue.enqueue_retrieve_study(study_uid, target="central")
    pid = central.process.pid
    killed = threading.Event()

    def _on_change(job: JobView) -> None:
        if not killed.is_set() and job.done >= 10:
            killed.set()
            kill_9(pid)

    queue.subscribe(_on_change)
    worker.start()
    try:
        # Cut mid-stream, and nobody listens until the restart.
        job = _waiting_because(queue, job_id, "127.0.0.1 broke off")
        assert killed.is_set()
        _assert_panel_says_waiting(job, "")
        job = _waiting_because(queue, job_id, "refuses connections")
        # What arrived before the cut is durable, indexed, and the archive is consistent.
        kept = archive.counts()["instances"]
        assert 10 <= kept < count
        assert not check_archive(archive).damaged
        worker.stop()
        central.restart()
        worker.start()
        wait_until(lambda: queue.job(job_id).state is JobState.DONE, 180, "the retrieve")  # type: ignore[union-attr]
    finally:
        worker.stop()
        thaw(pid)
    try:
        assert archive.counts()["instances"] == count
        assert not check_archive(archive).damaged
    finally:
        archive.close()


def _study_of(path: Path) -> str:
    from pydicom import dcmread

    return str(dcmread(path, stop_before_pixels=True).StudyInstanceUID)


def test_a_central_name_that_does_not_resolve_is_a_clear_waiting_status(tmp_path: Path) -> None:
    from workstation.pacs_node.archive.archive import Archive

    url = "http://central.klinika.invalid:8042/dicom-web"
    settings = _settings(tmp_path / "ws", url)
    files = write_study(tmp_path / "study", 3, size=16)
    with Archive.open(settings) as archive:
        stored = [archive.store_file(f) for f in files]
        queue, worker = _worker(settings, archive, "no-token-needed")
        job_id = queue.enqueue_send_study(
            str(stored[0].study_instance_uid), [str(r.sop_instance_uid) for r in stored],
            target="central",
        )  # fmt: skip
        started = time.monotonic()
        assert worker.run_once()
        assert time.monotonic() - started < TIMEOUT_S + 10
        job = queue.job(job_id)
        assert job is not None and job.state is JobState.QUEUED and job.done == 0
        _assert_panel_says_waiting(job, "the name central.klinika.invalid cannot be resolved (DNS)")
        assert queue.items(job_id, ItemState.PENDING)  # kept for the next attempt


def test_a_c_get_from_an_orthanc_killed_mid_transfer_ends_clearly_and_completes_later(
    central: Any, tmp_path: Path
) -> None:
    """Our SCU's C-GET (the DIMSE retrieve) from the central Orthanc, killed after five
    instances: the retrieve ends with the lost association in words, what arrived is kept
    and indexed, and the same C-GET after the restart completes the study."""
    from workstation.config import PeerNode
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dimse.scu import DimseNode

    count = 40
    files = write_study(tmp_path / "dimse-study", count, size=512, patient_id="P-FAULT-GET")
    uploader = _settings(tmp_path / "uploader", central.dicomweb_url)
    with Archive.open(uploader) as up:
        sent = remote_resolver(uploader, up, StaticTokenProvider(central.token("operator")))(
            "central"
        ).send(files)
    assert sent.ok, sent.error
    study_uid = _study_of(files[0])

    settings = _settings(tmp_path / "ws", central.dicomweb_url)
    settings = dataclasses.replace(
        settings,
        node=dataclasses.replace(
            settings.node, ae_title="FAULTWS", acse_timeout=5.0, dimse_timeout=5.0,
            network_timeout=5.0,
        ),
    )  # fmt: skip
    peer = PeerNode(name="central", ae_title=central.aet, host="127.0.0.1",
                    port=central.dicom_port)  # fmt: skip
    central.add_modality("faults-ws", "FAULTWS", 104, AllowGet=True, AllowFind=True)
    pid = central.process.pid
    killed = threading.Event()

    def _progress(p: Any) -> None:
        if p.done >= 5 and not killed.is_set():
            killed.set()
            kill_9(pid)

    with Archive.open(settings) as archive:
        node = DimseNode(settings, peer, archive=archive)
        try:
            started = time.monotonic()
            cut = node.get(study_uid, progress=_progress)
            assert killed.is_set() and time.monotonic() - started < 5.0 + 30
            assert not cut.ok and "was lost: it closed the connection, or did not answer" in (
                cut.error
            ), cut.as_dict()
            kept = archive.counts()["instances"]
            assert 5 <= kept < count and cut.completed == kept  # what arrived, counted
            assert not check_archive(archive).damaged
            central.restart()
            central.add_modality("faults-ws", "FAULTWS", 104, AllowGet=True, AllowFind=True)
            again = node.get(study_uid)
            assert again.ok, again.as_dict()
            assert archive.counts()["instances"] == count
        finally:
            thaw(pid)


class _StaleLogin:
    """A token provider whose login cannot be renewed (the auth API is away)."""

    def access_token(self) -> str | None:
        return "an-expired-token"

    def token_rejected(self, token: str) -> None:
        return None

    def renewal_problem(self) -> str:
        return "The central server at http://auth.example cannot be reached."


def test_a_refusal_while_the_login_cannot_be_renewed_says_so(central: Any, tmp_path: Path) -> None:
    """Orthanc refuses the stale token (403); the status names the real cause - the auth
    API could not renew the login - instead of "log in again"."""
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dicomweb.client import DicomWebNode

    files = write_study(tmp_path / "study", 2, size=16)
    with Archive.open(_settings(tmp_path / "ws", central.dicomweb_url)) as archive:
        node = DicomWebNode(central.dicomweb_url, _StaleLogin(), archive=archive, timeout_s=10)
        sent = node.send(files)
        got = node.retrieve(_study_of(files[0]))
    for error in (sent.error, got.error):
        assert error.startswith("The central archive refused access (HTTP 403) because your")
        assert "login could not be renewed: The central server at http://auth.example" in error
