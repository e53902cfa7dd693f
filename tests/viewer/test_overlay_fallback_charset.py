"""The viewer's overlays read a file without (0008,0005) with the site's fallback
character set, as the import indexed it: a cp1251 name from a CIS-region CD shows in
Cyrillic in the image corners, not as mojibake (issue 10 §2)."""

from __future__ import annotations

from pathlib import Path

import pydicom

from tests.pacs_node.archive.synth import make_ct
from workstation.viewer.catalog import InstanceEntry
from workstation.viewer.imaging_source import open_frame_source

NAME = "Кузнецов^Олег"


def _saved_entry(ds: pydicom.Dataset, path: Path) -> InstanceEntry:
    """``ds`` written to ``path`` (explicit VR little endian) and its catalogue entry."""
    ds.save_as(path, enforce_file_format=True, little_endian=True, implicit_vr=False)
    back = pydicom.dcmread(path, stop_before_pixels=True)
    return InstanceEntry(
        sop_instance_uid=str(back.SOPInstanceUID),
        series_instance_uid=str(back.SeriesInstanceUID),
        path=path,
        instance_number=1,
        number_of_frames=1,
        image_position=None,
        image_orientation=None,
    )


def _cp1251_ct(path: Path) -> InstanceEntry:
    ds = make_ct(patient_name="X", patient_id="CS1")
    del ds.SpecificCharacterSet
    ds.PatientName = NAME.encode("cp1251")
    ds.StudyDescription = "Грудная клетка".encode("cp1251")
    return _saved_entry(ds, path)


def _header(entry: InstanceEntry, fallback: str):  # type: ignore[no-untyped-def]
    source = open_frame_source([entry], entry.series_instance_uid, fallback_charset=fallback)
    try:
        return source.header
    finally:
        source.close()


def test_overlay_text_uses_the_site_fallback_charset(tmp_path: Path) -> None:
    entry = _cp1251_ct(tmp_path / "a.dcm")
    plain = _header(entry, "")
    assert plain.patient_name != "Кузнецов Олег"  # the standard's default: mojibake
    read = _header(entry, "cp1251")
    assert read.patient_name == "Кузнецов Олег"
    assert read.study_description == "Грудная клетка"


def test_a_declared_character_set_wins_over_the_fallback(tmp_path: Path) -> None:
    ds = make_ct(patient_name="Müller^Jörg", patient_id="L1")
    ds.SpecificCharacterSet = "ISO_IR 100"
    path = tmp_path / "b.dcm"
    entry = _saved_entry(ds, path)
    assert _header(entry, "cp1251").patient_name == "Müller Jörg"
