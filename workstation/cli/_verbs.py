"""The parser of one action under a command (``archive check``, ``report sign``...):
its handler, and the option groups most actions share (``--json``, who acts)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from workstation.cli._acting import add_actor_arguments


def add_command(
    sub: argparse._SubParsersAction, name: str, help_text: str, *, metavar: str = "ACTION"
) -> argparse._SubParsersAction:
    """Add command ``name`` whose actions (one required) are added to what it returns."""
    p = sub.add_parser(name, help=help_text)
    return p.add_subparsers(dest=f"{name}_action", metavar=metavar, required=True)


def add_verb(
    verbs: argparse._SubParsersAction,
    name: str,
    handler: Callable[..., int],
    help_text: str,
    *,
    json_help: str | None = None,
    actor: bool = False,
) -> argparse.ArgumentParser:
    """Add action ``name`` that runs ``handler``; ``json_help`` adds ``--json`` (with that
    help), ``actor`` adds ``--user NAME --password-stdin``.  Returns the parser for the
    action's own arguments."""
    p: Any = verbs.add_parser(name, help=help_text)
    if json_help is not None:
        p.add_argument("--json", action="store_true", help=json_help)
    if actor:
        add_actor_arguments(p)
    p.set_defaults(handler=handler)
    return p  # type: ignore[no-any-return]
