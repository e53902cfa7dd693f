"""The ``workstation`` command as a real process for report tests, with no OS keyring
(the null backend: a key's passphrase comes on stdin)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def ws(
    *args: str | Path, stdin: str = "", home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m workstation ARGS...`` with ``stdin``; its home is ``home`` when given,
    else the test's WORKSTATION_HOME."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    if home is not None:
        env["WORKSTATION_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "workstation", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )
