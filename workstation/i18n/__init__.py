"""Translations: ``from workstation.i18n import _, ngettext``.

Catalogs live as ``locale/<lang>/LC_MESSAGES/workstation.po`` beside this file; the
template is ``locale/workstation.pot`` (``sh scripts/extract_messages.sh``), and
``sh scripts/update_catalogs.sh`` carries new messages into the catalogs.  The ``.mo``
files are built from the ``.po`` on first use (:mod:`workstation.i18n.catalogs`).
English is the source language.  Locale formats (dates, numbers, units) are in
:mod:`workstation.i18n.formatting`; the terms each language uses are in
``docs/i18n/glossary.md``.
"""

from __future__ import annotations

import gettext
import logging
from pathlib import Path

from workstation.i18n.catalogs import DOMAIN, LOCALE_DIR, load_translations
from workstation.i18n.languages import AUTO, LANGUAGE_NAMES, LANGUAGES, resolve_language

logger = logging.getLogger(__name__)

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def set_language(language: str, locale_dir: Path | None = None) -> str:
    """Switch the UI language for all later ``_()`` calls; returns the language chosen.

    ``auto`` follows the operating system (see :func:`resolve_language`).  A code with
    its own catalog folder in ``locale_dir`` (the tests' pseudo-locale) is taken as is.
    """
    global _translations, _language
    folder = locale_dir or LOCALE_DIR
    own = language.replace("_", "").isalnum() and (folder / language / "LC_MESSAGES").is_dir()
    chosen = language if own else resolve_language(language)
    try:
        _translations = load_translations(chosen, folder)
    except (OSError, ValueError):
        logger.exception("translation catalog for %s is unreadable; using English", chosen)
        _translations = gettext.NullTranslations()
    _language = chosen
    return chosen


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate a user-visible message."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count."""
    return _translations.ngettext(singular, plural, n)


__all__ = [
    "AUTO",
    "DOMAIN",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "_",
    "current_language",
    "ngettext",
    "resolve_language",
    "set_language",
]
