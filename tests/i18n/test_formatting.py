"""Locale formats through Babel: the forms the issue names, per language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import workstation.i18n as i18n
from workstation.i18n import formatting as fmt

NBSP = "\u00a0"


@pytest.fixture
def russian() -> Iterator[None]:
    i18n.set_language("ru")
    yield
    i18n.set_language("en")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "2026-03-07"), ("ru", "07.03.2026"), ("de", "07.03.2026"), ("fr", "07/03/2026")],
)
def test_dates(language: str, expected: str) -> None:
    assert fmt.dicom_date("20260307", language) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "1,234.5"), ("ru", f"1{NBSP}234,5"), ("de", "1.234,5"), ("es", "1.234,5")],
)
def test_numbers(language: str, expected: str) -> None:
    assert fmt.decimal(1234.5, 1, language) == expected


def test_units_and_sizes() -> None:
    assert fmt.length_mm(12.5, 1, "ru") == "12,5 мм"
    assert fmt.length_mm(12.5, 1, "en") == "12.5 mm"
    assert fmt.byte_size(1536, "ru") == "1,5 кБ"
    assert fmt.byte_size(3 * 1024**2, "de") == "3,0 MB"
    assert fmt.byte_size(12, "en") == "12 B"


def test_times_are_24_hour() -> None:
    assert fmt.dicom_time("140503.25", "en") == "14:05"
    assert fmt.dicom_time("0905", "de") == "09:05"


def test_the_current_language_is_the_default(russian: None) -> None:
    assert fmt.dicom_date("20240131") == "31.01.2024"
    assert fmt.integer(12345) == f"12{NBSP}345"


@pytest.mark.parametrize("value", ["", "2024", "20241340", "abcdefgh", "2024-01-31"])
def test_malformed_dates_are_shown_as_they_are(value: str) -> None:
    assert fmt.dicom_date(value, "ru") == value
    assert fmt.dicom_time("99", "ru") == "99"


def test_person_names() -> None:
    assert fmt.person_name("DOE^JOHN^^DR") == "DOE, JOHN DR"
    assert fmt.person_name("ИВАНОВ^ИВАН=Ivanov^Ivan") == "ИВАНОВ, ИВАН"


def test_measurement_labels_and_overlays_use_the_locale(russian: None) -> None:
    """The viewer's engine code formats through this module, not by hand."""
    from workstation.viewer.annotations import _num

    assert _num(1234.56) == f"1{NBSP}234,6"
