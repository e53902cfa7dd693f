"""Shipped templates in five languages, the site folder, snippets and ``## Section`` text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workstation.reports.errors import TemplateError
from workstation.reports.model import LANGUAGES, SECTION_KEYS
from workstation.reports.templates import (
    expand_snippet,
    heading,
    label,
    load_templates,
    parse_template,
    snippets,
)
from workstation.reports.text_import import parse_sections

SHIPPED = {"ct_chest", "ct_head", "mr_brain", "xr_chest", "us_abdomen", "free_text"}


def test_shipped_templates_speak_all_five_languages() -> None:
    templates = load_templates()
    assert set(templates) == SHIPPED
    for t in templates.values():
        for lang in LANGUAGES:
            assert t.title.get(lang), (t.template_id, lang)
            for texts in t.sections.values():
                assert texts.get(lang), (t.template_id, lang)
            for f in t.fields:
                assert f.label.get(lang), (t.template_id, f.field_id, lang)
                assert all(c.label.get(lang) for c in f.choices), (t.template_id, f.field_id)
    for key in SECTION_KEYS:
        assert len({heading(key, lang) for lang in LANGUAGES}) >= 4, key
    assert heading("impression", "ru") == "Заключение" and heading("findings", "de") == "Befund"
    assert label("signed_by", "fr") == "Signé électroniquement par"
    types = {f.type for t in templates.values() for f in t.fields}
    assert types == {"number", "choice", "date"}


def test_site_folder_adds_and_replaces_and_skips_broken_files(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    own = {
        "format": 1,
        "id": "ct_chest",
        "title": {"en": "Chest CT (our clinic)", "de": "CT Thorax (Haus)"},
        "fields": [{"id": "lung_rads", "type": "choice", "label": {"en": "Lung-RADS"},
                    "choices": [{"value": "2", "label": {"en": "2"}}]}],
    }  # fmt: skip
    (site / "ct_chest.json").write_text(json.dumps(own), encoding="utf-8")
    (site / "broken.json").write_text("{not json", encoding="utf-8")
    (site / "wrong.json").write_text(json.dumps({"format": 1, "id": "x y"}), encoding="utf-8")
    templates = load_templates(site)
    assert templates["ct_chest"].origin == "site"
    assert templates["ct_chest"].fields[0].field_id == "lung_rads"
    assert set(templates) == SHIPPED


@pytest.mark.parametrize(
    "raw",
    [
        {"format": 2, "id": "a", "title": {"en": "A"}},
        {"format": 1, "id": "a", "title": {"xx": "A"}},
        {"format": 1, "id": "a", "title": {"en": "A"}, "sections": {"summary": {"en": "x"}}},
        {
            "format": 1,
            "id": "a",
            "title": {"en": "A"},
            "fields": [{"id": "f", "type": "colour", "label": {"en": "F"}}],
        },
        {
            "format": 1,
            "id": "a",
            "title": {"en": "A"},
            "fields": [{"id": "f", "type": "choice", "label": {"en": "F"}}],
        },
    ],
)
def test_malformed_templates_are_refused(raw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(TemplateError):
        parse_template(json.dumps(raw).encode())


def test_snippets_expand_in_the_report_language() -> None:
    assert {s.key for s in snippets()} >= {"nad", "cmp", "fu"}
    assert expand_snippet("", "nad", "de") == "Kein akuter pathologischer Befund."
    assert (
        expand_snippet("Лёгкие чистые.", "nad", "ru")
        == "Лёгкие чистые. Острой патологии не выявлено."
    )
    with pytest.raises(TemplateError):
        expand_snippet("", "nope", "en")


def test_section_text_file_in_any_language() -> None:
    text = (
        "Vorspann ohne Überschrift\n## Klinische Angaben\nHusten seit 3 Wochen.\n"
        "## Befund\nRundherd 6 mm.\n## Заключение\nОчаг.\n## Unknown heading\nkept\n"
        "## recommendation\nCT in 3 months.\n"
    )
    sections = parse_sections(text.encode("utf-8"))
    assert sections["clinical_history"] == "Husten seit 3 Wochen."
    assert sections["findings"] == "Vorspann ohne Überschrift\nRundherd 6 mm."
    assert sections["impression"] == "Очаг.\n## Unknown heading\nkept"
    assert sections["recommendation"] == "CT in 3 months."
    with pytest.raises(TemplateError):
        parse_sections(b"\xff\xfe bad")
