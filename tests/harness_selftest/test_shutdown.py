"""The session-end settling (tests/harness/shutdown.py): it finds what would outlive the
suite, and closes Qt widgets and VTK render windows while the application still lives."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.harness import shutdown

ROOT = Path(__file__).resolve().parents[2]


def test_threads_that_would_outlive_the_suite_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutdown, "GRACE_S", 0.2)
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="stuck-worker")
    thumbnails = threading.Thread(target=release.wait, name="viewer-thumbnails", daemon=True)
    quiet = threading.Thread(target=release.wait, name="some-daemon", daemon=True)
    pool = ThreadPoolExecutor(1, thread_name_prefix="idle-pool")
    pool.submit(lambda: None).result()
    for thread in (stuck, thumbnails, quiet):
        thread.start()
    try:
        found = shutdown.settle()
    finally:
        release.set()
        pool.shutdown()
    assert "stuck-worker" in found.non_daemon
    assert found.qt_daemon == ["viewer-thumbnails"]
    assert not any(name.startswith("idle-pool") for name in found.non_daemon)
    assert "some-daemon" not in found.non_daemon + found.qt_daemon
    assert found.fatal
    assert any("stuck-worker" in line for line in found.lines())


def test_threads_that_end_within_the_grace_time_are_waited_for() -> None:
    done = threading.Event()
    worker = threading.Thread(target=lambda: done.wait(0.3), name="finishing")
    worker.start()
    found = shutdown.settle()
    assert "finishing" not in found.non_daemon and not worker.is_alive()


SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from workstation.viewer._vtk.qvtk import ViewerRenderWidget
from tests.harness.shutdown import settle
widget = ViewerRenderWidget()
widget.resize(120, 120)
widget.show()
app.processEvents()
widget.render_now()
found = settle()
print(found.render_windows_finalized, found.widgets_closed, widget.closed, found.fatal)
"""


@pytest.mark.qt
def test_render_windows_are_finalized_and_windows_closed_while_qt_lives() -> None:
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (run under xvfb-run, as scripts/test.sh does)")
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", SCRIPT],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["1", "1", "True", "False"], result.stdout


@pytest.mark.parametrize(("code", "status", "named"), [("pass", 0, None), ("segv", 139, "SEGV")])
def test_the_test_command_fails_by_name_when_python_dies_by_a_signal(
    code: str, status: int, named: str | None
) -> None:
    """scripts/test.sh runs pytest through lib.sh's run_reporting_signals."""
    program = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)" if code == "segv" else ""
    result = subprocess.run(
        ["sh", "-c", f'. "{ROOT}/scripts/lib.sh"; run_reporting_signals "$0" -c "$1"',
         sys.executable, program],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == status
    if named:
        assert f"killed by signal 11 ({named})" in result.stderr
    else:
        assert "killed by signal" not in result.stderr
