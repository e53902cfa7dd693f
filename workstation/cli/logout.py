"""``workstation logout``: end the command line's central login and delete its tokens
from the OS keyring."""

from __future__ import annotations

import argparse

from workstation.cli import exit_codes
from workstation.cli.context import CliContext
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("logout", help=_("log out of the central server"))
    p.set_defaults(handler=run_logout)


def run_logout(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.auth.central_client import CentralAuthClient
    from workstation.auth.errors import AuthError
    from workstation.auth.keyring_store import SecretStore
    from workstation.cli import _keyring_tokens

    url = ctx.settings.central.auth_url
    store = SecretStore()
    login = _keyring_tokens.load(store, url) if url else None
    if login is None:
        print(_("Not logged in."))
        return exit_codes.OK
    client = CentralAuthClient.from_settings(ctx.settings)
    try:
        client.logout(login.token_set())
    except AuthError:
        print(_("The central server did not confirm the logout; the tokens are deleted here."))
    finally:
        client.close()
        _keyring_tokens.forget(store, url)
    print(_("Logged out."))
    return exit_codes.OK
