"""The real ``workstation`` process started with language ``ru`` shows Russian windows
(issue 10 §4: "Русский saved but UI stays English")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.qt,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display: run under xvfb-run"),
    pytest.mark.skipif(
        shutil.which("xwininfo") is None, reason="xwininfo (x11-utils) not installed"
    ),
]


def _window_names() -> str:
    run = subprocess.run(
        ["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=10, check=False
    )
    return run.stdout


def _start(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        WORKSTATION_HOME=str(home),
        QT_QPA_PLATFORM="xcb",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    env.pop("WORKSTATION_GENERAL__LANGUAGE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "workstation", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_title(title: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    names = ""
    while time.monotonic() < deadline and proc.poll() is None:
        names = _window_names()
        if title in names:
            return names
        time.sleep(0.3)
    return names


@pytest.mark.parametrize(
    ("how", "title"),
    [
        ("saved", "Klinika Workstation — Вход"),
        ("command line", "Klinika Workstation — Anmelden"),
    ],
)
def test_the_app_process_starts_in_the_chosen_language(
    tmp_path: Path, how: str, title: str
) -> None:
    home = tmp_path / "home"
    args: list[str] = []
    if how == "saved":  # what the settings dialog writes
        (home / "config").mkdir(parents=True)
        (home / "config" / "workstation.toml").write_text('[general]\nlanguage = "ru"\n')
    else:
        args = ["--set", "general.language=de"]
    proc = _start(home, *args)
    try:
        names = _wait_for_title(title, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert title in names, f"no window titled {title!r}; windows:\n{names[-2000:]}"
