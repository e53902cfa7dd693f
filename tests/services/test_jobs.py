from __future__ import annotations

import threading

import pytest

from workstation.services.jobs import JobContext, JobKind, JobRegistry, JobState


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    reg = JobRegistry(max_workers=2)
    yield reg
    reg.shutdown()


def test_progress_failures_and_retry(registry: JobRegistry) -> None:
    attempts: list[int] = []
    changes: list[int] = []
    registry.subscribe(changes.append)

    def run(ctx: JobContext) -> str:
        attempts.append(1)
        for i in range(5):
            ctx.progress(i + 1, 5, f"{i + 1} of 5")
        if len(attempts) == 1:
            ctx.fail_item("IM0003", "The peer refused it (0xA700: out of resources).")
        return "summary"

    job = registry.submit(JobKind.SEND, "Send study", run)
    snap = registry.wait(job, 10)
    assert snap.state is JobState.PARTIAL and snap.done == snap.total == 5
    assert snap.failures[0].item == "IM0003" and "A700" in snap.failures[0].reason
    assert snap.can_retry and snap.result == "summary" and changes
    again = registry.retry(job.id)
    assert registry.wait(again, 10).state is JobState.DONE
    assert len(attempts) == 2 and not again.snapshot().can_retry
    with pytest.raises(ValueError):
        registry.retry(again.id)


def test_cancel_and_failure_reason(registry: JobRegistry) -> None:
    started = threading.Event()

    def slow(ctx: JobContext) -> None:
        started.set()
        while True:
            ctx.check_cancelled()
            ctx.cancel_event.wait(0.01)

    job = registry.submit(JobKind.IMPORT, "Import", slow)
    assert started.wait(5)
    registry.cancel(job.id)
    assert registry.wait(job, 5).state is JobState.CANCELLED

    def broken(_ctx: JobContext) -> None:
        raise OSError("The disc could not be read: input/output error")

    failed = registry.wait(registry.submit(JobKind.IMPORT, "Import", broken), 5)
    assert failed.state is JobState.FAILED and "input/output" in failed.error
    registry.clear_finished()
    assert registry.snapshots() == []
