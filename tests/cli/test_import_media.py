"""``workstation import --media`` with no medium mounted says so instead of "nothing to
import" (exit 4 when nothing else was named; the named folders are still imported)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.workstation_process import workstation
from tests.pacs_node.archive.synth import write_series
from workstation.cli import exit_codes
from workstation.pacs_node.archive.importing import removable_media


@pytest.fixture(autouse=True)
def _no_media_here() -> None:
    if removable_media():
        pytest.skip("this machine has removable media mounted")


def test_import_media_without_media_says_no_media_was_found(tmp_path: Path) -> None:
    run = workstation(tmp_path / "home", "import", "--media")
    assert run.code == exit_codes.NOT_FOUND
    assert "No removable media found" in run.err and "Nothing to import" not in run.err


def test_import_media_and_a_folder_imports_the_folder_and_notes_the_missing_media(
    tmp_path: Path,
) -> None:
    write_series(tmp_path / "in", 2)
    run = workstation(tmp_path / "home", "import", "--media", str(tmp_path / "in"), "--json")
    assert run.code == exit_codes.OK, run.err
    assert run.json()["stored"] == 2 and "No removable media found" in run.err
