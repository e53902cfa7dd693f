"""Bring one Alembic lineage to its head, cheaply when it is there already.

The archive database holds several lineages, each with its own scripts and version table:
the archive index (``alembic_version``), the sync queue (``sync_alembic_version``), the
auth tables (``alembic_version_auth``, in their own file beside a SQLite archive) and the
viewer's tables (``viewer_alembic_version``).  Running ``alembic upgrade head`` on every
open costs an import of Alembic (and Mako) and a walk of the scripts, a few hundred
milliseconds at start-up.  :func:`ensure_schema` first compares the revisions in the
lineage's version table with the heads of its scripts - read from the revision files
without importing Alembic, once per process - and runs Alembic only when they differ
(new database, older schema, or anything it cannot tell for sure).  A database *newer*
than the scripts also differs, and Alembic then refuses it as before.

The upgrade runs in a write transaction (``BEGIN IMMEDIATE`` on SQLite, see
:mod:`~workstation.storage.engine`), so two processes opening a fresh file at
once take turns instead of one failing with "database is locked".
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import logging
from pathlib import Path

from sqlalchemy import MetaData, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from workstation.storage.engine import write_engine

logger = logging.getLogger(__name__)


def ensure_schema(
    engine: Engine, script_location: str, version_table: str = "alembic_version"
) -> bool:
    """Upgrade the lineage at ``script_location`` ("package:folder") to head if needed.

    Returns True when Alembic ran, False when the schema was current already.
    """
    heads = script_heads(script_location)
    if heads is not None and current_revisions(engine, version_table) == heads:
        return False
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    with write_engine(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    logger.info("schema %s upgraded to head", script_location)
    return True


def current_revisions(engine: Engine, version_table: str) -> frozenset[str] | None:
    """The revisions recorded in ``version_table``; None when the table does not exist."""
    if not version_table.replace("_", "").isalnum():  # it goes into SQL text below
        raise ValueError(f"invalid version table name {version_table!r}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT version_num FROM {version_table}")).scalars()
            return frozenset(str(r) for r in rows)
    except SQLAlchemyError:
        return None


@functools.cache
def script_heads(script_location: str) -> frozenset[str] | None:
    """Head revisions of a lineage's scripts, or None when the files cannot tell."""
    folder = _versions_folder(script_location)
    if folder is None:
        return None
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        if path.name == "__init__.py":
            continue
        found = _revision_of(path)
        if found is None:
            return None
        revision, down = found
        revisions.add(revision)
        parents.update(down)
    heads = frozenset(revisions - parents)
    return heads or None


def _versions_folder(script_location: str) -> Path | None:
    package, _, folder = script_location.partition(":")
    if not folder:
        return None
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / folder / "versions"
    return path if path.is_dir() else None


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """``revision`` and ``down_revision`` of one script, from its module-level constants."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                return None
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str) or not revision:
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, (tuple, list)) and all(isinstance(d, str) for d in down):
        return revision, tuple(down)
    return None


def run_lineage_migrations(metadata: MetaData, version_table: str) -> None:
    """The body of a separate lineage's Alembic ``env.py`` (sync queue, viewer store):
    migrate ``metadata`` on the connection :func:`ensure_schema` hands in, recording the
    revision in ``version_table``.  Only call it from inside Alembic."""
    from alembic import context

    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
