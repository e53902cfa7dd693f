"""End-to-end tests: the real ``workstation`` process in a real X window (Xvfb), driven
by real key and mouse events (xdotool).  Skipped without a display or the tools."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.app_process import AppProcess
from tests.e2e.xdriver import XDriver, missing_tools
from tests.harness.ports import free_port

pytestmark = [pytest.mark.qt, pytest.mark.slow]

#: Set to a folder to keep the screenshots (docs/screenshots/ for the README).
SCREENSHOT_ENV = "KLINIKA_E2E_SCREENSHOTS"


@pytest.fixture
def x() -> XDriver:
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: run under xvfb-run")
    if missing := missing_tools():
        pytest.skip(f"{', '.join(missing)} not installed (Debian xdotool, imagemagick)")
    return XDriver()


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[Callable[..., AppProcess]]:
    """``app_process(**env)`` -> a started ``workstation`` with a fresh data directory
    and its DICOM node on a free loopback port."""
    started: list[AppProcess] = []

    def start(**env: str) -> AppProcess:
        node = {
            "WORKSTATION_NODE__PORT": str(free_port()),
            "WORKSTATION_NODE__BIND_ADDRESS": "127.0.0.1",
        }
        proc = AppProcess(tmp_path / f"home{len(started)}", {**node, **env})
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $KLINIKA_E2E_SCREENSHOTS, else the test's own folder."""
    return Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "screenshots")
