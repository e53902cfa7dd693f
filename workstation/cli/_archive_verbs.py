"""Shared by the archive verbs: open the archive or explain why it cannot be opened."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from workstation.cli import exit_codes
from workstation.cli.context import CliContext
from workstation.i18n import _


def needs_archive(handler: Callable[[CliContext, Any], int]) -> Callable[[CliContext, Any], int]:
    """Run ``handler`` with the archive open; a broken or unreachable index is exit 6."""

    @functools.wraps(handler)
    def run(ctx: CliContext, args: Any) -> int:
        from workstation.pacs_node.archive.errors import ArchiveError

        try:
            ctx.archive  # noqa: B018 - opens (and migrates) the archive
        except ArchiveError as exc:
            print(
                _("The local archive cannot be opened: {error}").format(error=exc), file=sys.stderr
            )
            return exit_codes.CONFIG
        return handler(ctx, args)

    return run
