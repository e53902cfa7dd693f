"""Start-up cost of the ``workstation`` command, against importing its two big libraries.

Figure: the wall time of ``workstation studies --json`` on an empty archive (a new data
directory that the first, unmeasured run creates and migrates), median of N runs, against
the named peer ``python -c "import pydicom, sqlalchemy"`` measured alternately in the same
run on the same machine.  The ratio says what the command costs beyond the libraries it
cannot do without; the target is "a little more" (about 1.5x).

Byte-code caching is switched on for the children (``PYTHONDONTWRITEBYTECODE`` removed),
as in an installed copy; the unmeasured warm-up run writes the caches.

    .venv/bin/python benchmarks/cli_startup_bench.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["WORKSTATION_HOME"] = str(home)
    env["WORKSTATION_SITE_CONFIG"] = str(home / "no-site.toml")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def measure(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        env = _env(Path(tmp) / "home")
        ours = [sys.executable, "-m", "workstation", "studies", "--json"]
        peer = [sys.executable, "-c", "import pydicom, sqlalchemy"]
        _timed(ours, env)  # creates and migrates the archive, writes byte-code caches
        _timed(peer, env)
        ours_s, peer_s = [], []
        for _ in range(runs):
            ours_s.append(_timed(ours, env))
            peer_s.append(_timed(peer, env))
    ours_med, peer_med = statistics.median(ours_s), statistics.median(peer_s)
    return {
        "runs": runs,
        "workstation_studies_json_s": round(ours_med, 3),
        "import_pydicom_sqlalchemy_s": round(peer_med, 3),
        "ratio": round(ours_med / peer_med, 2),
        "workstation_min_s": round(min(ours_s), 3),
        "peer_min_s": round(min(peer_s), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.runs)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    out.write(
        f"workstation studies --json (empty archive): {result['workstation_studies_json_s']:.3f} s"
        f" median of {args.runs} (min {result['workstation_min_s']:.3f} s)\n"
        f'python -c "import pydicom, sqlalchemy":      {result["import_pydicom_sqlalchemy_s"]:.3f} s'
        f" median (min {result['peer_min_s']:.3f} s)\n"
        f"ratio: {result['ratio']:.2f}x\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
