"""Log a report/signing verb in: ``--user NAME --password-stdin``.

Standard input holds the account password on its first line and, where no OS keyring
holds the signing key's passphrase, that passphrase on the second.  Nothing secret is
taken from the command line or the environment.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workstation.cli.context import CliContext
from workstation.i18n import _


def add_login_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", required=True, metavar="NAME", help=_("your user name"))
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help=_(
            "read the password from the first line of standard input (and the signing "
            "key's passphrase from the second, where no OS keyring holds it)"
        ),
    )


@dataclass
class LoggedIn:
    session: Any
    audit: Any
    secrets: Any
    args: argparse.Namespace

    def second_line(self) -> str | None:
        """The signing key's passphrase as typed (stdin's second line, or a prompt)."""
        if self.args.password_stdin:
            line = sys.stdin.readline().rstrip("\r\n")
            return line or None
        if sys.stdin.isatty():
            return getpass.getpass(_("Signing key passphrase: ")) or None
        return None


@contextmanager
def logged_in(ctx: CliContext, args: argparse.Namespace) -> Iterator[LoggedIn]:
    """Yield the session of ``--user``; raises AuthError on a wrong password."""
    from workstation.auth.audit import AuditLog
    from workstation.auth.authenticator import Authenticator
    from workstation.auth.db import AuthDatabase
    from workstation.auth.keyring_store import SecretStore

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(_("Password: "))
    db = AuthDatabase.from_settings(ctx.settings)
    secrets = SecretStore()
    try:
        audit = AuditLog(db, workstation=ctx.settings.node.ae_title)
        auth = Authenticator.from_settings(ctx.settings, audit, store=secrets)
        try:
            session = auth.login(args.user, password)
            try:
                yield LoggedIn(session, audit, secrets, args)
            finally:
                auth.logout(session)
        finally:
            auth.close()
    finally:
        db.close()
