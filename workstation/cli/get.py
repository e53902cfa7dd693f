"""``workstation get PEER STUDY_UID [--series UID] [--instance UID...] [--json]``: bring
a study into the local archive by C-GET (or WADO-RS for ``central``), instance by
instance, each stored durably before it counts.

It is ``workstation retrieve`` with ``--via auto``.

Exit codes: 0 all stored, 1 some failed, 5 refused/unreachable, 130 cancelled.
"""

from __future__ import annotations

import argparse

from workstation.cli.retrieve import add_retrieve_arguments, run_retrieve
from workstation.i18n import _


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("get", help=_("retrieve a study into the local archive (C-GET / WADO-RS)"))
    add_retrieve_arguments(p)
    p.set_defaults(handler=run_retrieve, via="auto")
