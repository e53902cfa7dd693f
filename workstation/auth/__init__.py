"""Who may do what: login (central, offline, standalone), roles and permissions, tokens in
the OS keyring, idle lock, and the hash-chained audit log.

No Qt here.  The one permission check is :func:`require` (and the ``@requires`` method
decorator); the GUI only mirrors it by disabling buttons.

Main entry points: :class:`~workstation.auth.authenticator.Authenticator`,
:class:`~workstation.auth.audit.AuditLog`, :class:`~workstation.auth.db.AuthDatabase`,
:class:`~workstation.auth.token_provider.SessionTokenProvider`,
:class:`~workstation.auth.idle.IdleLock`.
"""

from workstation.auth.errors import AuthError, NotLoggedIn, PermissionDenied, SessionLocked
from workstation.auth.permissions import Permission, Role, require, requires

__all__ = [
    "AuthError",
    "NotLoggedIn",
    "Permission",
    "PermissionDenied",
    "Role",
    "SessionLocked",
    "require",
    "requires",
]
