"""Encapsulated PDF, SR and ECG instances are documents, not broken images (issue 10):
the viewer lists them with their kind and title and says what they are, in grey."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workstation.viewer.documents import (
    ENCAPSULATED_PDF,
    document_kind,
    document_text,
    read_document_info,
)

FILES = {
    "encapsulated-pdf.dcm": ("PDF document", "Sample protocol"),
    "sr-comprehensive.dcm": ("Structured report", "Demonstration of SR Features"),
    "ecg-12lead-waveform.dcm": ("ECG", "ECG"),
}


def test_kinds_by_sop_class() -> None:
    assert document_kind(ENCAPSULATED_PDF, "OT") == "PDF document"
    assert document_kind("1.2.840.10008.5.1.4.1.1.88.22", "SR") == "Structured report"
    assert document_kind("1.2.840.10008.5.1.4.1.1.88.59", "KO") == "Key image note"
    assert document_kind("1.2.840.10008.5.1.4.1.1.9.1.1", "ECG") == "ECG"
    assert document_kind("1.2.840.10008.5.1.4.1.1.2", "CT") is None  # CT Image Storage
    assert document_kind("1.2.840.10008.5.1.4.1.1.7", "OT") is None  # Secondary Capture


@pytest.mark.parametrize("name", sorted(FILES))
def test_real_documents_have_kind_and_title(testdata: Path, name: str) -> None:
    info = read_document_info(testdata / "documents" / name)
    assert info is not None and (info.kind, info.title) == FILES[name]
    text = document_text(info)
    assert info.kind in text and "no image" not in text.lower()


def test_real_image_is_not_a_document(testdata: Path) -> None:
    assert read_document_info(testdata / "transfer-syntaxes" / "CT_small.dcm") is None


@pytest.mark.qt
@pytest.mark.vtk
def test_viewer_lists_documents_and_says_what_they_are(
    qtbot, make_viewer, testdata: Path, tmp_path: Path
) -> None:
    pytest.importorskip("PySide6")
    from workstation.viewer._vtk.vtk_viewport import HINT_RGB
    from workstation.viewer.catalog import FileCatalog

    files = []
    for name in FILES:
        files.append(tmp_path / name)
        shutil.copy(testdata / "documents" / name, files[-1])
    catalog = FileCatalog(files)
    v = make_viewer(catalog)
    errors: list[str] = []
    v.sig_error.connect(errors.append)
    for study in catalog.studies():
        v.open_study(study)
        strip = [v.thumbnails.item(i).text() for i in range(v.thumbnails.count())]
        infos = [v.document_of(s.series_instance_uid) for s in catalog.series(study)]
        assert all(info is not None for info in infos)
        for info in infos:
            assert any(info.kind in text for text in strip), strip
        # Shown on purpose in a viewport: grey text that says what it is, no red error.
        series_uid = catalog.series(study)[0].series_instance_uid
        v.show_series(0, series_uid)
        view = v.views[0]
        qtbot.waitUntil(lambda view=view: view.viewport.current_frame() is not None, timeout=10_000)
        view.refresh()
        scene = view.scene
        assert "Cannot display" not in scene.message_text
        assert infos[0].kind in scene.message_text
        assert scene.message.GetTextProperty().GetColor() == pytest.approx(HINT_RGB)
    assert all("documents" in e for e in errors), errors
