"""Every catalog is complete and well-formed: CI fails when a string is left behind.

After adding strings: ``sh scripts/update_catalogs.sh``, translate what it reports
(docs/i18n/glossary.md), and these pass again."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural

from tests.i18n.catalog_files import TRANSLATED, catalog, forms, po_path, template
from workstation.i18n.catalogs import compile_po

#: ``{name}``, ``{n:.1f}``, ``%(name)s``, argparse's ``%s``/``%r`` and Qt's ``%v``/``%m`` fields.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sr]|%[vmsr]")


def _ids(cat: object) -> set[object]:
    return {m.id for m in cat if m.id}  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_has_exactly_the_template_messages(language: str) -> None:
    missing = _ids(template()) - _ids(catalog(language))
    obsolete = _ids(catalog(language)) - _ids(template())
    assert not missing, (
        f"{language}: run sh scripts/update_catalogs.sh; missing {sorted(map(str, missing))[:5]}"
    )
    assert not obsolete, f"{language}: obsolete messages {sorted(map(str, obsolete))[:5]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    untranslated = [m.id for m in catalog(language) if m.id and not all(forms(m))]
    fuzzy = [m.id for m in catalog(language) if m.id and m.fuzzy]
    assert not untranslated, (
        f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    )
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert not catalog(language).fuzzy, f"{language}: the header is marked fuzzy"


@pytest.mark.parametrize("language", TRANSLATED)
def test_msgfmt_checks_the_catalog(language: str, tmp_path: Path) -> None:
    """GNU gettext's own verdict: all translated, 0 fuzzy, no format errors."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed; scripts/test.sh installs it")
    run = subprocess.run(
        [
            msgfmt,
            "--check-format",
            "--check-header",
            "--statistics",
            "-o",
            str(tmp_path / "x.mo"),
            str(po_path(language)),
        ],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    stats = run.stderr.strip()
    assert re.fullmatch(rf"{len(_ids(template()))} translated messages\.", stats), stats


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_header_is_babels(language: str) -> None:
    plural = get_plural(language)
    expected = f"nplurals={plural.num_plurals}; plural={plural.plural_expr};"
    header = dict(catalog(language).mime_headers)["Plural-Forms"]
    assert header == expected
    counts = {len(forms(m)) for m in catalog(language) if isinstance(m.id, tuple)}
    assert counts == {plural.num_plurals}


def test_russian_spanish_and_french_have_three_plural_forms() -> None:
    assert [get_plural(x).num_plurals for x in ("ru", "es", "fr", "de")] == [3, 3, 3, 2]


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language: str) -> None:
    """Every ``{field}`` of the English text is in the translation, and nothing else."""
    wrong = []
    for m in catalog(language):
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            allowed = set(PLACEHOLDER.findall(m.id[0])) | set(PLACEHOLDER.findall(m.id[1]))
            needed = set(PLACEHOLDER.findall(m.id[1])) - {"{n}"}
            for text in forms(m):
                found = set(PLACEHOLDER.findall(text))
                if not found <= allowed or not needed <= found:
                    wrong.append((m.id, text))
        elif sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string)):
            wrong.append((m.id, m.string))
    assert not wrong, f"{language}: {wrong[:5]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_edges_and_accelerators_are_kept(language: str) -> None:
    """Leading/trailing spaces and newlines (messages are glued together) and Qt ``&``."""
    wrong = []
    for m in catalog(language):
        if not m.id or isinstance(m.id, tuple):
            continue
        for probe in (" ", "\n"):
            if m.id.startswith(probe) != m.string.startswith(probe):
                wrong.append(m.id)
            if m.id.endswith(probe) != m.string.endswith(probe):
                wrong.append(m.id)
        if m.id.count("&") != m.string.count("&"):
            wrong.append(m.id)
    assert not wrong, f"{language}: {wrong[:5]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_compiles_and_formats(language: str) -> None:
    """The compiled catalog answers, and each translation formats with its fields."""
    import gettext
    import io

    tr = gettext.GNUTranslations(io.BytesIO(compile_po(po_path(language))))
    for m in catalog(language):
        if not m.id or isinstance(m.id, tuple):
            continue
        assert tr.gettext(m.id) == m.string
        names = {p.strip("{}").split(":")[0].split("!")[0] for p in PLACEHOLDER.findall(m.id)}
        if names and all(n.isidentifier() for n in names):
            values = {n: 1 for n in names}
            assert m.string.format(**values) is not None
