"""The viewer on the real local archive: open by study UID, persist in its database."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vtkmodules")

from PySide6.QtCore import Qt

from tests.viewer import synthetic
from tests.viewer.gui_helpers import drag, settle, wait_until

pytestmark = [pytest.mark.qt, pytest.mark.vtk]


@pytest.fixture
def archive(settings):  # type: ignore[no-untyped-def]
    from workstation.pacs_node.archive.archive import Archive

    a = Archive.open(settings)
    yield a
    a.close()


def test_open_from_archive_and_keep_measurements(qtbot, settings, archive, tmp_path: Path) -> None:
    from workstation.viewer._qt.qt_viewer import QtViewer
    from workstation.viewer.store import ViewerStore, key_images

    files = synthetic.write_ct_series(tmp_path / "in", n=12)
    for f in files:
        assert archive.store_file(f).ok
    (study,) = {s.study_instance_uid for s in archive.find_studies()}
    v = QtViewer(archive, settings)
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    qtbot.waitExposed(v)
    shown: list[float] = []
    v.sig_first_image_shown.connect(shown.append)
    assert v.open_study(study)
    wait_until(qtbot, lambda: bool(shown))
    assert v.current_study_uid == study
    view = v.views[0]
    assert view.viewport.count == 12
    # Stored paths come from the archive's own records; the stack is spatially sorted,
    # head-most first (the synthetic stack numbers its images feet to head).
    assert [view.viewport.source.ref(i).instance_number for i in range(12)] == list(
        range(12, 0, -1)
    )
    v.set_tool(v.tool.LENGTH)
    drag(qtbot, view.render_view, view.screen_point((10, 10)), view.screen_point((60, 40)))
    qtbot.keyClick(view.render_view, Qt.Key.Key_K)
    settle()
    (ann,) = v.model.annotations()
    series_uid = view.viewport.series_uid
    # The measurements go into the study as a DICOM SR, through the archive's own store.
    result = v.store_sr()
    assert result.ok, result.reason
    modalities = sorted(s.modality for s in archive.find_series(study))
    assert modalities == ["CT", "SR"]
    v.close_study()
    assert v.current_study_uid is None and view.viewport.source is None
    assert v.open_series(series_uid)  # finds its study through the archive
    assert v.current_study_uid == study
    assert [a.annotation_id for a in v.model.annotations()] == [ann.annotation_id]
    v.close()
    # Same database file as the archive index, our own tables beside it.
    store = ViewerStore.open(settings)
    try:
        assert [a.annotation_id for a in store.annotations(study)] == [ann.annotation_id]
    finally:
        store.close()
    (key,) = key_images(settings, study)
    assert key.series_instance_uid == series_uid
    import sqlalchemy as sa

    engine = sa.create_engine(settings.database_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {
        "viewer_annotations",
        "viewer_key_images",
        "viewer_alembic_version",
        "studies",
    } <= tables
