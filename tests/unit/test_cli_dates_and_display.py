"""``studies --date`` takes ISO and DICOM dates and ranges and refuses impossible ones
(exit 2); ``workstation`` without a display says so before Qt starts (exit 8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.workstation_process import workstation
from tests.pacs_node.archive.synth import write_series
from workstation.cli import exit_codes
from workstation.cli._display import missing_display_reason
from workstation.pacs_node.archive.normalize import parse_date_range


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01", ("20240101", "20240101")),
        ("20240101", ("20240101", "20240101")),
        ("2024-01-01-2024-01-31", ("20240101", "20240131")),
        ("2024-01-01..2024-01-31", ("20240101", "20240131")),
        ("2024-01-01/2024-01-31", ("20240101", "20240131")),
        ("20240101-2024-01-31", ("20240101", "20240131")),
        ("2024-01-01-", ("20240101", None)),
        ("-2024-01-31", (None, "20240131")),
        ("20240229", ("20240229", "20240229")),
    ],
)
def test_iso_and_dicom_dates_and_ranges(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_date_range(text) == expected


@pytest.mark.parametrize(
    "text",
    ["20240231", "2023-02-29", "2024-13-01", "20240100", "2024-01-31-2024-01-01", "-", "", "2024"],
)
def test_impossible_dates_and_backward_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date_range(text)


def test_studies_date_from_a_shell(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_series(tmp_path / "in", 2, study_date="20240115")
    assert workstation(home, "import", str(tmp_path / "in")).code == exit_codes.OK
    for form in ("2024-01-15", "20240115", "2024-01-01-2024-01-31", "2024-01-01..2024-01-31"):
        run = workstation(home, "studies", "--json", "--date", form)
        assert run.code == exit_codes.OK and len(run.json()) == 1, form
    assert workstation(home, "studies", "--json", "--date", "2024-01-16-").json() == []
    bad = workstation(home, "studies", "--date", "20240231")
    assert bad.code == exit_codes.USAGE and "20240231" in bad.err


@pytest.mark.parametrize(
    ("env", "platform", "refused"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_missing_display_reason(env: dict[str, str], platform: str, refused: bool) -> None:
    assert bool(missing_display_reason(env, platform)) is refused


def test_no_display_is_a_clear_message_and_exit_8_not_a_qt_abort(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    run = workstation(tmp_path / "home", env=env, timeout=60)
    assert run.code == exit_codes.NO_DISPLAY
    assert "no display" in run.err and "workstation start --headless" in run.err
    assert "xcb" not in run.err and "Traceback" not in run.err
