"""Annotations and key images, kept with the study in the local archive's database.

They live in two tables of our own (``viewer_annotations``, ``viewer_key_images``) in the
same database as the archive index (SQLite in the data directory, or PostgreSQL), keyed
by SOP Instance UID and frame.  The tables have their own Alembic lineage
(``viewer/migrations``, version table ``viewer_alembic_version``), so the archive's
migrations and ours never share a head.  A study deleted from the archive leaves its
rows behind until :meth:`ViewerStore.forget_study` is called.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from workstation.storage.side_store import SideStore
from workstation.viewer import store_schema as t
from workstation.viewer.annotations import Annotation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyImage:
    """A frame marked as a key image: its row's columns (but the row id), by name."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    frame_index: int
    marked_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def upgrade_schema(engine: Engine) -> None:
    """Bring the viewer tables to the newest revision (no Alembic run when current)."""
    from workstation.storage.migrate import ensure_schema

    ensure_schema(engine, "workstation.viewer:migrations", t.VERSION_TABLE)


class ViewerStore(SideStore):
    """Reads and writes annotations and key images; safe to share between threads."""

    upgrade_schema = staticmethod(upgrade_schema)

    # Annotations -----------------------------------------------------------
    def annotations(self, study_uid: str) -> list[Annotation]:
        q = (
            sa.select(t.annotation_table.c.payload)
            .where(t.annotation_table.c.study_instance_uid == study_uid)
            .order_by(t.annotation_table.c.created_at, t.annotation_table.c.annotation_id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(q).scalars().all()
        out = []
        for payload in rows:
            try:
                out.append(Annotation.from_dict(json.loads(payload)))
            except (ValueError, KeyError, TypeError):
                logger.warning("skipping an unreadable annotation row of study %s", study_uid)
        return out

    def save(self, a: Annotation) -> None:
        """Insert or replace one annotation."""
        now = _now()
        row = {
            "study_instance_uid": a.study_instance_uid,
            "series_instance_uid": a.series_instance_uid,
            "sop_instance_uid": a.sop_instance_uid,
            "frame_index": a.frame_index,
            "kind": a.kind.value,
            "payload": json.dumps(a.to_dict()),
            "updated_at": now,
        }
        with self._writer.begin() as conn:
            done = conn.execute(
                t.annotation_table.update()
                .where(t.annotation_table.c.annotation_id == a.annotation_id)
                .values(**row)
            )
            if not done.rowcount:
                conn.execute(
                    t.annotation_table.insert().values(
                        annotation_id=a.annotation_id, created_at=now, **row
                    )
                )
        logger.info(
            "annotation %s (%s) saved on instance %s",
            a.annotation_id,
            a.kind.value,
            a.sop_instance_uid,
        )

    def remove(self, annotation_id: str) -> bool:
        with self._writer.begin() as conn:
            done = conn.execute(
                t.annotation_table.delete().where(
                    t.annotation_table.c.annotation_id == annotation_id
                )
            )
        return bool(done.rowcount)

    # Key images ------------------------------------------------------------
    def key_images(self, study_uid: str) -> list[KeyImage]:
        """The frames marked as key images in a study, oldest mark first."""
        k = t.key_image_table.c
        q = (
            sa.select(*(k[f.name] for f in fields(KeyImage)))
            .where(k.study_instance_uid == study_uid)
            .order_by(k.marked_at, k.id)
        )
        with self._engine.connect() as conn:
            return [KeyImage(*row) for row in conn.execute(q).all()]

    def is_key_image(self, sop_uid: str, frame_index: int = 0) -> bool:
        k = t.key_image_table.c
        q = sa.select(k.id).where(k.sop_instance_uid == sop_uid, k.frame_index == frame_index)
        with self._engine.connect() as conn:
            return conn.execute(q).first() is not None

    def mark_key_image(
        self, study_uid: str, series_uid: str, sop_uid: str, frame_index: int = 0
    ) -> None:
        if self.is_key_image(sop_uid, frame_index):
            return
        mark = KeyImage(study_uid, series_uid, sop_uid, frame_index, _now())
        with self._writer.begin() as conn:
            conn.execute(t.key_image_table.insert().values(**asdict(mark)))

    def unmark_key_image(self, sop_uid: str, frame_index: int = 0) -> None:
        k = t.key_image_table.c
        with self._writer.begin() as conn:
            conn.execute(
                t.key_image_table.delete().where(
                    k.sop_instance_uid == sop_uid, k.frame_index == frame_index
                )
            )

    def toggle_key_image(
        self, study_uid: str, series_uid: str, sop_uid: str, frame_index: int = 0
    ) -> bool:
        """Mark or unmark; returns whether the frame is a key image afterwards."""
        if self.is_key_image(sop_uid, frame_index):
            self.unmark_key_image(sop_uid, frame_index)
            return False
        self.mark_key_image(study_uid, series_uid, sop_uid, frame_index)
        return True

    def forget_study(self, study_uid: str) -> None:
        """Drop every annotation and key image of a study (after it left the archive)."""
        with self._writer.begin() as conn:
            conn.execute(
                t.annotation_table.delete().where(
                    t.annotation_table.c.study_instance_uid == study_uid
                )
            )
            conn.execute(
                t.key_image_table.delete().where(
                    t.key_image_table.c.study_instance_uid == study_uid
                )
            )


def key_images(settings: Any, study_uid: str) -> list[KeyImage]:
    """The key images of a study (for reports): opens the store, reads, closes."""
    store = ViewerStore.open(settings)
    try:
        return store.key_images(study_uid)
    finally:
        store.close()
