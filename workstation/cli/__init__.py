"""The ``workstation`` command.

With no verb it starts the workstation.  Headless verbs live in the modules of this
package: each module that defines ``register(subparsers)`` adds its verbs, so a new verb
is a new module here.  Heavy imports stay inside the handlers so start-up stays fast.

Exit codes are in :mod:`workstation.cli.exit_codes`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from workstation import __version__
from workstation.cli import exit_codes
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.config import Settings

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workstation",
        description=_("Klinika Workstation: diagnostic viewer with an embedded local PACS."),
        epilog=_("Without a command, the workstation starts."),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--home", type=Path, help=_("data directory (default: $WORKSTATION_HOME or per-user)")
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help=_("override one setting for this run (repeatable)"),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help=_("log details to stderr"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def _command_modules() -> list[ModuleType]:
    import workstation.cli as pkg

    modules = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in ("context", "exit_codes", "console"):
            continue
        module = importlib.import_module(f"workstation.cli.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules


def _choose_language(argv: list[str]) -> None:
    """Set the UI language before the parser is built, so ``--help`` follows it too."""
    from workstation.config import ENV_HOME, ConfigError, load_settings, parse_overrides
    from workstation.i18n import set_language

    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--home", type=Path)
    early.add_argument("--set", dest="overrides", action="append", default=[])
    known, _rest = early.parse_known_args(argv)
    environ = dict(os.environ)
    if known.home is not None:
        environ[ENV_HOME] = str(known.home)  # as CliContext.from_args will do
    try:
        settings = load_settings(parse_overrides(known.overrides), environ=environ)
    except (ConfigError, OSError):
        return  # reported in the right language once the full parser has run
    set_language(settings.general.language)


def main(
    argv: Sequence[str] | None = None, desktop: Callable[[Settings], int] | None = None
) -> int:
    """Run one command.  ``desktop`` starts the desktop app for ``start`` (without it,
    ``start`` runs the headless engine): ``workstation.__main__`` hands it in."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    _choose_language(arguments)
    from workstation.cli._argparse_messages import install

    install()
    parser = build_parser()
    args = parser.parse_args(arguments)
    from workstation.config import ConfigError

    try:
        ctx = CliContext.from_args(args, desktop)
    except ConfigError as exc:
        print(_("Settings error: {error}").format(error=exc), file=sys.stderr)
        return exit_codes.CONFIG
    handler = getattr(args, "handler", None)
    if handler is None:
        from workstation.cli.start import start

        handler = start
    try:
        with ctx:
            return int(handler(ctx, args) or 0)
    except KeyboardInterrupt:
        print(_("Cancelled."), file=sys.stderr)
        return exit_codes.CANCELLED
