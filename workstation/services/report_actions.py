"""Every report action, as a guarded, audited engine call (GUI and CLI alike).

``ReportActions(session, store, audit, settings)`` checks the permission first (doctor
and admin write and sign; an operator reads), does the work, and audits create, edit,
sign, amend, export and print.  Audit events carry report ids, study UIDs and
certificate fingerprints, never patient data.  Signing renders the PDF with the signer
block, signs it (PAdES B-LT, :mod:`workstation.reports.signing`) and stores the signed
bytes and their SHA-256 with the version in one step; a refused signature writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.auth.audit import AuditAction, AuditLog, Outcome
from workstation.auth.permissions import Permission
from workstation.auth.session import Session
from workstation.reports.errors import ReportError, SigningSetupError, TemplateError
from workstation.reports.keystore import SigningHome, passphrase_key
from workstation.reports.model import LANGUAGES, Report, ReportStatus
from workstation.reports.render_pdf import Clinic, Figure, SignerBlock, StudyInfo, render_report
from workstation.reports.signing import sign_pdf
from workstation.reports.site_ca import fingerprint
from workstation.reports.store import ReportStore
from workstation.reports.templates import (
    FREE_TEXT,
    Template,
    load_templates,
    localized,
    validate_field,
)
from workstation.services.signing_authority import signing_authority, verification_anchor

if TYPE_CHECKING:
    from workstation.auth.keyring_store import SecretStore
    from workstation.config import Settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.sync.queue import SyncQueue
    from workstation.reports.verify import Verification
    from workstation.services.signing_actions import SigningActions

logger = logging.getLogger(__name__)

#: Key images printed in a report at most.
MAX_FIGURES = 6


class ReportActions:
    def __init__(
        self,
        session: Session,
        store: ReportStore,
        audit: AuditLog,
        settings: Settings,
        *,
        archive: Archive | None = None,
        secrets: SecretStore | None = None,
        outbox: SyncQueue | None = None,
        wake_outbox: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.audit = audit
        self.settings = settings
        self.archive = archive
        self.secrets = secrets
        #: The persistent outbox a signed version goes upstream through (None: stays here).
        self.outbox = outbox
        self.wake_outbox = wake_outbox
        self.signing = SigningHome(settings.signing_dir)

    # -- the guard -----------------------------------------------------------------------
    def guard(self, permission: Permission, study_uid: str | None = None) -> None:
        self.audit.require(self.session, permission, study_uid)

    @property
    def may_write(self) -> bool:
        """Whether the session may create and edit reports (for enabling controls)."""
        return self.session.can(Permission.REPORT_WRITE)

    @property
    def may_sign(self) -> bool:
        """Whether the session may sign reports (for enabling controls)."""
        return self.session.can(Permission.REPORT_SIGN)

    # -- reading -------------------------------------------------------------------------
    def templates(self) -> dict[str, Template]:
        self.guard(Permission.REPORT_READ)
        return load_templates(self.settings.report_template_dir)

    def list_reports(self, study_uid: str | None = None) -> list[Report]:
        self.guard(Permission.REPORT_READ, study_uid)
        return self.store.list(study_uid)

    def get(self, report_id: str) -> Report:
        self.guard(Permission.REPORT_READ)
        return self.store.get(report_id)

    def preview(self, report_id: str) -> bytes:
        """The PDF of a version as it stands (unsigned for drafts, the signed one if final)."""
        report = self.get(report_id)
        signed = self.store.pdf(report_id)
        return signed if signed is not None else self._render(report, None)

    def signing_actions(self) -> SigningActions:
        """The signing actions of this session (enrolment from the editor)."""
        from workstation.services.signing_actions import SigningActions

        return SigningActions(self.session, self.audit, self.settings, self.secrets)

    def needs_certificate(self) -> bool:
        """Central mode, a user who may sign, no signing key here yet."""
        from workstation.services.central_signing import central_mode

        return central_mode(self.settings) and self.signing_actions().needs_certificate()

    def enrolment(self) -> SigningActions:
        return self.signing_actions()

    def verify(self, report_id: str) -> Verification:
        """The signature check of a version's PDF against the site's clinic CA."""
        return verify_report_pdf(self.settings, self.preview(report_id))

    # -- writing -------------------------------------------------------------------------
    def create(
        self,
        study_uid: str,
        template_id: str | None = None,
        language: str | None = None,
        sections: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> Report:
        """A new draft from a template (its default text, then ``sections`` over it)."""
        self.guard(Permission.REPORT_WRITE, study_uid)
        language = language or self.settings.reports.default_language
        if language not in LANGUAGES:
            raise TemplateError(f"language must be one of {', '.join(LANGUAGES)}")
        if self.archive is not None:
            self.archive.get_study(study_uid)  # raises NotFoundError
        template = self._template(template_id or FREE_TEXT)
        text = {**template.default_sections(language), **(sections or {})}
        report = self.store.create(
            study_uid,
            template.template_id,
            language,
            self.session.username,
            text,
            self._checked_fields(template, fields or {}),
        )
        self._audit(AuditAction.REPORT_CREATE, report, template=template.template_id)
        return report

    def edit(
        self,
        report_id: str,
        sections: Mapping[str, str],
        fields: Mapping[str, str] | None = None,
        status: ReportStatus | None = None,
    ) -> Report:
        self.guard(Permission.REPORT_WRITE)
        old = self.store.get(report_id)
        checked = self._checked_fields(self._template(old.template_id), fields or {})
        report = self.store.update(report_id, sections, checked, status)
        self._audit(AuditAction.REPORT_UPDATE, report, status=report.status.value)
        return report

    def amend(self, report_id: str, reason: str) -> Report:
        """A new draft version of a final report (sign it to replace the old one)."""
        self.guard(Permission.REPORT_WRITE)
        report = self.store.amend(report_id, self.session.username, reason)
        self._audit(AuditAction.REPORT_AMEND, report, amends=report_id)
        return report

    # -- signing -------------------------------------------------------------------------
    def key_passphrase(self, typed: str | None = None) -> str:
        """The PKCS#12 passphrase: the keyring's, else the one the user typed."""
        if self.secrets is not None:
            stored = self.secrets.get(passphrase_key(self.session.username))
            if stored:
                return stored
        if typed:
            return typed
        raise SigningSetupError(
            "no passphrase for the signing key: the OS keyring holds none; type it"
        )

    def sign(self, report_id: str, passphrase: str | None = None) -> Report:
        """Render with the signer block, sign (PAdES B-LT), store as the final version."""
        self.guard(Permission.REPORT_SIGN)
        report = self.store.get(report_id)
        try:
            if not report.editable:
                raise ReportError(f"report {report_id} is {report.status.value} already")
            signer = self.signing.signer(self.session.username, self.key_passphrase(passphrase))
            block = SignerBlock(
                name=self.session.username,
                role=self.session.role.value,
                signed_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                fingerprint=fingerprint(signer.certificate),
            )
            # The page says what the version will be once this signature is on it.
            unsigned = self._render(dataclasses.replace(report, status=ReportStatus.FINAL), block)
            with signing_authority(self.settings, self.signing, self.session) as authority:
                signed = sign_pdf(
                    unsigned,
                    signer,
                    authority.anchor,
                    authority.timestamper,
                    tsa_certs=authority.tsa_certs,
                )
        except ReportError as exc:
            self._audit(AuditAction.REPORT_SIGN, report, Outcome.FAILURE, reason=str(exc))
            raise
        final = self.store.finalize(report_id, signed, self.session.username)
        self._audit(
            AuditAction.REPORT_SIGN,
            final,
            sha256=final.pdf_sha256,
            certificate=block.fingerprint,
        )
        if self.store_in_study(final.report_id) is not None:
            self.queue_upstream(final, block.fingerprint)
        return final

    # -- into the study ------------------------------------------------------------------
    def store_in_study(self, report_id: str) -> str | None:
        """Store a signed version's PDF in its study as an Encapsulated PDF instance.

        Done on signing (an amendment names its predecessor); callable again, e.g. when
        that failed: the instance is the same each time.  Stored through the archive's
        own store, so it syncs like any instance.  The SOP Instance UID, or None when
        there is no archive or the archive refused it (audited as a failed send)."""
        self.guard(Permission.REPORT_WRITE)
        report = self.store.get(report_id)
        pdf = self.store.pdf(report_id)
        if self.archive is None:
            return None
        if pdf is None:
            raise ReportError(f"report {report_id} is not signed: nothing to store")
        from workstation.reports.encapsulated_pdf import (
            EncapsulationError,
            build_instance,
            study_header,
        )

        try:
            header = study_header(self.archive, report.study_instance_uid)
            instance = build_instance(
                report,
                pdf,
                header,
                organisation=self.settings.reports.clinic_name,
                title=self._document_title(report),
            )
            result = self.archive.store_bytes(instance.data, source="report")
        except Exception as exc:  # noqa: BLE001 - the version is signed whatever happens here
            logger.warning("report %s: no DICOM instance: %s", report_id, type(exc).__name__)
            # pydicom's messages may quote a patient's value: only the kind goes out.
            reason = str(exc) if isinstance(exc, EncapsulationError) else type(exc).__name__
            self._audit(
                AuditAction.REPORT_SEND, report, Outcome.FAILURE, to="archive", reason=reason
            )
            return None
        if not result.ok:
            self._audit(
                AuditAction.REPORT_SEND,
                report,
                Outcome.FAILURE,
                to="archive",
                sop_instance_uid=instance.sop_instance_uid,
                reason=result.reason,
            )
            return None
        self._audit(
            AuditAction.REPORT_SEND,
            report,
            to="archive",
            sop_instance_uid=instance.sop_instance_uid,
            series_instance_uid=instance.series_instance_uid,
            sha256=report.pdf_sha256,
        )
        return instance.sop_instance_uid

    def queue_upstream(self, report: Report, signer_fingerprint: str) -> list[int]:
        """Queue a signed version for the central archive and registry (and the RIS and
        FHIR server when the site turns them on); the outbox job ids.

        The jobs go into the archive's durable outbox table even when no outbox worker
        runs yet (e.g. signed in the instant between the archive opening and the outbox
        starting): the worker takes them when it starts."""
        outbox = self.outbox
        if outbox is None and self.archive is not None:
            from workstation.pacs_node.sync.queue import SyncQueue

            outbox = self.outbox = SyncQueue(self.archive.engine)
        if outbox is None:
            return []
        from workstation.services.report_upstream import queue_report_upstream

        ids = queue_report_upstream(
            outbox, self.settings, report, signer_fingerprint, self._document_title(report)
        )
        if not ids:  # a standalone site: nowhere to send it
            return ids
        self._audit(AuditAction.REPORT_SEND, report, to="outbox", sync_jobs=ids)
        if self.wake_outbox is not None:
            self.wake_outbox()
        return ids

    # -- leaving the workstation ---------------------------------------------------------
    def export(self, report_id: str, destination: Path) -> Path:
        """Write a version's PDF (the signed one when final) to ``destination``."""
        self.guard(Permission.REPORT_READ)
        report = self.store.get(report_id)
        data = self.preview(report_id)
        destination = Path(destination)
        tmp = destination.with_name(destination.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(destination)
        self._audit(AuditAction.REPORT_EXPORT, report, signed=not report.editable)
        return destination

    def printed(self, report_id: str) -> None:
        """Audit that a version was sent to a printer (the GUI prints)."""
        self.guard(Permission.REPORT_READ)
        self._audit(AuditAction.REPORT_PRINT, self.store.get(report_id))

    # -- helpers -------------------------------------------------------------------------
    def _template(self, template_id: str) -> Template:
        templates = load_templates(self.settings.report_template_dir)
        if template_id not in templates:
            raise TemplateError(f"no template {template_id!r}")
        return templates[template_id]

    @staticmethod
    def _checked_fields(template: Template, fields: Mapping[str, str]) -> dict[str, str]:
        known = {f.field_id: f for f in template.fields}
        unknown = set(fields) - set(known)
        if unknown:
            raise TemplateError(f"unknown field(s): {', '.join(sorted(unknown))}")
        return {k: validate_field(known[k], v) for k, v in fields.items()}

    def _render(self, report: Report, signer: SignerBlock | None) -> bytes:
        r = self.settings.reports
        clinic = Clinic(
            r.clinic_name, r.clinic_address, Path(r.clinic_logo) if r.clinic_logo else None
        )
        return render_report(
            report,
            self._template(report.template_id),
            self._study_info(report.study_instance_uid),
            clinic=clinic,
            figures=self._figures(report.study_instance_uid, report.language),
            signer=signer,
        )

    def _document_title(self, report: Report) -> str:
        try:
            template = self._template(report.template_id)
        except TemplateError:
            return ""
        return localized(template.title, report.language)

    def _study_info(self, study_uid: str) -> StudyInfo:
        if self.archive is None:
            return StudyInfo()
        s = self.archive.get_study(study_uid)
        return StudyInfo(
            patient_name=s.patient_name,
            patient_id=s.patient_id,
            birth_date=s.patient_birth_date,
            sex=s.patient_sex,
            study_date=s.study_date,
            accession=s.accession_number,
            modality="/".join(s.modalities),
            description=s.study_description,
            referring=s.referring_physician,
        )

    def _figures(self, study_uid: str, language: str) -> list[Figure]:
        if self.archive is None:
            return []
        from workstation.services.report_figures import key_image_figures

        return key_image_figures(self.settings, self.archive, study_uid, MAX_FIGURES, language)

    def _audit(
        self,
        action: AuditAction,
        report: Report,
        outcome: Outcome = Outcome.SUCCESS,
        **detail: Any,
    ) -> None:
        self.audit.record(
            action,
            session=self.session,
            outcome=outcome,
            study_uid=report.study_instance_uid,
            report_id=report.report_id,
            version=report.version,
            **detail,
        )


def verify_report_pdf(settings: Settings, data: bytes, ca_pem: bytes | None = None) -> Any:
    """Verify a signed report file against the clinic CA (``ca_pem``, else this
    workstation's: the site CA, or in central mode the pinned central CA).

    No login is needed: the answer is public.  The CA's current CRL is applied when the
    pinned CA is that one (the central's fetched, or its kept copy when unreachable)."""
    from workstation.reports.verify import verify_pdf

    ca_cert, crl = verification_anchor(settings, ca_pem)
    return verify_pdf(data, ca_cert, current_crl=crl)
