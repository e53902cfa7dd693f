"""The committed catalogs, read once for the catalog tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "workstation" / "i18n" / "locale"
POT = LOCALE / "workstation.pot"
#: The shipped translations (English is the source language).
TRANSLATED = ("ru", "es", "fr", "de")


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "workstation.po"


@cache
def template() -> Catalog:
    with POT.open("rb") as fh:
        return read_po(fh)


@cache
def catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language)


def forms(message: object) -> list[str]:
    """A message's translation as a list (one entry, or one per plural form)."""
    string = message.string  # type: ignore[attr-defined]
    return list(string) if isinstance(string, tuple) else [string]
