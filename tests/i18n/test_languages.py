"""Choosing the language: ``auto`` follows the OS; catalogs are compiled once and cached."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import workstation.i18n as i18n
from workstation.i18n.catalogs import cache_dir, load_translations
from workstation.i18n.languages import LANGUAGE_NAMES, LANGUAGES, resolve_language

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("WORKSTATION_HOME", str(tmp_path / "home"))
    yield tmp_path / "home"
    i18n.set_language("en")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "de_AT.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr"),
        ({"LANGUAGE": "it:es:en", "LANG": "it_IT.UTF-8"}, "es"),
        ({"LC_ALL": "C.UTF-8", "LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_auto_follows_the_os(environ: dict[str, str], expected: str) -> None:
    assert resolve_language("auto", environ) == expected


def test_a_chosen_language_wins_over_the_os() -> None:
    assert resolve_language("de", {"LANG": "ru_RU.UTF-8"}) == "de"
    assert resolve_language("es_MX", {}) == "es"
    assert resolve_language("klingon", {"LANG": "fr_FR.UTF-8"}) == "fr"


def test_five_languages_with_their_own_names() -> None:
    assert LANGUAGES == ("en", "ru", "es", "fr", "de")
    assert [LANGUAGE_NAMES[x] for x in LANGUAGES] == [
        "English",
        "Русский",
        "Español",
        "Français",
        "Deutsch",
    ]


def test_the_catalog_is_compiled_once_into_the_cache(home: Path) -> None:
    assert i18n.set_language("ru") == "ru"
    assert i18n._("Cancel") == "Отмена"
    assert i18n.ngettext("{n} study", "{n} studies", 5).format(n=5) == "5 исследований"
    cached = list(cache_dir().glob("ru/workstation-*.mo"))
    assert len(cached) == 1 and cached[0].is_relative_to(home)
    stamp = cached[0].stat().st_mtime_ns
    assert load_translations("ru").gettext("Cancel") == "Отмена"
    assert cached[0].stat().st_mtime_ns == stamp  # read, not rebuilt


def test_an_unwritable_cache_still_translates(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "cache").write_text("not a folder")  # the cache cannot be created
    assert load_translations("de").gettext("Cancel") == "Abbrechen"


def test_a_newer_packaged_mo_is_used(tmp_path: Path, home: Path) -> None:
    from workstation.i18n.catalogs import compile_all

    locale = tmp_path / "locale"
    lc = locale / "fr" / "LC_MESSAGES"
    lc.mkdir(parents=True)
    (lc / "workstation.po").write_bytes(
        (ROOT / "workstation/i18n/locale/fr/LC_MESSAGES/workstation.po").read_bytes()
    )
    assert compile_all(locale) == [lc / "workstation.mo"]
    assert load_translations("fr", locale).gettext("Cancel") == "Annuler"
    assert not cache_dir().exists()


def _cli(
    args: list[str], language: str, home: Path, site: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if site is not None:
        env["WORKSTATION_SITE_CONFIG"] = str(site)
    env.update(
        WORKSTATION_HOME=str(home),
        WORKSTATION_GENERAL__LANGUAGE=language,
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )


def test_the_cli_follows_the_setting(tmp_path: Path) -> None:
    """``WORKSTATION_GENERAL__LANGUAGE=ru workstation import ...`` prints Russian."""
    # Named like DICOM but not DICOM: rejected (a plain notes.txt is only skipped, a note).
    not_dicom = tmp_path / "notes.dcm"
    not_dicom.write_text("hello")
    ru = _cli(["import", str(not_dicom)], "ru", tmp_path / "home")
    assert "Сохранено: 0" in ru.stdout and "Затронуто 0 исследований" in ru.stdout, ru.stdout
    de = _cli(["--help"], "de", tmp_path / "home")
    assert "Untersuchungen im lokalen Archiv auflisten" in de.stdout
    assert de.stdout.startswith("Aufruf: ") and "diese Hilfe anzeigen und beenden" in de.stdout
    wrong = _cli(["studies", "--bogus"], "ru", tmp_path / "home")
    assert "ошибка: нераспознанные аргументы: --bogus" in wrong.stderr, wrong.stderr
    en = _cli(["import", str(not_dicom)], "en", tmp_path / "home")
    assert "Stored: 0" in en.stdout and "0 studies touched" in en.stdout, en.stdout


def test_a_site_file_may_lock_the_language(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('locked = ["general.language"]\n[general]\nlanguage = "de"\n')
    out = _cli(["studies"], "ru", tmp_path / "home", site=site)
    assert out.stdout.strip() == "Keine Untersuchungen gefunden.", out.stdout + out.stderr
