"""Viewer fixtures: synthetic series on disk and catalogs over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.viewer import synthetic


@pytest.fixture
def ct_files(tmp_path: Path) -> list[Path]:
    return synthetic.write_ct_series(tmp_path / "ct", n=20)


@pytest.fixture
def ct_catalog(ct_files: list[Path]):  # type: ignore[no-untyped-def]
    from workstation.viewer.catalog import FileCatalog

    return FileCatalog(ct_files)
