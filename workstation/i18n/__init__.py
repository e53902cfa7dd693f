"""Translations: ``from workstation.i18n import _, ngettext``.

Catalogs live as ``locale/<lang>/LC_MESSAGES/workstation.po`` beside this file; the
template is ``locale/workstation.pot`` (``pybabel extract``).  Compiled ``.mo`` files are
not committed: when one is missing the ``.po`` is compiled in memory at start-up.
English is the source language.
"""

from __future__ import annotations

import gettext
import io
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

DOMAIN = "workstation"
LOCALE_DIR = Path(__file__).with_name("locale")
#: The UI languages the product ships (catalogs arrive per language).
LANGUAGES = ("en", "ru", "es", "fr", "de")

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _load_catalog(language: str, locale_dir: Path) -> gettext.NullTranslations:
    lc = locale_dir / language / "LC_MESSAGES"
    mo, po = lc / f"{DOMAIN}.mo", lc / f"{DOMAIN}.po"
    if mo.is_file():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if po.is_file():
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return gettext.GNUTranslations(buf)
    return gettext.NullTranslations()


def set_language(language: str, locale_dir: Path | None = None) -> None:
    """Switch the UI language for all later ``_()`` calls."""
    global _translations, _language
    try:
        _translations = _load_catalog(language, locale_dir or LOCALE_DIR)
    except (OSError, ValueError):
        logger.exception("translation catalog for %s is unreadable; using English", language)
        _translations = gettext.NullTranslations()
    _language = language


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate a user-visible message."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count."""
    return _translations.ngettext(singular, plural, n)
