"""What every verb gets: settings, logging, and the engine objects built on demand."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from workstation.config import Settings, ensure_home, load_settings, parse_overrides
from workstation.i18n import set_language
from workstation.logging_setup import setup_logging

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.services.command_line import CommandLineServices


@dataclass
class CliContext:
    settings: Settings
    verbose: bool = False
    #: Runs the desktop app (``settings -> exit code``): handed in by ``__main__``, which
    #: sits above both faces, so the CLI never imports ``workstation.app`` itself.
    desktop: Callable[[Settings], int] | None = None

    @classmethod
    def from_args(
        cls, args: argparse.Namespace, desktop: Callable[[Settings], int] | None = None
    ) -> CliContext:
        if args.home is not None:
            os.environ["WORKSTATION_HOME"] = str(args.home)
        settings = load_settings(parse_overrides(args.overrides))
        ensure_home(settings)
        set_language(settings.general.language)
        setup_logging(
            settings.log_dir,
            settings.general.log_level,
            stderr_level="DEBUG" if args.verbose else "WARNING",
        )
        return cls(settings=settings, verbose=args.verbose, desktop=desktop)

    @cached_property
    def archive(self) -> Archive:
        from workstation.pacs_node.archive.archive import Archive

        return Archive.open(self.settings)

    @cached_property
    def services(self) -> CommandLineServices:
        """Audit log, accounts and study actions, as the app has them (channel ``cli``)."""
        from workstation.services.command_line import CommandLineServices

        return CommandLineServices(self.settings, lambda: self.archive)

    def close(self) -> None:
        if "services" in self.__dict__:
            self.services.close()
            del self.__dict__["services"]
        if "archive" in self.__dict__:
            self.archive.close()
            del self.__dict__["archive"]

    def __enter__(self) -> CliContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
