"""``workstation users add|list``: local accounts in standalone mode (no central server).

- ``users add NAME --role admin|doctor|operator --password-stdin [--user ADMIN]``:
  standard input holds ``ADMIN``'s password first (with ``--user``), then the new
  account's password.  The very first account needs no ``--user`` and must be an
  administrator.
- ``users list [--json]``: administrators, or the data directory's owner.

Exit 2 in central mode (accounts live on the central server) or for a bad name or weak
password, 7 when not permitted.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person, auth_failure, next_secret
from workstation.cli._verbs import add_command, add_verb
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session
    from workstation.auth.user_admin import UserInfo

ROLES = ("admin", "doctor", "operator")


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_command(sub, "users", _("add or list local accounts (standalone mode)"))
    a = add_verb(
        verbs, "add", run_add, _("add a local account"),
        json_help=_("print the new account as JSON"), actor=True,
    )  # fmt: skip
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", required=True, choices=ROLES)
    add_verb(
        verbs, "list", run_list, _("list local accounts"),
        json_help=_("print a JSON array"), actor=True,
    )  # fmt: skip


def run_add(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.auth.errors import AuthError
    from workstation.services.command_line import CentralManagesUsers

    try:
        first = ctx.services.needs_first_admin()
    except CentralManagesUsers as exc:
        print(str(exc), file=sys.stderr)
        return exit_codes.USAGE
    if not first:
        return _add_by_admin(ctx, args)
    if args.role != "admin":
        print(_("The first account must be an administrator (--role admin)."), file=sys.stderr)
        return exit_codes.USAGE
    password = next_secret(args, _("Password for the new account {name}: ").format(name=args.name))
    try:
        user = ctx.services.create_first_admin(args.name, password)
    except AuthError as exc:
        return _refused(exc)
    return _print_added(args, user)


@acts_for_person
def _add_by_admin(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.auth.errors import AuthError, PermissionDenied
    from workstation.auth.permissions import Role

    if not args.user:
        print(
            _(
                "Accounts exist already: an administrator adds the next one "
                "(--user ADMIN --password-stdin)."
            ),
            file=sys.stderr,
        )
        return exit_codes.FORBIDDEN
    password = next_secret(args, _("Password for the new account {name}: ").format(name=args.name))
    try:
        user = ctx.services.user_admin(session).create_user(args.name, password, Role(args.role))
    except PermissionDenied as exc:
        return auth_failure(exc)
    except AuthError as exc:
        return _refused(exc)
    return _print_added(args, user)


@acts_for_person
def run_list(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.services.command_line import CentralManagesUsers

    try:
        users = ctx.services.user_admin(session).list_users()
    except CentralManagesUsers as exc:
        print(str(exc), file=sys.stderr)
        return exit_codes.USAGE
    if args.json:
        print_json([_user_json(u) for u in users])
        return exit_codes.OK
    for u in users:
        state = _(" (disabled)") if u.disabled else ""
        print(f"{u.username}  {u.role.value}{state}")
    return exit_codes.OK


def _refused(exc: Exception) -> int:
    print(_("Cannot add the account: {error}").format(error=exc), file=sys.stderr)
    return exit_codes.USAGE


def _print_added(args: argparse.Namespace, user: UserInfo) -> int:
    if args.json:
        print_json(_user_json(user))
    else:
        print(_("Added {name} ({role}).").format(name=user.username, role=user.role.value))
    return exit_codes.OK


def _user_json(u: UserInfo) -> dict[str, object]:
    return {"username": u.username, "role": u.role.value, "disabled": u.disabled}
