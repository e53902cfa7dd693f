"""``--user NAME --password-stdin``: who a verb that touches patient data acts for.

Standard input carries, one per line, that account's password first and then any
further secret the verb needs (``users add``: the new account's password).  Without
``--user`` the OS user who owns the data directory acts (see
:mod:`workstation.services.command_line`).
"""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workstation.cli import exit_codes
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session

SessionHandler = Callable[[CliContext, Any, "Session"], int]


def add_actor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--user",
        metavar="NAME",
        help=_("act as this workstation account (default: the data directory's owner)"),
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help=_("read the account's password (then any further secret) from standard input"),
    )


def next_secret(args: argparse.Namespace, prompt: str) -> str:
    """The next line of standard input (``--password-stdin``), else a hidden prompt on a
    terminal; "" when neither is possible."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return ""


def auth_failure(exc: Exception) -> int:
    """Print a refusal a person can act on; the exit code (5 unreachable, else 7)."""
    from workstation.auth.errors import CentralUnavailable

    print(_("Not permitted: {error}").format(error=exc), file=sys.stderr)
    return exit_codes.PEER_ERROR if isinstance(exc, CentralUnavailable) else exit_codes.FORBIDDEN


def acting_session(ctx: CliContext, args: argparse.Namespace) -> Session:
    """The session of ``--user`` (its password read first from standard input, then a
    one-time code when the central asks for one), else the data directory's owner;
    raises ``AuthError``."""
    from workstation.auth.errors import MfaRequired

    password = ""
    if args.user:
        password = next_secret(args, _("Password for {user}: ").format(user=args.user))
    try:
        return ctx.services.act_as(args.user, password)
    except MfaRequired:
        # Central accounts with two-factor sign-in: the code is the next stdin line.
        code = next_secret(args, _("One-time code: ")).strip()
        if not code:
            raise
        return ctx.services.act_as(args.user, password, code)


def acts_for_person(handler: SessionHandler) -> Callable[[CliContext, Any], int]:
    """Run ``handler(ctx, args, session)`` for the account ``--user`` names (or the data
    directory's owner); failed logins and refusals are exit 7, and audited."""

    @functools.wraps(handler)
    def run(ctx: CliContext, args: Any) -> int:
        from workstation.auth.errors import AuthError

        try:
            session = acting_session(ctx, args)
        except AuthError as exc:
            return auth_failure(exc)
        try:
            return handler(ctx, args, session)
        except AuthError as exc:
            return auth_failure(exc)

    return run
