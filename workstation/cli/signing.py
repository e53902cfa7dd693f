"""``workstation signing ca-init|ca-export|enroll|revoke``: signing set-up for reports.

Who acts: ``--user NAME --password-stdin`` (the password on stdin's first line), else
the OS user who owns the data directory, as an administrator.

``ca-init [--name CLINIC]`` makes the standalone site CA (the
weaker option: its key is a file on this workstation; a central service keeps the
clinic CA instead).  ``ca-export --out ca.pem`` writes the CA certificate that verifiers
pin.  ``enroll --user NAME --password-stdin`` makes the user's key (P-256 or RSA-3072)
and certificate; its passphrase goes to the OS keyring, or is read as stdin's second
line where no keyring can hold it.  In central mode the certificate comes from the
central clinic CA; an account with two-factor sign-in gives, one per stdin line: the
password, the sign-in code, the key's passphrase (no keyring only), then a *new* code
for the enrolment (the central never takes a code twice).  ``revoke USER``
revokes a user's certificates and publishes a new CRL.

Exit codes: 0 done; 4 no CA; 6 set-up problem; 7 wrong password or code, not
permitted, or refused.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from workstation.cli import exit_codes
from workstation.cli._acting import acts_for_person, next_secret
from workstation.cli._verbs import add_command, add_verb
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _, ngettext

if TYPE_CHECKING:
    from workstation.auth.session import Session
    from workstation.services.signing_actions import SigningActions


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_command(
        sub, "signing", _("report signing: site CA, keys, revocation"), metavar="VERB"
    )
    init = add_verb(
        verbs, "ca-init", run_ca_init, _("create the standalone site CA (administrators)"),
        actor=True,
    )  # fmt: skip
    init.add_argument("--name", default="", help=_("the CA's name (default: the clinic's name)"))
    export = add_verb(verbs, "ca-export", run_ca_export, _("write the site CA certificate (PEM)"))
    export.add_argument("--out", required=True, metavar="CA.pem", help=_("file to write"))
    enroll = add_verb(
        verbs, "enroll", run_enroll, _("make your signing key and certificate"),
        json_help=_("print the result as JSON"), actor=True,
    )  # fmt: skip
    enroll.add_argument(
        "--key-type", choices=("p256", "rsa3072"), default=None, help=_("key type (default p256)")
    )
    revoke = add_verb(
        verbs, "revoke", run_revoke, _("revoke a user's signing certificates"), actor=True
    )
    revoke.add_argument("target", metavar="USER", help=_("whose certificates to revoke"))


def _fail(exc: BaseException) -> int:
    from workstation.auth.errors import AuthError
    from workstation.reports.errors import SigningRefused, SigningSetupError

    print(_("Error: {error}").format(error=exc), file=sys.stderr)
    if isinstance(exc, AuthError | SigningRefused):
        return exit_codes.FORBIDDEN
    if isinstance(exc, SigningSetupError):
        return exit_codes.CONFIG
    return exit_codes.PARTIAL


def _actions(ctx: CliContext, session: Session) -> SigningActions:
    from workstation.auth.keyring_store import SecretStore
    from workstation.services.signing_actions import SigningActions

    return SigningActions(session, ctx.services.audit, ctx.settings, SecretStore())


@acts_for_person
def run_ca_init(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.reports.errors import ReportError
    from workstation.reports.site_ca import fingerprint

    name = args.name or ctx.settings.reports.clinic_name or "Klinika site CA"
    try:
        cert = _actions(ctx, session).ca_init(name)
    except ReportError as exc:
        return _fail(exc)
    print(_("Site CA created: {name} (SHA-256 {fp}).").format(name=name, fp=fingerprint(cert)))
    return exit_codes.OK


def run_ca_export(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.reports.errors import SigningSetupError
    from workstation.reports.keystore import SigningHome

    try:
        pem = SigningHome(ctx.settings.signing_dir).ca().export_pem()
    except SigningSetupError as exc:
        print(_("Error: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.NOT_FOUND
    with open(args.out, "wb") as fh:
        fh.write(pem)
    print(_("Wrote {path}.").format(path=args.out))
    return exit_codes.OK


@acts_for_person
def run_enroll(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.reports.errors import ReportError
    from workstation.reports.site_ca import fingerprint

    actions = _actions(ctx, session)
    try:
        typed = None
        if actions.secrets is None or not actions.secrets.available:
            typed = next_secret(args, _("Passphrase for your new signing key: ")) or None
        cert = actions.enroll(
            typed,
            args.key_type,
            ask_code=lambda: next_secret(
                args, _("A new authenticator code (not the one you signed in with): ")
            ),
        )
    except (ReportError, ValueError) as exc:
        return _fail(exc)
    result = {
        "user": session.username,
        "serial": str(cert.serial_number),
        "fingerprint": fingerprint(cert),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }
    if args.json:
        print_json(result)
    else:
        print(
            _("Signing certificate issued for {user}, valid until {date} (SHA-256 {fp}).").format(
                user=args.user,
                date=f"{cert.not_valid_after_utc:%Y-%m-%d}",
                fp=result["fingerprint"],
            )
        )
    return exit_codes.OK


@acts_for_person
def run_revoke(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    from workstation.reports.errors import ReportError

    try:
        done = _actions(ctx, session).revoke(args.target)
    except ReportError as exc:
        return _fail(exc)
    print(
        ngettext(
            "{count} certificate of {user} revoked.",
            "{count} certificates of {user} revoked.",
            len(done),
        ).format(count=len(done), user=args.target)
    )
    return exit_codes.OK if done else exit_codes.NOT_FOUND
