"""The study list and the viewer area say when a study holds incomplete (cut short) images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
import pytest
from PySide6.QtCore import Qt

from tests.pacs_node.archive.synth import write_series
from workstation.config import ensure_home, load_settings
from workstation.pacs_node.archive import Archive
from workstation.pacs_node.archive.importing import Importer


@pytest.fixture
def archive_with_a_cut_file(tmp_path: Path) -> Any:
    files = write_series(tmp_path / "media", 4, size=64)
    files[3].write_bytes(files[3].read_bytes()[:-2000])  # cut inside its pixel data
    settings = load_settings()
    ensure_home(settings)
    archive = Archive.open(settings)
    Importer(archive).run([tmp_path / "media"])
    yield archive, str(pydicom.dcmread(files[0]).StudyInstanceUID)
    archive.close()


def _sync(fn: Any, ok: Any, fail: Any) -> None:
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - handed on like the background runner does
        fail(exc)
    else:
        ok(result)


def test_the_study_list_counts_incomplete_images(qtbot: Any, archive_with_a_cut_file: Any) -> None:
    from workstation.app.study_model import COLUMNS, LocalStudyModel
    from workstation.app.viewer_area import incomplete_notice

    archive, study_uid = archive_with_a_cut_file
    model = LocalStudyModel(
        archive.find_studies, lambda q: len(archive.find_studies(q)), runner=_sync
    )
    model.refresh()
    images = next(i for i, c in enumerate(COLUMNS) if c.key == "images")
    index = model.index(0, images)
    assert model.data(index) == "4 (1 incomplete)"
    assert "cut short" in model.data(index, Qt.ItemDataRole.ToolTipRole)
    study = archive.get_study(study_uid)
    assert incomplete_notice(study).startswith("1 of the 4 images of this study is incomplete")


def test_the_viewer_area_keeps_a_notice_for_an_incomplete_study(
    qtbot: Any, archive_with_a_cut_file: Any
) -> None:
    from workstation.app.thumbnails import ThumbnailCache
    from workstation.app.viewer_area import ViewerArea

    archive, study_uid = archive_with_a_cut_file
    area = ViewerArea(
        lambda uid: (archive.get_study(uid), archive.find_series(uid)),
        ThumbnailCache(lambda _key: None),
    )
    qtbot.addWidget(area)
    area.show()
    with qtbot.waitSignal(area.sig_study_opened, timeout=10_000):
        area.open_study(study_uid)
    assert area.message.isVisible()
    assert "1 of the 4 images of this study is incomplete" in area.message.text()
