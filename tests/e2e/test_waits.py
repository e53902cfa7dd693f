"""The e2e helper's waits on the real process: a window that can no longer come fails
the wait at once with the process's exit and output, not after the start-up bound."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.app_process import AppProcess
from tests.e2e.xdriver import XDriver


def test_waiting_for_a_window_of_an_app_that_ended_fails_at_once(
    x: XDriver, tmp_path: Path
) -> None:
    # A settings error ends the real process before any window (exit 6).
    proc = AppProcess(tmp_path / "home", {"WORKSTATION_NODE__PORT": "not-a-port"}).start()
    try:
        started = time.monotonic()
        with pytest.raises(AssertionError) as failed:
            proc.wait_window(x, r"Log in$", timeout=120)
        assert time.monotonic() - started < 60
        text = str(failed.value)
        assert "the app ended (exit 6)" in text, text
        assert "no login window shown" in text and "Settings error" in text, text
    finally:
        proc.close()
