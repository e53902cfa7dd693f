"""Report text from a plain UTF-8 file with ``## Section`` headings.

A heading names a section in any of the five languages (``## Findings``, ``## Befund``,
``## Заключение``) or by its key (``## clinical_history``).  Text before the first
heading goes to the findings; an unknown heading is kept as a line of text in the
section it falls in, so nothing typed is lost.
"""

from __future__ import annotations

from workstation.reports.errors import TemplateError
from workstation.reports.model import LANGUAGES, SECTION_KEYS
from workstation.reports.templates import heading

MAX_TEXT_BYTES = 1024 * 1024


def _heading_keys() -> dict[str, str]:
    out = {}
    for key in SECTION_KEYS:
        out[key.casefold()] = key
        out[key.replace("_", " ").casefold()] = key
        for lang in LANGUAGES:
            out[heading(key, lang).casefold()] = key
    return out


def parse_sections(data: bytes) -> dict[str, str]:
    """Section key -> text from the bytes of a ``## Section`` file."""
    if len(data) > MAX_TEXT_BYTES:
        raise TemplateError("text file too large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TemplateError("the text file is not UTF-8") from exc
    keys = _heading_keys()
    current = "findings"
    lines: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("## "):
            key = keys.get(line[3:].strip().rstrip(":").casefold())
            if key is not None:
                current = key
                continue
        lines.setdefault(current, []).append(line)
    return {k: "\n".join(v).strip() for k, v in lines.items() if "\n".join(v).strip()}
