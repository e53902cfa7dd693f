"""Roles, permissions and the one check every guarded engine call makes.

The table below is the workstation's rule book.  The central API puts its own ``perms``
claim in the token; the workstation decides from the ``role`` claim with this table so
the same rules hold online, offline and in standalone mode (the central API and the
Orthanc plugin enforce theirs on their side).

===========  =====================================================================
role         may
===========  =====================================================================
operator     view studies, import, retrieve, send to nodes; no reports, no export
doctor       view studies, retrieve, measure and annotate, export/anonymize,
             read, write and sign reports
admin        everything: the above plus delete studies, manage users and nodes,
             change site settings, read the audit log
===========  =====================================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from workstation.auth.errors import NotLoggedIn, PermissionDenied, SessionLocked
from workstation.i18n.labelled_enum import N_, LabelledStrEnum

if TYPE_CHECKING:
    from workstation.auth.session import Session


class Role(LabelledStrEnum):
    ADMIN = "admin", N_("Administrator")
    DOCTOR = "doctor", N_("Doctor")
    OPERATOR = "operator", N_("Operator")


class Permission(LabelledStrEnum):
    """Names match the central's catalogue (``klinika_auth.permissions``) where both sides
    have the permission; ``studies.retrieve``, ``studies.export`` and ``nodes.manage`` are
    workstation-only.  The label says what the permission lets a person do, as a phrase
    for messages (``action``)."""

    STUDY_VIEW = "studies.read", N_("view studies")
    STUDY_IMPORT = "import", N_("import studies")
    STUDY_RETRIEVE = "studies.retrieve", N_("retrieve studies")
    STUDY_SEND = "studies.send", N_("send studies to other nodes")
    STUDY_EXPORT = "studies.export", N_("export or anonymize studies")
    STUDY_DELETE = "studies.delete", N_("delete studies")
    ANNOTATION_WRITE = "measurements.write", N_("measure and annotate")
    REPORT_READ = "reports.read", N_("read reports")
    REPORT_WRITE = "reports.write", N_("write reports")
    REPORT_SIGN = "reports.sign", N_("sign reports")
    USERS_MANAGE = "users.manage", N_("manage users")
    NODES_MANAGE = "nodes.manage", N_("manage DICOM nodes")
    SETTINGS_MANAGE = "settings.manage", N_("change settings")
    AUDIT_READ = "audit.read", N_("read the audit log")

    @property
    def action(self) -> str:
        """What the permission lets a person do, as a phrase for messages."""
        return self.label


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(
        {P.STUDY_VIEW, P.STUDY_IMPORT, P.STUDY_RETRIEVE, P.STUDY_SEND, P.REPORT_READ}
    ),
    Role.DOCTOR: frozenset(
        {
            P.STUDY_VIEW,
            P.STUDY_RETRIEVE,
            P.STUDY_EXPORT,
            P.ANNOTATION_WRITE,
            P.REPORT_READ,
            P.REPORT_WRITE,
            P.REPORT_SIGN,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


def permissions_for(role: Role | str) -> frozenset[Permission]:
    """The permissions of a role; an unknown role gets none."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def require(session: Session | None, permission: Permission) -> Session:
    """Return the session if it may do ``permission``; raise otherwise.

    This is the one check: every guarded engine call makes it before touching data.
    Raises :class:`NotLoggedIn` (no session or logged out), :class:`SessionLocked`
    (screen locked) or :class:`PermissionDenied`.
    """
    if session is None or not session.active:
        raise NotLoggedIn()
    if session.locked:
        raise SessionLocked()
    if permission not in session.permissions:
        raise PermissionDenied(permission.value, session.role.value, permission.action)
    return session


_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S")


def requires(
    permission: Permission,
) -> Callable[[Callable[Concatenate[_S, _P], _R]], Callable[Concatenate[_S, _P], _R]]:
    """Method decorator: ``self.session`` must hold ``permission`` (see :func:`require`)."""

    def decorate(fn: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
        @functools.wraps(fn)
        def guarded(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            require(getattr(self, "session", None), permission)
            return fn(self, *args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorate


def required_permission(fn: Any) -> Permission | None:
    """The permission a ``@requires`` method checks (for UI enabling and tests)."""
    return getattr(fn, "required_permission", None)
