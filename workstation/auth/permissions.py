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

import enum
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from workstation.auth.errors import NotLoggedIn, PermissionDenied, SessionLocked
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


class Role(enum.StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return {
            Role.ADMIN: _("Administrator"),
            Role.DOCTOR: _("Doctor"),
            Role.OPERATOR: _("Operator"),
        }[self]


class Permission(enum.StrEnum):
    """Names match the central's catalogue (``klinika_auth.permissions``) where both sides
    have the permission; ``studies.retrieve``, ``studies.export`` and ``nodes.manage`` are
    workstation-only."""

    STUDY_VIEW = "studies.read"
    STUDY_IMPORT = "import"
    STUDY_RETRIEVE = "studies.retrieve"
    STUDY_SEND = "studies.send"
    STUDY_EXPORT = "studies.export"
    STUDY_DELETE = "studies.delete"
    ANNOTATION_WRITE = "measurements.write"
    REPORT_READ = "reports.read"
    REPORT_WRITE = "reports.write"
    REPORT_SIGN = "reports.sign"
    USERS_MANAGE = "users.manage"
    NODES_MANAGE = "nodes.manage"
    SETTINGS_MANAGE = "settings.manage"
    AUDIT_READ = "audit.read"

    @property
    def action(self) -> str:
        """What the permission lets a person do, as a phrase for messages."""
        return {
            Permission.STUDY_VIEW: _("view studies"),
            Permission.STUDY_IMPORT: _("import studies"),
            Permission.STUDY_RETRIEVE: _("retrieve studies"),
            Permission.STUDY_SEND: _("send studies to other nodes"),
            Permission.STUDY_EXPORT: _("export or anonymize studies"),
            Permission.STUDY_DELETE: _("delete studies"),
            Permission.ANNOTATION_WRITE: _("measure and annotate"),
            Permission.REPORT_READ: _("read reports"),
            Permission.REPORT_WRITE: _("write reports"),
            Permission.REPORT_SIGN: _("sign reports"),
            Permission.USERS_MANAGE: _("manage users"),
            Permission.NODES_MANAGE: _("manage DICOM nodes"),
            Permission.SETTINGS_MANAGE: _("change settings"),
            Permission.AUDIT_READ: _("read the audit log"),
        }[self]


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
