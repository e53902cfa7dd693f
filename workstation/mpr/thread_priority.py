"""Background threads of the 3-D view give way to the GUI thread for the CPU.

On a loaded 2-core machine a worker rendering or computing gradients (VTK spreads that
over helper threads it starts from the worker) competes with the GUI thread at equal
priority, and a 50 ms GUI frame stretched past 200 ms. On Linux the nice value belongs
to each thread, and threads a thread starts inherit it: a worker raises its own at
its start, so its helpers run below the GUI thread. Raising it needs no privilege;
elsewhere (or if refused) nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

#: Nice steps a background thread takes below the GUI thread.
BACKGROUND_NICENESS = 5


def lower_this_thread(steps: int = BACKGROUND_NICENESS) -> bool:
    """Lower the calling thread's CPU priority by `steps`; True if it was lowered."""
    if sys.platform != "linux":
        return False
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        now = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + steps))
        return True
    return False
