"""pynetdicom's own tests of the layers our tuning replaces pass with the tuning installed.

``workstation.pacs_node.dimse.reactor`` and ``store_response`` mirror pynetdicom 3.0
internals; the DUL, DIMSE-provider and storage-service tests that ship with pynetdicom
are the sharpest check that they still behave as pynetdicom's own code does (after an
upgrade too).  The whole association suite (test_assoc, test_service_qr, ~700 tests,
~6 min) passed the same way when the tuning was written; it is too slow for every run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pynetdicom
import pytest

ROOT = Path(__file__).resolve().parents[3]
SUITES = ("test_dul.py", "test_dimse_provider.py", "test_service_storage.py")

pytestmark = [pytest.mark.network, pytest.mark.slow]


def test_pynetdicoms_own_tests_pass_with_our_tuning(tmp_path: Path) -> None:
    tests = Path(pynetdicom.__file__).parent / "tests"
    if not all((tests / name).is_file() for name in SUITES):
        pytest.skip("this pynetdicom was packaged without its own tests")
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\nmarkers =\n    serial\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(tmp_path),
         "-p", "tests.pacs_node.dimse.pynetdicom_tuned", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-q", *(str(tests / name) for name in SUITES)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
