"""Fixtures of the archive suite: an Archive on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from workstation.config import Settings


def settings_with(settings: Settings, **changes: object) -> Settings:
    """``settings`` with fields of the [archive] / [import] sections replaced."""
    archive = {k: v for k, v in changes.items() if hasattr(settings.archive, k)}
    import_ = {k: v for k, v in changes.items() if hasattr(settings.import_, k)}
    return dataclasses.replace(
        settings,
        archive=dataclasses.replace(settings.archive, **archive),
        import_=dataclasses.replace(settings.import_, **import_),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        return settings_with(settings, database_url=server.new_database("archive"))
    return settings


@pytest.fixture
def archive(backend_settings: Settings) -> Iterator[object]:
    from workstation.pacs_node.archive import Archive

    a = Archive.open(backend_settings)
    yield a
    a.close()


@pytest.fixture
def sqlite_archive(settings: Settings) -> Iterator[object]:
    from workstation.pacs_node.archive import Archive

    a = Archive.open(settings)
    yield a
    a.close()
