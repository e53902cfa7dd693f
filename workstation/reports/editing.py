"""``ReportEditing``: what the report editor (``reports._qt``) asks of the report actions.

The editor is a thin view; the work, the permission check and the audit are in
:class:`workstation.services.report_actions.ReportActions`, a layer above ``reports``.
The app hands the actions in; this protocol names what the view calls on them, so the
view needs nothing from the layers above it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from workstation.reports.model import Report
    from workstation.reports.templates import Template
    from workstation.reports.verify import Verification


class SigningEnrolment(Protocol):
    """What the enrolment dialog asks of the signing actions (the CLI's service)."""

    @property
    def username(self) -> str:
        """The account the certificate is for."""
        ...

    @property
    def needs_passphrase(self) -> bool:
        """No OS keyring here: the user gives the new key's passphrase."""
        ...

    @property
    def refusals(self) -> tuple[type[Exception], ...]:
        """The errors whose text is the user's answer (a wrong password, a refusal)."""
        ...

    def confirm_password(self, password: str) -> None: ...

    def enroll(
        self,
        typed_passphrase: str | None = None,
        key_type: str | None = None,
        ask_code: Callable[[], str | None] | None = None,
    ) -> Any: ...


class ReportEditing(Protocol):
    @property
    def may_write(self) -> bool:
        """Whether the session may create and edit reports."""
        ...

    @property
    def may_sign(self) -> bool:
        """Whether the session may sign reports."""
        ...

    def templates(self) -> dict[str, Template]: ...

    def list_reports(self, study_uid: str | None = None) -> list[Report]: ...

    def preview(self, report_id: str) -> bytes: ...

    def verify(self, report_id: str) -> Verification:
        """The signature check of a version's PDF against the clinic CA."""
        ...

    def create(
        self, study_uid: str, template_id: str | None = None, language: str | None = None
    ) -> Report: ...

    def edit(
        self, report_id: str, sections: Mapping[str, str], fields: Mapping[str, str] | None = None
    ) -> Report: ...

    def amend(self, report_id: str, reason: str) -> Report: ...

    def key_passphrase(self, typed: str | None = None) -> str: ...

    def sign(self, report_id: str, passphrase: str | None = None) -> Report: ...

    def needs_certificate(self) -> bool:
        """Central mode, a user who may sign, no signing key here yet."""
        ...

    def enrolment(self) -> SigningEnrolment:
        """The signing actions the enrolment dialog runs."""
        ...
