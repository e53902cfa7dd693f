"""Viewer fixtures: synthetic series on disk and catalogs over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.display_skip import skip_window_tests_without_display
from tests.viewer import synthetic


@pytest.fixture
def ct_files(tmp_path: Path) -> list[Path]:
    return synthetic.write_ct_series(tmp_path / "ct", n=20)


@pytest.fixture
def ct_catalog(ct_files: list[Path]):  # type: ignore[no-untyped-def]
    from workstation.viewer.catalog import FileCatalog

    return FileCatalog(ct_files)


@pytest.fixture
def make_viewer(qtbot, settings):  # type: ignore[no-untyped-def]
    from workstation.viewer._qt.qt_viewer import QtViewer
    from workstation.viewer.annotations import Kind

    made = []

    def make(catalog, size=(1100, 760)):  # type: ignore[no-untyped-def]
        v = QtViewer(catalog, settings)
        qtbot.addWidget(v)
        v.resize(*size)
        v.show()
        qtbot.waitExposed(v)
        v.text_provider = lambda kind: "note" if kind is Kind.TEXT else "look"
        made.append(v)
        return v

    yield make
    for v in made:
        v.close()


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Without a display the viewer's window tests skip (scripts/test.sh runs Xvfb)."""
    skip_window_tests_without_display(items, Path(__file__).parent)
