"""pynetdicom's own tests of the layers our tuning replaces pass with the tuning installed.

``workstation.pacs_node.dimse.pynetdicom_tuning`` installs code that mirrors pynetdicom
3.0 internals (the reactors, the C-STORE response, the context copy); the DUL, state
machine, DIMSE-provider, association and storage-service tests that ship with
pynetdicom are the sharpest check that it still behaves as pynetdicom's own code does.

Every run (CI) takes a short selection, about 140 tests: test_dul, test_dimse_provider,
test_service_storage, the functional and event classes of test_fsm, and the
association, C-ECHO and C-STORE classes of test_assoc (the SCU calls that pause the
reactor).  ``KLINIKA_PYNETDICOM_SUITE=full`` runs all of test_dul, test_fsm,
test_dimse_provider, test_assoc, test_service_storage and test_service_qr (~1,000 tests,
several minutes).

Many of these tests race a real socket against a sleep (the per-state tests of test_fsm
fail with stock pynetdicom too on a loaded machine), so a failing test is run again, on
its own, twice: a real difference fails all three times.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pynetdicom
import pytest

ROOT = Path(__file__).resolve().parents[3]
SHORT = (
    "test_dul.py",
    "test_dimse_provider.py",
    "test_service_storage.py",
    "test_fsm.py::TestStateMachineFunctionalRequestor",
    "test_fsm.py::TestStateMachineFunctionalAcceptor",
    "test_fsm.py::TestEventHandling",
    "test_assoc.py::TestAssociation",
    "test_assoc.py::TestAssociationSendCEcho",
    "test_assoc.py::TestAssociationSendCStore",
)
FULL = (
    "test_dul.py",
    "test_fsm.py",
    "test_dimse_provider.py",
    "test_assoc.py",
    "test_service_storage.py",
    "test_service_qr.py",
)
RUNS_PER_FAILURE = 2

pytestmark = [pytest.mark.network, pytest.mark.slow]


def _pytest(tests: Path, ini: Path, selection: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(tests),
         "-p", "tests.pacs_node.dimse.pynetdicom_tuned", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-q", "-rfE", *selection],
        cwd=tests, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip


def _failed(output: str) -> list[str]:
    return re.findall(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", output, re.MULTILINE)


def test_pynetdicoms_own_tests_pass_with_our_tuning(tmp_path: Path) -> None:
    tests = Path(pynetdicom.__file__).parent / "tests"
    full = os.environ.get("KLINIKA_PYNETDICOM_SUITE") == "full"
    selection = list(FULL if full else SHORT)
    if not all((tests / item.split("::")[0]).is_file() for item in selection):
        pytest.skip("this pynetdicom was packaged without its own tests")
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\nmarkers =\n    serial\n")
    result = _pytest(tests, ini, selection)
    assert " passed" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]
    failed = _failed(result.stdout)
    assert result.returncode == 0 or failed, result.stdout[-4000:] + result.stderr[-2000:]
    still = []
    for test in failed:
        runs = [_pytest(tests, ini, [test]) for _ in range(RUNS_PER_FAILURE)]
        if all(run.returncode != 0 for run in runs):
            still.append(f"{test}\n{runs[-1].stdout[-2000:]}")
    assert not still, "failed three times with our tuning:\n" + "\n".join(still)
