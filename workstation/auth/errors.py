"""Errors of the auth engine.

Each carries a message a person can act on (translated); the GUI shows ``str(exc)`` and the
CLI prints it.  Details for the log go in ``__cause__`` or ``detail``.
"""

from __future__ import annotations

from workstation.i18n import _


class AuthError(Exception):
    """Base class: something about logging in, tokens or permissions went wrong."""


class PermissionDenied(AuthError):
    """The session's role does not include the permission an action needs."""

    def __init__(self, permission: str, role: str, action: str = "") -> None:
        self.permission = permission
        self.role = role
        self.action = action
        super().__init__(
            _("Your role ({role}) is not allowed to {what}. Ask an administrator.").format(
                role=role, what=action or permission
            )
        )


class NotLoggedIn(AuthError):
    def __init__(self) -> None:
        super().__init__(_("You are not logged in. Log in and try again."))


class SessionLocked(AuthError):
    def __init__(self) -> None:
        super().__init__(_("The screen is locked. Unlock it with your password first."))


class InvalidCredentials(AuthError):
    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("Wrong user name or password."))


class MfaRequired(AuthError):
    """The server wants a one-time code; ask for it and log in again with ``totp``."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("Enter the 6-digit code from your authenticator app."))


class MfaEnrollmentRequired(AuthError):
    """The site requires two-factor sign-in for this account and it has none yet."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This account must use two-factor sign-in, which is not set up yet. Ask an "
                "administrator to enrol an authenticator app for you."
            )
        )


class AccountLocked(AuthError):
    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or _("This account is temporarily locked after failed attempts. Try again later.")
        )


class AccountDisabled(AuthError):
    def __init__(self) -> None:
        super().__init__(_("This account is disabled. Ask an administrator."))


class CentralUnavailable(AuthError):
    """The central auth API could not be reached (network down, timeout, 502-504)."""

    def __init__(self, url: str, reason: str = "", message: str = "") -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            message
            or _(
                "The central server at {url} cannot be reached. Check the network, or log in "
                "offline with your last password on this workstation."
            ).format(url=url)
        )


class CentralStorageFull(CentralUnavailable):
    """The central answered 507: its disk is full, nothing of the request was kept.

    Like an unreachable central it passes (the server says when to try again), so every
    caller that waits and retries on :class:`CentralUnavailable` does so here too."""

    def __init__(self, url: str, retry_after: str = "") -> None:
        super().__init__(
            url,
            "HTTP 507",
            _(
                "The central server at {url} cannot store anything at the moment (its disk "
                "is full); nothing was saved. Try again later."
            ).format(url=url),
        )
        self.retry_after = retry_after


class CentralError(AuthError):
    """The central answered with an error we cannot map to something more specific."""

    def __init__(self, status: int, message: str = "") -> None:
        self.status = status
        super().__init__(
            message
            or _("The central server refused the request (HTTP {status}).").format(status=status)
        )


class TokenInvalid(AuthError):
    """A token failed verification (signature, issuer, audience, expiry, algorithm)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            _("The server's login token could not be verified ({reason}). Ask IT.").format(
                reason=reason
            )
        )


class SessionExpired(AuthError):
    def __init__(self) -> None:
        super().__init__(_("Your session has expired. Log in again."))


class OfflineLoginUnavailable(AuthError):
    """No usable offline verifier: never logged in here, no keyring, or too old."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class KeyringUnavailable(AuthError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "No system keyring is available, so nothing can be remembered between "
                "sessions: online login only."
            )
        )


class WeakPassword(AuthError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class AccountExists(AuthError):
    def __init__(self, username: str) -> None:
        super().__init__(_("A user named {name} already exists.").format(name=username))


class UnknownAccount(AuthError):
    def __init__(self, username: str) -> None:
        super().__init__(_("There is no user named {name}.").format(name=username))
