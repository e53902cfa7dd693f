"""Run the real ``workstation`` command as a subprocess, as a shell would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def workstation(
    home: Path,
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Run:
    """``python -m workstation --home HOME ARGS...`` with ``stdin``; its exit code and output."""
    base = dict(os.environ if env is None else env)
    base.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run(
        [sys.executable, "-m", "workstation", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=base,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
