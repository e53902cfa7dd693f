"""``scripts/start.sh`` installs on the first run and when a pyproject.toml changed, not on
every start.  The real script runs in a temporary copy of the checkout whose ``.venv``
holds a python that records pip calls (and runs everything else) and a stand-in
``workstation``; ``dpkg-query`` reports every runtime package installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "scripts", root / "scripts")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "central").mkdir()
    shutil.copy(ROOT / "central" / "pyproject.toml", root / "central" / "pyproject.toml")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _script(
        bin_dir / "python",
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "pip $*" >>"$PIP_LOG"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n',
    )
    _script(bin_dir / "workstation", 'echo "workstation started $*"\n')
    shims = tmp_path / "shims"
    shims.mkdir()
    _script(shims / "dpkg-query", "echo 'install ok installed'\n")
    return root


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


def _start(checkout: Path) -> list[str]:
    """Run start.sh once; the pip calls it made."""
    log = checkout.parent / "pip.log"
    log.unlink(missing_ok=True)
    env = {
        "PATH": f"{checkout.parent / 'shims'}:/usr/bin:/bin",
        "PIP_LOG": str(log),
        "HOME": str(checkout.parent),
    }
    proc = subprocess.run(
        ["sh", str(checkout / "scripts" / "start.sh"), "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "workstation started --version"
    return log.read_text().splitlines() if log.exists() else []


def test_start_installs_on_the_first_run_and_when_a_pyproject_changes_only(
    checkout: Path,
) -> None:
    first = _start(checkout)
    assert len(first) == 2 and "-e" in first[0] and "central" in first[1]
    assert (checkout / ".venv" / ".klinika-install-stamp").is_file()
    # Second and third starts: no pip at all.
    assert _start(checkout) == []
    assert _start(checkout) == []
    # A dependency changed: install again, once.
    with (checkout / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n# a changed dependency\n")
    assert len(_start(checkout)) == 2
    assert _start(checkout) == []
    # The central's pyproject counts too.
    with (checkout / "central" / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n# changed\n")
    assert len(_start(checkout)) == 2
    # A lost stamp (or a broken install) means: install.
    (checkout / ".venv" / ".klinika-install-stamp").unlink()
    assert len(_start(checkout)) == 2
