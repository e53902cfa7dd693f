"""Which UI languages exist, their own names, and what ``general.language = auto`` means."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

#: The UI languages the product ships; English is the source language.
LANGUAGES = ("en", "ru", "es", "fr", "de")
#: The setting value that follows the operating system's language.
AUTO = "auto"
#: Each language in its own words, as the language picker shows it.
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Русский",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
}
#: POSIX variables that name the user's language, strongest first (gettext's order).
_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def _language_of(tag: str) -> str:
    """``ru_RU.UTF-8`` / ``de-AT`` / ``fr`` -> ``ru`` / ``de`` / ``fr``."""
    return tag.replace("-", "_").split(".")[0].split("@")[0].split("_")[0].lower()


def system_languages(environ: Mapping[str, str] | None = None) -> list[str]:
    """The OS's preferred languages as two-letter codes, strongest first."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    for name in _LOCALE_VARIABLES:
        value = env.get(name, "")
        if not value:
            continue
        # LANGUAGE may list several ("de_AT:de:en"); the others name one locale.
        found += [_language_of(v) for v in value.split(":") if v]
        if name != "LANGUAGE":
            break
    if not found and environ is None and sys.platform.startswith("win"):
        found.append(_windows_ui_language())
    return [x for x in found if x and x not in ("c", "posix")]


def _windows_ui_language() -> str:
    import ctypes
    import locale

    lcid = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
    return _language_of(locale.windows_locale.get(lcid, ""))


def resolve_language(setting: str, environ: Mapping[str, str] | None = None) -> str:
    """The language to show for a ``general.language`` value.

    A shipped code is taken as it is (``de_AT`` as ``de``); ``auto`` (or anything
    unknown) takes the first shipped language the OS asks for, else English.
    """
    value = (setting or AUTO).strip()
    if value.lower() != AUTO and _language_of(value) in LANGUAGES:
        return _language_of(value)
    for code in system_languages(environ):
        if code in LANGUAGES:
            return code
    return "en"
