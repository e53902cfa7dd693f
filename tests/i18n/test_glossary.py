"""The catalogs use the glossary's terms (docs/i18n/glossary.md, rows marked ✓)."""

from __future__ import annotations

import re

import pytest

from tests.i18n.catalog_files import ROOT, TRANSLATED, catalog, forms

#: English term (regex on the message) -> the stem each language must use for it.
TERMS: dict[str, dict[str, str]] = {
    r"\bstud(y|ies)\b": {
        "ru": "исследовани",
        "es": "estudio",
        "fr": "examen",
        "de": "untersuchung",
    },
    r"\bseries\b": {"ru": "сери", "es": "serie", "fr": "série", "de": "serie"},
    r"\binstances?\b": {"ru": "экземпляр", "es": "instancia", "fr": "instance", "de": "objekt"},
    r"\bkey images?\b": {"ru": "ключев", "es": "clave", "fr": "clé", "de": "schlüsselbild"},
    r"\bmodalit(y|ies)\b": {
        "ru": "модальност",
        "es": "modalidad",
        "fr": "modalité",
        "de": "modalität",
    },
    r"\baccession\b": {"ru": "заявк", "es": "acceso", "fr": "accession", "de": "auftrags"},
    r"\bquarantine\b": {
        "ru": "карантин",
        "es": "cuarentena",
        "fr": "quarantaine",
        "de": "quarantäne",
    },
    r"\barchives?\b": {"ru": "архив", "es": "archivo", "fr": "archive", "de": "archiv"},
    r"\bnodes?\b": {"ru": "узл|узел", "es": "nodo", "fr": "nœud", "de": "knoten"},
    r"\bsync\b": {"ru": "синхрониз", "es": "sincroniz", "fr": "synchronis", "de": "synchronis"},
    r"\bmeasurements?\b": {"ru": "измерени", "es": "medici", "fr": "mesure", "de": "messung"},
    r"\breports?\b": {
        "ru": "заключени|отчёт",
        "es": "informe",
        "fr": "compte rendu|comptes rendus|rapport",
        "de": "befund|bericht",
    },
}
#: Parts of a message that stay English: DICOM keywords, quoted commands, options, fields.
_KEEP_ENGLISH = re.compile(
    r"(SOP|Study|Series) (Instance|Class) UID|'[^']*'|--[\w-]+|\{[^}]*\}|\b[a-z]+\.[a-z_]+\b"
)


def _english(text: str) -> str:
    return _KEEP_ENGLISH.sub(" ", text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_core_terms_follow_the_glossary(language: str) -> None:
    wrong = []
    for m in catalog(language):
        if not m.id:
            continue
        english = _english(m.id if isinstance(m.id, str) else " ".join(m.id))
        for term, stems in TERMS.items():
            used = re.search(term, english, re.IGNORECASE)
            if used and not all(re.search(stems[language], t, re.IGNORECASE) for t in forms(m)):
                wrong.append((term, m.id, forms(m)[0]))
    assert not wrong, f"{language}: {len(wrong)} messages stray from the glossary: {wrong[:8]}"


def test_glossary_lists_the_checked_terms() -> None:
    text = (ROOT / "docs" / "i18n" / "glossary.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("|")]
    assert len([cell for cell in rows if "✓" in cell]) == len(TERMS)
