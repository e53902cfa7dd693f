"""Reports kept in the local archive's database, one row per version.

The table has its own Alembic lineage (``reports/migrations``, version table
``reports_alembic_version``), as the viewer's tables do.  The store enforces the model's
rules that must hold whoever calls it: only draft and preliminary versions change in
place; signing makes a version final with its PDF and hash; an amendment is a new row.
Permissions and audit are the caller's (:mod:`workstation.services.report_actions`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from workstation.reports import store_schema as t
from workstation.reports.errors import ReportNotFound, ReportStateError
from workstation.reports.model import Report, ReportStatus, can_move
from workstation.storage.side_store import SideStore

_C = t.report_table.c
_COLUMNS = [c for c in t.report_table.c if c.name != "pdf"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def upgrade_schema(engine: Engine) -> None:
    from workstation.storage.migrate import ensure_schema

    ensure_schema(engine, "workstation.reports:migrations", t.VERSION_TABLE)


def _report(row: Any) -> Report:
    """The report of a row of :data:`_COLUMNS`: each column is the field of its name, but
    the JSON ``content`` holds ``sections`` and ``fields``."""
    values = dict(row._mapping)
    content = json.loads(values.pop("content"))
    values["status"] = ReportStatus(values["status"])
    return Report(
        **values,
        sections=dict(content.get("sections", {})),
        fields=dict(content.get("fields", {})),
    )


def _content(sections: Mapping[str, str], fields: Mapping[str, str]) -> str:
    return json.dumps({"sections": dict(sections), "fields": dict(fields)}, ensure_ascii=False)


class ReportStore(SideStore):
    """Reads and writes reports; safe to share between threads."""

    upgrade_schema = staticmethod(upgrade_schema)

    # -- reading -----------------------------------------------------------------------
    def get(self, report_id: str) -> Report:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(*_COLUMNS).where(_C.report_id == report_id)).first()
        if row is None:
            raise ReportNotFound(report_id)
        return _report(row)

    def list(self, study_uid: str | None = None) -> list[Report]:
        q = sa.select(*_COLUMNS).order_by(_C.created_at, _C.version, _C.report_id)
        if study_uid:
            q = q.where(_C.study_instance_uid == study_uid)
        with self._engine.connect() as conn:
            return [_report(r) for r in conn.execute(q).all()]

    def pdf(self, report_id: str) -> bytes | None:
        """The signed PDF of a version, or None before it is signed."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(_C.pdf).where(_C.report_id == report_id)).first()
        if row is None:
            raise ReportNotFound(report_id)
        return None if row.pdf is None else bytes(row.pdf)

    # -- writing -----------------------------------------------------------------------
    def create(
        self,
        study_uid: str,
        template_id: str,
        language: str,
        author: str,
        sections: Mapping[str, str],
        fields: Mapping[str, str] | None = None,
        *,
        predecessor: Report | None = None,
        reason: str = "",
    ) -> Report:
        """A new draft (or, with ``predecessor``, the draft of an amendment)."""
        now = _now()
        report_id = uuid.uuid4().hex
        with self._writer.begin() as conn:
            conn.execute(
                t.report_table.insert().values(
                    report_id=report_id,
                    study_instance_uid=study_uid,
                    template_id=template_id,
                    language=language,
                    author=author,
                    status=ReportStatus.DRAFT.value,
                    version=predecessor.version + 1 if predecessor else 1,
                    predecessor_id=predecessor.report_id if predecessor else None,
                    amendment_reason=reason,
                    content=_content(sections, fields or {}),
                    created_at=now,
                    updated_at=now,
                    signed_at=None,
                    signed_by="",
                    pdf_sha256="",
                    pdf=None,
                )
            )
        return self.get(report_id)

    def update(
        self,
        report_id: str,
        sections: Mapping[str, str],
        fields: Mapping[str, str] | None = None,
        status: ReportStatus | None = None,
    ) -> Report:
        """Change the text (and status) of a draft or preliminary version."""
        old = self.get(report_id)
        if not old.editable:
            raise ReportStateError(f"report {report_id} is {old.status.value}: amend it instead")
        new_status = status or old.status
        if new_status == ReportStatus.FINAL or not can_move(old.status, new_status):
            raise ReportStateError(f"cannot move {old.status.value} -> {new_status.value}")
        merged = {**old.fields, **(fields or {})}
        with self._writer.begin() as conn:
            conn.execute(
                t.report_table.update()
                .where(_C.report_id == report_id, _C.status == old.status.value)
                .values(
                    content=_content(sections, merged),
                    status=new_status.value,
                    updated_at=_now(),
                )
            )
        return self.get(report_id)

    def finalize(self, report_id: str, pdf: bytes, signer: str) -> Report:
        """Make a draft/preliminary version final with its signed PDF and that PDF's hash.

        When the version amends a final one, the predecessor becomes superseded in the
        same transaction."""
        old = self.get(report_id)
        if not old.editable:
            raise ReportStateError(f"report {report_id} is {old.status.value} already")
        now = _now()
        with self._writer.begin() as conn:
            done = conn.execute(
                t.report_table.update()
                .where(_C.report_id == report_id, _C.status == old.status.value)
                .values(
                    status=ReportStatus.FINAL.value,
                    pdf=pdf,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                    signed_at=now,
                    signed_by=signer,
                    updated_at=now,
                )
            )
            if not done.rowcount:
                raise ReportStateError(f"report {report_id} changed while it was signed")
            if old.predecessor_id:
                conn.execute(
                    t.report_table.update()
                    .where(
                        _C.report_id == old.predecessor_id,
                        _C.status == ReportStatus.FINAL.value,
                    )
                    .values(status=ReportStatus.SUPERSEDED.value, updated_at=now)
                )
        return self.get(report_id)

    def amend(self, report_id: str, author: str, reason: str) -> Report:
        """A new draft version of a final report, pointing at it, with the reason."""
        old = self.get(report_id)
        if old.status != ReportStatus.FINAL:
            raise ReportStateError(f"only a final report is amended ({old.status.value})")
        if not reason.strip():
            raise ReportStateError("an amendment needs a reason")
        pending = [r for r in self.list(old.study_instance_uid) if r.predecessor_id == report_id]
        if pending:
            raise ReportStateError(f"report {report_id} has an amendment already")
        return self.create(
            old.study_instance_uid,
            old.template_id,
            old.language,
            author,
            old.sections,
            old.fields,
            predecessor=old,
            reason=reason.strip(),
        )
