"""``archive.fallback_charset``: files with Windows-1251 bytes and no (0008,0005) Specific
Character Set (CDs from CIS-region modalities) are indexed with the site's fallback, the
study is marked, the import summary and ``studies`` say so, and an invalid name is a
settings error (exit 6).  Real ``workstation`` subprocesses on synthetic files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.uid import ExplicitVRBigEndian

from tests.cli.workstation_process import workstation
from tests.pacs_node.archive.synth import make_ct
from workstation.cli import exit_codes

NAME = "Кузнецов^Олег"
DESCRIPTION = "Грудная клетка"
FALLBACK = "archive.fallback_charset=cp1251"


def _cp1251_file(path: Path, *, big_endian: bool = False, declared: str = "") -> Path:
    """A CT whose patient name and description are cp1251 bytes; no character set unless
    ``declared``.  Big endian takes the importer's pydicom path, not the fast reader."""
    ds = make_ct(patient_name="X", patient_id="CS1")
    del ds.SpecificCharacterSet
    if declared:
        ds.SpecificCharacterSet = declared
    ds.PatientName = NAME.encode("cp1251")
    ds.StudyDescription = DESCRIPTION.encode("cp1251")
    if big_endian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True, little_endian=not big_endian, implicit_vr=False)
    return path


@pytest.mark.parametrize("big_endian", [False, True], ids=["fast-reader", "pydicom"])
def test_fallback_charset_reads_cp1251_names_and_marks_the_study(
    tmp_path: Path, big_endian: bool
) -> None:
    src = _cp1251_file(tmp_path / "in" / "a.dcm", big_endian=big_endian)
    # Without the setting: mojibake, as before (the standard's default does not apply).
    plain = tmp_path / "plain"
    assert workstation(plain, "import", str(src)).code == exit_codes.OK
    (study,) = workstation(plain, "studies", "--json").json()
    assert study["patient_name"] != NAME and study["charset_fallback"] == ""
    # With it: correct Cyrillic in the index, the study marked, the summary says so.
    home = tmp_path / "site"
    run = workstation(home, "--set", FALLBACK, "import", str(src), "--json")
    assert run.code == exit_codes.OK, run.err
    assert any("cp1251" in note for note in run.json()["notes"])
    (study,) = workstation(home, "studies", "--json").json()
    assert study["patient_name"] == NAME and study["study_description"] == DESCRIPTION
    assert study["charset_fallback"] == "cp1251"
    listing = workstation(home, "studies", "--patient", "Кузнецов")
    assert listing.code == exit_codes.OK
    assert "Кузнецов Олег" in listing.out and DESCRIPTION in listing.out
    assert "cp1251" in listing.out


def test_a_declared_character_set_wins_over_the_fallback(tmp_path: Path) -> None:
    src = _cp1251_file(tmp_path / "in" / "a.dcm", declared="ISO_IR 144")
    home = tmp_path / "site"
    assert workstation(home, "--set", FALLBACK, "import", str(src)).code == exit_codes.OK
    (study,) = workstation(home, "studies", "--json").json()
    assert study["charset_fallback"] == "" and study["character_set"] == "ISO_IR 144"
    assert study["patient_name"] == NAME.encode("cp1251").decode("iso8859-5")


def test_ascii_files_without_a_character_set_are_not_marked(tmp_path: Path) -> None:
    ds = make_ct(patient_name="PLAIN^ASCII")
    del ds.SpecificCharacterSet
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    home = tmp_path / "site"
    assert workstation(home, "--set", FALLBACK, "import", str(tmp_path / "a.dcm")).code == 0
    (study,) = workstation(home, "studies", "--json").json()
    assert study["charset_fallback"] == "" and study["patient_name"] == "PLAIN^ASCII"


@pytest.mark.parametrize("value", ["ISO_IR 144", "ISO_IR 192", "cp1251", "windows-1251"])
def test_valid_fallback_names_are_accepted(tmp_path: Path, value: str) -> None:
    run = workstation(tmp_path, "--set", f"archive.fallback_charset={value}", "studies")
    assert run.code == exit_codes.OK, run.err


def test_an_unknown_fallback_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "workstation.toml").write_text(
        '[archive]\nfallback_charset = "KOI-9"\n', encoding="utf-8"
    )
    run = workstation(tmp_path, "studies")
    assert run.code == exit_codes.CONFIG
    assert "fallback_charset" in run.err and "KOI-9" in run.err
