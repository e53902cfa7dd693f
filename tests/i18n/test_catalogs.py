"""i18n keeps working: the template is current, plurals follow each locale's rules."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

import workstation.i18n as i18n

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "workstation" / "i18n" / "locale" / "workstation.pot"


def _msgids(path: Path) -> set[object]:
    with path.open("rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_template_is_not_stale(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "--ignore-dirs",
            ".* __pycache__",
            "-o",
            str(fresh),
            "workstation",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    # Babel skips folders named _* by default; the Qt and VTK adapters live in such folders.
    assert "Flip H" in _msgids(fresh), "strings under viewer/_qt were not extracted"
    missing = _msgids(fresh) - _msgids(POT)
    extra = _msgids(POT) - _msgids(fresh)
    assert not missing and not extra, (
        "workstation.pot is stale; run sh scripts/extract_messages.sh. "
        f"missing: {sorted(map(str, missing))[:10]} extra: {sorted(map(str, extra))[:10]}"
    )


def _write_catalog(root: Path, locale: str, entries: dict[object, object]) -> None:
    catalog = Catalog(locale=locale)
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr)
    out = root / locale / "LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "workstation.po").open("wb") as fh:
        write_po(fh, catalog)


@pytest.fixture
def restore_language() -> Iterator[None]:
    yield
    i18n.set_language("en")


def test_plurals_in_two_locales(tmp_path: Path, restore_language: None) -> None:
    files = ("{n} file", "{n} files")
    _write_catalog(tmp_path, "ru", {files: ("{n} файл", "{n} файла", "{n} файлов")})
    _write_catalog(tmp_path, "de", {files: ("{n} Datei", "{n} Dateien")})
    i18n.set_language("ru", tmp_path)
    ru = [i18n.ngettext(*files, n).format(n=n) for n in (1, 3, 5, 21)]
    assert ru == ["1 файл", "3 файла", "5 файлов", "21 файл"]
    i18n.set_language("de", tmp_path)
    assert [i18n.ngettext(*files, n).format(n=n) for n in (1, 2)] == ["1 Datei", "2 Dateien"]


def test_pseudo_locale_translates_every_template_message(
    tmp_path: Path, restore_language: None
) -> None:
    """A pseudo-locale built from the template: every wrapped string comes back marked."""
    with POT.open("rb") as fh:
        template = read_po(fh)
    entries: dict[object, object] = {}
    for m in template:
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            entries[m.id] = tuple(f"⟦{x}⟧" for x in m.id)
        else:
            entries[m.id] = f"⟦{m.id}⟧"
    _write_catalog(tmp_path, "en_XA", entries)
    i18n.set_language("en_XA", tmp_path)
    assert i18n.current_language() == "en_XA"
    for msgid in entries:
        text = msgid if isinstance(msgid, str) else msgid[0]
        out = i18n._(text) if isinstance(msgid, str) else i18n.ngettext(*msgid, 1)
        assert out.startswith("⟦") and out.endswith("⟧"), msgid


def test_missing_language_falls_back_to_english(restore_language: None) -> None:
    i18n.set_language("xx")
    assert i18n._("Cancelled.") == "Cancelled."
