"""The ``central-auth`` command.

    central-auth [--config FILE] serve [--host H] [--port P] [--workers N] [--dev]
    central-auth create-admin --username U --password-stdin
    central-auth create-user --username U --role R --password-stdin
    central-auth verify-audit [--json]
    central-auth migrate
    central-auth rotate-key
    central-auth unlock --username U
    central-auth ca init [--name NAME]
    central-auth ca export --out ca.pem

Exit codes: 0 success, 1 failed (e.g. a CA exists already / none to export), 2 bad command line, 3 the audit chain is damaged,
6 a settings file or value is invalid.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization

from klinika_auth.settings import Settings, SettingsError, load_settings

OK, FAILED, USAGE, DAMAGED, BAD_SETTINGS = 0, 1, 2, 3, 6


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="central-auth", description="Klinika central auth API")
    parser.add_argument("--config", help="TOML settings file (else $CENTRAL_AUTH_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP API (runs migrations first)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks one)")
    p.add_argument("--workers", type=int, help="gunicorn worker processes (default: CPU count)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    p.add_argument("--dev", action="store_true", help="werkzeug development server")
    p.add_argument("--ready-file", type=Path, help="write {host, port, pid} here once listening")
    p.set_defaults(handler=_serve)

    for name, with_role in (("create-admin", False), ("create-user", True)):
        p = sub.add_parser(name, help=f"make a{'' if with_role else 'n admin'} user")
        p.add_argument("--username", required=True)
        if with_role:
            p.add_argument("--role", required=True, help="admin, doctor or operator")
        p.add_argument(
            "--password-stdin", action="store_true", required=True,
            help="read the password from the first line of standard input",
        )  # fmt: skip
        p.set_defaults(handler=_create_user, role=None if with_role else "admin")

    p = sub.add_parser("verify-audit", help="check the audit log's hash chain")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=_verify_audit)

    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        handler=_migrate
    )
    sub.add_parser(
        "rotate-key", help="make a new signing key (the old one is accepted for a grace period)"
    ).set_defaults(handler=_rotate_key)
    p = sub.add_parser("unlock", help="lift the sign-in locks of a user name (every address)")
    p.add_argument("--username", required=True)
    p.set_defaults(handler=_unlock)

    ca = sub.add_parser("ca", help="the clinic CA (doctors' signing certificates, timestamps)")
    ca_sub = ca.add_subparsers(dest="ca_command", required=True)
    p = ca_sub.add_parser("init", help="make the clinic CA and its timestamp authority")
    p.add_argument("--name", help="the CA's name (default: setting ca_name)")
    p.set_defaults(handler=_ca_init)
    p = ca_sub.add_parser("export", help="write the CA certificate (PEM) for workstations")
    p.add_argument("--out", type=Path, required=True, help="where to write ca.pem")
    p.set_defaults(handler=_ca_export)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from klinika_auth.server import serve

    serve(
        settings,
        args.host,
        args.port,
        workers=args.workers,
        threads=args.threads,
        dev=args.dev,
        ready_file=args.ready_file,
    )
    return OK


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from klinika_auth import audit
    from klinika_auth.api.admin import create_user
    from klinika_auth.app import create_app, prepare
    from klinika_auth.errors import ApiError
    from klinika_auth.services import db

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("No password on standard input.", file=sys.stderr)
        return USAGE
    prepare(settings)
    app = create_app(settings)
    with app.app_context():
        session = db()
        try:
            user = create_user(session, args.username, password, args.role)
        except ApiError as exc:
            print(exc.message, file=sys.stderr)
            return FAILED
        audit.append(
            session,
            action="user.created",
            details={
                "user_id": user.id,
                "username": user.username,
                "role": args.role,
                "via": "cli",
            },
        )
        session.commit()
        print(f"Created {args.role} '{user.username}' (id {user.id}).")
    return OK


def _verify_audit(settings: Settings, args: argparse.Namespace) -> int:
    from klinika_auth import audit
    from klinika_auth import db as database

    engine = database.make_engine(settings.effective_database_url)
    try:
        with database.session_factory(engine)() as session:
            report = audit.verify_chain(session)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report.as_dict()))
    elif report.ok:
        print(f"Audit log intact: {report.events} events, head {report.head_hash}.")
    else:
        print(f"Audit log DAMAGED at event {report.first_bad_seq}: {report.problem}.")
    return OK if report.ok else DAMAGED


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from klinika_auth.app import prepare

    prepare(settings)
    print("Database schema is current.")
    return OK


def _rotate_key(settings: Settings, _args: argparse.Namespace) -> int:
    from klinika_auth.keys import rotate_signing_key

    kid = rotate_signing_key(settings.effective_signing_key_path, settings.retired_keys_dir)
    print(f"New signing key {kid}; restart the API so every worker uses it.")
    return OK


def _unlock(settings: Settings, args: argparse.Namespace) -> int:
    from klinika_auth import audit, throttle
    from klinika_auth import db as database
    from klinika_auth.login import normalise_username

    name = normalise_username(args.username)
    engine = database.make_engine(settings.effective_database_url)
    try:
        with database.session_factory(engine)() as session:
            cleared = throttle.unlock(session, name)
            audit.append(
                session,
                action="user.unlocked",
                details={"username": name, "throttle_rows": cleared, "via": "cli"},
            )
            session.commit()
    finally:
        engine.dispose()
    print(f"Sign-in locks of '{name}' lifted ({cleared} address(es)).")
    return OK


def _ca_init(settings: Settings, args: argparse.Namespace) -> int:
    from klinika_auth.clinic_ca import CaError, ClinicCa

    try:
        ca = ClinicCa.init(
            settings.effective_ca_dir, settings.ca_key_passphrase, args.name or settings.ca_name
        )
    except CaError as exc:
        print(f"Refused: {exc}.", file=sys.stderr)
        return FAILED
    fingerprint = ca.cert.fingerprint(hashes.SHA256()).hex()
    print(f"Clinic CA made in {settings.effective_ca_dir} (SHA-256 {fingerprint}).")
    return OK


def _ca_export(settings: Settings, args: argparse.Namespace) -> int:
    from cryptography import x509

    path = settings.effective_ca_dir / "ca.pem"
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes()[: 1024 * 1024])
    except (OSError, ValueError):
        print("No clinic CA here: run 'central-auth ca init' first.", file=sys.stderr)
        return FAILED
    args.out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    print(f"Wrote {args.out} (SHA-256 {cert.fingerprint(hashes.SHA256()).hex()}).")
    return OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"Invalid settings: {exc}", file=sys.stderr)
        return BAD_SETTINGS
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if settings.log_level.upper() != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return int(args.handler(settings, args))


if __name__ == "__main__":
    sys.exit(main())
