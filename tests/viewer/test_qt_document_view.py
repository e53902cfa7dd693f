"""Documents of a study read in the viewer (issue 14, item 4): the signed report's DOC
series in the series strip opens its rendered pages under a green "Signed by" banner
checked off the GUI thread; a changed PDF reads NOT SIGNED in red; an SR opens as a
tree; "Back to images" brings the viewports back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.reports.conftest import Site, signing_site, site  # noqa: F401 (fixtures)
from workstation.reports.encapsulated_pdf import document_of, report_instance_uid

pytestmark = [pytest.mark.qt]
pytest.importorskip("PySide6")
pytest.importorskip("pypdfium2")


def _signed_report(where: Site) -> Path:
    doctor = where.reports("dora")
    report = doctor.create(where.study_uid, "ct_chest", "en", {"impression": "No finding."})
    final = doctor.sign(report.report_id)
    return where.archive.instance_file(report_instance_uid(final.report_id))


def _viewer(qtbot, where: Site, catalog=None):  # type: ignore[no-untyped-def]
    from workstation.services.document_signature import signature_check
    from workstation.viewer._qt.qt_viewer import QtViewer

    v = QtViewer(
        catalog or where.archive,
        where.settings,
        signature_check=signature_check(where.settings),  # type: ignore[arg-type]
    )
    qtbot.addWidget(v)
    v.resize(1200, 900)
    v.show()
    qtbot.waitExposed(v)
    return v


def _strip_row(v, kind: str) -> int:  # type: ignore[no-untyped-def]
    for i in range(v.thumbnails.count()):
        if v.thumbnails.item(i).text().startswith(kind):
            return i
    raise AssertionError([v.thumbnails.item(i).text() for i in range(v.thumbnails.count())])


def _activate(qtbot, v, row: int) -> None:  # type: ignore[no-untyped-def]
    """As a user does: select the strip entry and press Enter."""
    from PySide6.QtCore import Qt

    v.thumbnails.setFocus()
    v.thumbnails.setCurrentRow(row)
    qtbot.keyClick(v.thumbnails, Qt.Key.Key_Return)


def _banner_settled(v) -> bool:  # type: ignore[no-untyped-def]
    return "Checking" not in v.document_view.banner.text()


def test_signed_report_opens_with_pages_and_a_green_banner(
    qtbot,
    signing_site: Site,  # noqa: F811
    artifacts_dir: Path,
) -> None:
    instance = _signed_report(signing_site)
    v = _viewer(qtbot, signing_site)
    with qtbot.waitSignal(v.sig_first_image_shown, timeout=60_000):
        v.open_study(signing_site.study_uid)
    row = _strip_row(v, "PDF document")
    # In the strip the report shows its first page in miniature (a portrait page).
    item = v.thumbnails.item(row)
    qtbot.waitUntil(
        lambda: any(q.width() < q.height() for q in item.icon().availableSizes()), timeout=30_000
    )
    with qtbot.waitSignal(v.document_view.sig_document_shown, timeout=60_000):
        _activate(qtbot, v, row)
    assert v.showing_document
    qtbot.waitUntil(lambda: _banner_settled(v), timeout=60_000)
    banner = v.document_view.banner
    assert banner.text().startswith("Signed by dora"), banner.text()
    assert "intact, trusted" in banner.text() and "#0a6b16" in banner.styleSheet()
    # The page on screen is the PDF in the instance, as poppler renders it.
    labels = v.document_view.page_labels
    assert len(labels) >= 1
    image = labels[0].pixmap().toImage()
    assert image.width() > 600 and image.height() > 800
    pdf = document_of(pydicom.dcmread(instance))
    assert pdf.startswith(b"%PDF-")
    _save(v, artifacts_dir / "documents" / "viewer-report-pdf-signed.png")
    v.show_images()
    assert not v.showing_document and v.document_view.page_labels == []


def test_changed_report_reads_not_signed_in_red(
    qtbot,
    signing_site: Site,  # noqa: F811
    tmp_path: Path,
) -> None:
    from workstation.viewer.catalog import FileCatalog

    instance = _signed_report(signing_site)
    ds = pydicom.dcmread(instance)
    pdf = bytearray(document_of(ds))
    at = pdf.index(b"/Producer (") + len(b"/Producer (")
    pdf[at] ^= 0x01  # a changed letter in the signed content (the document's producer)
    ds.EncapsulatedDocument = bytes(pdf) + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    v = _viewer(qtbot, signing_site, FileCatalog([changed]))
    v.open_study(signing_site.study_uid)
    with qtbot.waitSignal(v.document_view.sig_document_shown, timeout=60_000):
        _activate(qtbot, v, _strip_row(v, "PDF document"))
    qtbot.waitUntil(lambda: _banner_settled(v), timeout=60_000)
    banner = v.document_view.banner
    assert banner.text().startswith("NOT SIGNED"), banner.text()
    assert "#c00000" in banner.styleSheet()


def test_measurement_sr_opens_as_a_tree(
    qtbot,
    signing_site: Site,  # noqa: F811
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    from tests.viewer.test_sr_tree import _sr_from_our_viewer
    from workstation.viewer.catalog import FileCatalog

    sr = _sr_from_our_viewer(tmp_path)
    study = str(pydicom.dcmread(sr).StudyInstanceUID)
    catalog = FileCatalog([sr, *sorted((tmp_path / "ct").iterdir())])
    v = _viewer(qtbot, signing_site, catalog)
    v.open_study(study)
    with qtbot.waitSignal(v.document_view.sig_document_shown, timeout=30_000):
        _activate(qtbot, v, _strip_row(v, "Structured report"))
    rows = v.document_view.tree_rows()
    assert rows[0] == (0, "Imaging Measurement Report", "")
    groups = [r for r in rows if r[1] == "Measurement group"]
    assert [g[2] for g in groups] == ["length 1", "ellipse 2", "nodule?"]
    length = next(r for r in rows if r[1] == "Length")
    assert length[0] == 3 and length[2].endswith(" mm")
    assert v.document_view.banner.text().startswith("Structured report · template TID 1500")
    assert v.document_view.tree.topLevelItem(0).child(6).isExpanded()
    _save(v, artifacts_dir / "documents" / "viewer-sr-tree.png")
    # An image series activated in the strip brings the viewports back.
    with qtbot.waitSignal(v.views[0].sig_first_frame_shown, timeout=30_000):
        _activate(qtbot, v, _strip_row(v, "1 CT") if _has(v, "1 CT") else 1)
    assert not v.showing_document
    # The SR dropped onto a viewport (what the viewport says after a drop) opens to read.
    sr_series = str(pydicom.dcmread(sr).SeriesInstanceUID)
    with qtbot.waitSignal(v.document_view.sig_document_shown, timeout=30_000):
        v.views[0].sig_series_dropped.emit(0, sr_series)
    assert v.showing_document


def _has(v, prefix: str) -> bool:  # type: ignore[no-untyped-def]
    return any(v.thumbnails.item(i).text().startswith(prefix) for i in range(v.thumbnails.count()))


def _save(v, path: Path) -> Path:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    from tests.viewer.gui_helpers import save_png

    QApplication.processEvents()
    rgb = v.screenshot()
    assert isinstance(rgb, np.ndarray) and rgb.std() > 5  # not a blank picture
    return save_png(rgb, path)


def test_a_late_answer_for_an_earlier_document_is_dropped(qtbot, testdata: Path) -> None:
    """Open a PDF, then at once an SR: the SR stays on screen, the PDF's pages never come."""
    from PySide6.QtCore import Qt

    from tests.viewer.gui_helpers import settle
    from workstation.viewer._qt.qt_document_view import QtDocumentView
    from workstation.viewer.documents import read_document_info

    pdf = testdata / "documents" / "encapsulated-pdf.dcm"
    sr = testdata / "documents" / "sr-comprehensive.dcm"
    view = QtDocumentView()
    qtbot.addWidget(view)
    view.show()
    pdf_info, sr_info = read_document_info(pdf), read_document_info(sr)
    assert pdf_info is not None and sr_info is not None
    view.open_document(pdf, pdf_info, "pdf-uid")
    with qtbot.waitSignal(view.sig_document_shown, timeout=30_000) as shown:
        view.open_document(sr, sr_info, "sr-uid")
    assert shown.args == ["sr-uid"]
    settle(1500)
    assert view.stack.currentWidget() is view.tree and view.page_labels == []
    assert not view.banner.text().startswith("NOT SIGNED")
    # Esc in the document asks for the images back.
    view.tree.setFocus()
    with qtbot.waitSignal(view.sig_close_requested, timeout=5_000):
        qtbot.keyClick(view.tree, Qt.Key.Key_Escape)


def test_an_amended_report_shows_the_newest_version_and_keeps_the_first(
    qtbot,
    signing_site: Site,  # noqa: F811
) -> None:
    doctor = signing_site.reports("dora")
    first = doctor.sign(
        doctor.create(signing_site.study_uid, "ct_chest", "en", {"impression": "Left."}).report_id
    )
    second = doctor.sign(doctor.amend(first.report_id, "Side corrected").report_id)
    v = _viewer(qtbot, signing_site)
    v.open_study(signing_site.study_uid)
    with qtbot.waitSignal(v.document_view.sig_document_shown, timeout=60_000) as shown:
        _activate(qtbot, v, _strip_row(v, "PDF document"))
    assert shown.args == [report_instance_uid(second.report_id)]
    box = v.document_view.version_box
    assert box.isVisible() and [box.itemText(i) for i in range(box.count())] == [
        "Version 2 (newest)",
        "Version 1",
    ]
    qtbot.waitUntil(lambda: _banner_settled(v), timeout=60_000)
    assert v.document_view.banner.text().startswith("Signed by dora")
    with qtbot.waitSignal(v.document_view.sig_document_shown, timeout=60_000) as shown:
        box.setCurrentIndex(1)
    assert shown.args == [report_instance_uid(first.report_id)]
    qtbot.waitUntil(lambda: _banner_settled(v), timeout=60_000)
    assert v.document_view.banner.text().startswith("Signed by dora")  # it still verifies
