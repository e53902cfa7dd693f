"""Report templates: the shipped ones in ``resources/report_templates`` and a site folder.

A template is one UTF-8 JSON file (``<id>.json``, at most 256 KiB) holding all five
languages; the format is documented in ``resources/report_templates/README.md`` and
modelled on IHE MRRT's field types (text, number with unit, choice, date).  A site
template with the id of a shipped one replaces it.  Section headings and the PDF's
labels in each language are in ``_language.json``; snippets in ``_snippets.json``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from workstation.reports.errors import TemplateError
from workstation.reports.model import LANGUAGES, SECTION_KEYS

logger = logging.getLogger(__name__)

FIELD_TYPES = ("text", "number", "choice", "date")
MAX_TEMPLATE_BYTES = 256 * 1024
FREE_TEXT = "free_text"
_ID = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Choice:
    value: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Field:
    field_id: str
    type: str
    label: Mapping[str, str]
    unit: str = ""
    choices: tuple[Choice, ...] = ()

    def choice_label(self, value: str, language: str) -> str:
        for c in self.choices:
            if c.value == value:
                return localized(c.label, language)
        return value


@dataclass(frozen=True)
class Template:
    template_id: str
    title: Mapping[str, str]
    modality: str = ""
    #: Default text of sections, per language.
    sections: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    fields: tuple[Field, ...] = ()
    origin: str = "shipped"

    def default_sections(self, language: str) -> dict[str, str]:
        return {k: localized(v, language) for k, v in self.sections.items()}


@dataclass(frozen=True)
class Snippet:
    key: str
    text: Mapping[str, str]


def localized(texts: Mapping[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or ""


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise TemplateError(f"{where}: expected a table of language -> text")
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise TemplateError(f"{where}: unknown language(s) {', '.join(sorted(unknown))}")
    if "en" not in value:
        raise TemplateError(f"{where}: an English text is required")
    return dict(value)


def _field(raw: Any, where: str) -> Field:
    if not isinstance(raw, Mapping):
        raise TemplateError(f"{where}: expected a table")
    fid, ftype = raw.get("id"), raw.get("type")
    if not isinstance(fid, str) or not _ID.match(fid):
        raise TemplateError(f"{where}: id must be lower-case letters, digits and _")
    if ftype not in FIELD_TYPES:
        raise TemplateError(f"{where}: type must be one of {', '.join(FIELD_TYPES)}")
    choices = tuple(
        Choice(str(c["value"]), _texts(c.get("label"), f"{where}.choices[{i}]"))
        for i, c in enumerate(raw.get("choices", []))
    )
    if ftype == "choice" and not choices:
        raise TemplateError(f"{where}: a choice field needs choices")
    return Field(
        fid, ftype, _texts(raw.get("label"), f"{where}.label"), str(raw.get("unit", "")), choices
    )


def parse_template(data: bytes, origin: str = "shipped") -> Template:
    """A template from the bytes of its JSON file (raises :class:`TemplateError`)."""
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateError("template file too large")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TemplateError(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(raw, Mapping) or raw.get("format") != 1:
        raise TemplateError("not a report template (format 1)")
    tid = raw.get("id")
    if not isinstance(tid, str) or not _ID.match(tid):
        raise TemplateError("id must be lower-case letters, digits and _")
    sections = raw.get("sections", {})
    if not isinstance(sections, Mapping) or set(sections) - set(SECTION_KEYS):
        raise TemplateError(f"sections must be among {', '.join(SECTION_KEYS)}")
    return Template(
        template_id=tid,
        title=_texts(raw.get("title"), "title"),
        modality=str(raw.get("modality", "")),
        sections={k: _texts(v, f"sections.{k}") for k, v in sections.items()},
        fields=tuple(_field(f, f"fields[{i}]") for i, f in enumerate(raw.get("fields", []))),
        origin=origin,
    )


def _shipped_files() -> dict[str, bytes]:
    folder = resources.files("workstation.resources").joinpath("report_templates")
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and not entry.name.startswith("_")
    }


def _site_files(site_dir: Path | None) -> dict[str, bytes]:
    if site_dir is None or not site_dir.is_dir():
        return {}
    out = {}
    for path in sorted(site_dir.glob("*.json")):
        if path.name.startswith("_") or path.stat().st_size > MAX_TEMPLATE_BYTES:
            continue
        out[path.name] = path.read_bytes()
    return out


def load_templates(site_dir: Path | None = None) -> dict[str, Template]:
    """All templates by id: the shipped ones, then the site folder's (a bad site file is
    logged and skipped, so one typo does not take the others down)."""
    out: dict[str, Template] = {}
    for data in _shipped_files().values():
        t = parse_template(data)
        out[t.template_id] = t
    for name, data in _site_files(site_dir).items():
        try:
            t = parse_template(data, origin="site")
        except TemplateError as exc:
            logger.warning("site template %s skipped: %s", name, exc)
            continue
        out[t.template_id] = t
    return dict(sorted(out.items()))


@functools.cache
def _language_table() -> Mapping[str, Any]:
    data = resources.files("workstation.resources").joinpath("report_templates/_language.json")
    return json.loads(data.read_bytes())  # type: ignore[no-any-return]


def heading(section_key: str, language: str) -> str:
    return localized(_language_table()["headings"][section_key], language)


def label(key: str, language: str) -> str:
    return localized(_language_table()["labels"][key], language)


def snippets() -> list[Snippet]:
    data = resources.files("workstation.resources").joinpath("report_templates/_snippets.json")
    return [Snippet(s["key"], s["text"]) for s in json.loads(data.read_bytes())["snippets"]]


def expand_snippet(text: str, key: str, language: str) -> str:
    """``text`` with the snippet ``key`` appended (a macro the editor inserts on a key)."""
    for s in snippets():
        if s.key == key:
            addition = localized(s.text, language)
            return f"{text.rstrip()} {addition}".strip() if text.strip() else addition
    raise TemplateError(f"no snippet {key!r}")


def validate_field(f: Field, value: str) -> str:
    """The value normalised for storage; raises :class:`TemplateError` when it does not fit."""
    value = value.strip()
    if not value or f.type == "text":
        return value
    if f.type == "number":
        try:
            float(value.replace(",", "."))
        except ValueError as exc:
            raise TemplateError(f"{f.field_id}: not a number: {value!r}") from exc
        return value.replace(",", ".")
    if f.type == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError as exc:
            raise TemplateError(f"{f.field_id}: not a date (YYYY-MM-DD): {value!r}") from exc
        return value
    if value not in {c.value for c in f.choices}:
        raise TemplateError(f"{f.field_id}: {value!r} is not one of the choices")
    return value
