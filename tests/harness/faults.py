"""Network faults made with real processes: freeze a server (SIGSTOP/SIGCONT), kill it
(SIGKILL), with every process it started (gunicorn workers, Orthanc's helpers).

A frozen server keeps its listening socket: the kernel still completes connections and
takes bytes until the buffers fill (a zero window), and nothing is answered - the peer
that "stops reading" of issue 16.  A killed one resets what was open and refuses new
connections until it is started again.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its living descendants (parents first)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = text[text.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def signal_tree(pid: int, sig: signal.Signals) -> None:
    for p in process_tree(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, sig)


def freeze(pid: int) -> None:
    """SIGSTOP the process and its descendants."""
    signal_tree(pid, signal.SIGSTOP)


def thaw(pid: int) -> None:
    """SIGCONT the process and its descendants."""
    signal_tree(pid, signal.SIGCONT)


def kill_9(pid: int) -> None:
    """SIGKILL the process and its descendants, all at once (no graceful shutdown)."""
    signal_tree(pid, signal.SIGKILL)


@contextlib.contextmanager
def frozen(pid: int) -> Iterator[None]:
    """Frozen inside the block; running again after it, whatever happened."""
    freeze(pid)
    try:
        yield
    finally:
        thaw(pid)
