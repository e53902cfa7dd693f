"""Schema checks on open: cheap when current, Alembic when behind, per lineage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workstation.pacs_node.archive.database import ARCHIVE_SCRIPTS, make_engine
from workstation.storage.migrate import current_revisions, ensure_schema, script_heads

SYNC_SCRIPTS = "workstation.pacs_node.sync:migrations"
LINEAGES = [
    (ARCHIVE_SCRIPTS, "alembic_version"),
    (SYNC_SCRIPTS, "sync_alembic_version"),
    ("workstation.viewer:migrations", "viewer_alembic_version"),
]


@pytest.mark.parametrize(("location", "_table"), LINEAGES)
def test_heads_read_from_the_files_are_alembics_heads(location: str, _table: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", location)
    assert script_heads(location) == frozenset(ScriptDirectory.from_config(cfg).get_heads())


def test_lineages_are_separate_and_an_old_schema_is_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        for location, table in LINEAGES[:2]:
            assert ensure_schema(engine, location, table) is True
            assert current_revisions(engine, table) == script_heads(location)
            assert ensure_schema(engine, location, table) is False  # current: no Alembic
        # The archive one revision behind (as an older release left it) is brought up.
        cfg = Config()
        cfg.set_main_option("script_location", ARCHIVE_SCRIPTS)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
        behind = current_revisions(engine, "alembic_version")
        assert behind and behind != script_heads(ARCHIVE_SCRIPTS)
        assert ensure_schema(engine, ARCHIVE_SCRIPTS) is True
        assert current_revisions(engine, "alembic_version") == script_heads(ARCHIVE_SCRIPTS)
        # The sync lineage was not touched by the archive's.
        assert current_revisions(engine, "sync_alembic_version") == script_heads(SYNC_SCRIPTS)
    finally:
        engine.dispose()


def test_a_database_newer_than_the_scripts_is_refused(tmp_path: Path) -> None:
    from workstation.pacs_node.archive.database import upgrade_schema
    from workstation.pacs_node.archive.errors import MigrationError

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        upgrade_schema(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
        with pytest.raises(MigrationError):
            upgrade_schema(engine)
    finally:
        engine.dispose()


def test_opening_a_current_archive_does_not_load_alembic(ws_home: Path) -> None:
    """The open of an up-to-date archive (and its sync queue) runs no Alembic at all."""
    script = (
        "import sys\n"
        "from workstation.config import load_settings, ensure_home\n"
        "from workstation.pacs_node.archive import Archive\n"
        "from workstation.pacs_node.sync.queue import SyncQueue\n"
        "s = load_settings(); ensure_home(s)\n"
        "a = Archive.open(s); SyncQueue(a.engine); a.close()\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]  # the first open created the schema, the second checked
