"""A background thread lowers its own CPU priority, and the threads it starts (as VTK
starts its ray-cast helpers) inherit it; the calling (GUI) thread keeps its own."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from workstation.mpr.thread_priority import BACKGROUND_NICENESS, lower_this_thread


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_worker_thread_and_its_children_run_below_the_caller() -> None:
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int | bool] = {}

    def child() -> None:
        seen["child"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def worker() -> None:
        seen["lowered"] = lower_this_thread()
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        started = threading.Thread(target=child)
        started.start()
        started.join()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    expected = min(19, main_before + BACKGROUND_NICENESS)
    assert seen == {"lowered": True, "worker": expected, "child": expected}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before
