"""The real ``workstation`` process (``python -m workstation``, the installed entry
point's code path) with its own data directory, and what it writes to its log file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.xdriver import XDriver, wait_for


class AppProcess:
    """Start ``workstation`` (the GUI) and read its log; stop it in ``close``."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "WORKSTATION_HOME": str(home),
            # A real X window under Xvfb, never the offscreen platform of the GUI tests.
            "QT_QPA_PLATFORM": "xcb",
            # Nothing touches a real keyring: "no keyring" is the online-only mode.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.output = home.parent / f"{home.name}-stdout.txt"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "workstation.log"

    def start(self, *args: str) -> AppProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workstation", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    # -- state ---------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def count(self, pattern: str) -> int:
        return len(re.findall(pattern, self.log()))

    def wait_log(self, pattern: str, timeout: float = 60.0, times: int = 1) -> None:
        """Wait until ``pattern`` (a regex) is in the log ``times`` times; fail early
        when the process ended."""

        def seen() -> bool:
            if not self.alive():
                raise AssertionError(
                    f"the app ended (exit {self.exit_code}) while waiting for {pattern!r}\n"
                    + self.tail()
                )
            return self.count(pattern) >= times

        wait_for(seen, timeout, f"log line {pattern!r} x{times}\n{self.tail()}")

    def ended(self) -> str:
        """'' while the process runs, else its exit (for waits that cannot succeed)."""
        return "" if self.alive() else f"the app ended (exit {self.exit_code})"

    def wait_window(self, x: XDriver, name_regex: str, timeout: float) -> str:
        """A window of this app; fails at once when the process ended, and on a timeout
        says whether the app logged that it showed its login window, with its log."""
        try:
            return x.wait_window(name_regex, timeout, ended=self.ended)
        except AssertionError as exc:
            shown = re.findall(r"login window shown \d+ ms after run_app", self.log())
            raise AssertionError(f"{exc}\napp log says: {shown or 'no login window shown'}\n"
                                 + self.tail()) from None  # fmt: skip

    def stays_up(self, seconds: float) -> None:
        """Fail if the process ends within ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.alive(), f"the app ended (exit {self.exit_code})\n{self.tail()}"
            time.sleep(0.2)

    def tail(self, lines: int = 40) -> str:
        out = self.output.read_text(errors="replace") if self.output.exists() else ""
        return (
            "--- log ---\n"
            + "\n".join(self.log().splitlines()[-lines:])
            + ("\n--- stdout/stderr ---\n" + "\n".join(out.splitlines()[-lines:]))
        )

    @property
    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def wait_exit(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the app did not end within {timeout:.0f} s\n{self.tail()}"
            ) from None

    def close(self) -> None:
        """Stop the process group if it still runs (a failed test)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
