"""``workstation login [--username U] [--password-stdin] [--totp CODE]``: log the command
line in to the central auth API (``central.auth_url``).

The password is asked for without echo (or read from stdin with ``--password-stdin``);
the tokens go to the OS keyring only, never to a file or the command line.  The network
verbs (``find``, ``get``, ``send``, ``sync``, ``node serve``...) then use them for the
central archive and refresh them as needed.  ``workstation logout`` ends it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from workstation.cli import exit_codes
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("login", help=_("log in to the central server (tokens in the OS keyring)"))
    p.add_argument("--username", default=None, help=_("user name (asked for when missing)"))
    p.add_argument(
        "--password-stdin", action="store_true", help=_("read the password from standard input")
    )
    p.add_argument("--totp", default=None, metavar="CODE", help=_("one-time code, if required"))
    p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    p.set_defaults(handler=run_login)


def run_login(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.auth.central_client import CentralAuthClient
    from workstation.auth.errors import (
        AuthError,
        CentralStorageFull,
        CentralUnavailable,
        MfaRequired,
    )
    from workstation.auth.keyring_store import SecretStore
    from workstation.cli import _keyring_tokens

    url = ctx.settings.central.auth_url
    if not url:
        print(_("No central server is configured (central.auth_url)."), file=sys.stderr)
        return exit_codes.CONFIG
    store = SecretStore()
    if not store.available:
        print(
            _(
                "No usable OS keyring: the login cannot be kept. Give a token to each "
                "command with --token-stdin instead."
            ),
            file=sys.stderr,
        )
        return exit_codes.CONFIG
    username = (args.username or input(_("User name: "))).strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(_("Password: "))
    client = CentralAuthClient.from_settings(ctx.settings)
    try:
        try:
            tokens = client.login(username, password, args.totp)
        except MfaRequired:
            if args.totp or args.password_stdin:
                raise
            tokens = client.login(username, password, input(_("One-time code: ")).strip())
    except CentralUnavailable as exc:
        # Not a refusal: scripts retry on 5 (a peer could not be reached), not on 7.
        if isinstance(exc, CentralStorageFull):
            print(_("Login failed: {error}").format(error=exc), file=sys.stderr)
        else:
            print(
                _("Login failed: the central server at {url} cannot be reached; try again later.")
                .format(url=exc.url),
                file=sys.stderr,
            )  # fmt: skip
        return exit_codes.PEER_ERROR
    except AuthError as exc:
        print(_("Login failed: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.FORBIDDEN
    finally:
        client.close()
    name = str(tokens.claims.get("sub") or username)
    if not _keyring_tokens.save(store, url, name, tokens):
        print(_("The OS keyring refused the tokens; not logged in."), file=sys.stderr)
        return exit_codes.CONFIG
    role = str(tokens.claims.get("role", ""))
    if args.json:
        print_json({"username": name, "role": role, "expires_at": tokens.expires_at})
    else:
        print(_("Logged in as {user} ({role}).").format(user=name, role=role))
    return exit_codes.OK
