"""The one observer mechanism: order, disconnect, a failing listener, threads."""

from __future__ import annotations

import logging
import threading

import pytest

from workstation.events import Event


def test_listeners_run_in_order_and_disconnect() -> None:
    event = Event("test")
    heard: list[tuple[str, int]] = []
    event.connect(lambda n: heard.append(("a", n)))
    disconnect_b = event.connect(lambda n: heard.append(("b", n)))
    event.emit(1)
    disconnect_b()
    disconnect_b()  # twice is harmless
    event.emit(2)
    assert heard == [("a", 1), ("b", 1), ("a", 2)]
    assert len(event) == 1
    event.clear()
    event.emit(3)
    assert len(event) == 0 and heard[-1] == ("a", 2)


def test_a_failing_listener_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = Event("archive changes")
    heard: list[str] = []

    def broken(_value: str) -> None:
        raise RuntimeError("panel bug")

    event.connect(broken)
    event.connect(heard.append)
    with caplog.at_level(logging.ERROR, logger="workstation.events"):
        event.emit("study_added")  # does not raise into the emitter
    assert heard == ["study_added"]
    assert "listener of archive changes failed" in caplog.text
    assert "panel bug" in caplog.text


def test_connecting_during_an_emit_counts_from_the_next_one() -> None:
    event = Event()
    late: list[int] = []

    def first(n: int) -> None:
        event.connect(late.append)

    event.connect(first)
    event.emit(1)
    assert late == []
    event.emit(2)
    assert late == [2]


def test_threads_connect_and_emit_at_once() -> None:
    event = Event()
    counts = [0] * 8
    lock = threading.Lock()

    def listener(i: int) -> None:
        with lock:
            counts[i] += 1

    def worker(i: int) -> None:
        stop = event.connect(listener)
        for _ in range(200):
            event.emit(i)
        stop()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(event) == 0
    # Each emit reached at least the worker's own listener, which was connected throughout.
    assert all(c >= 200 for c in counts)
