"""argparse's own words ("usage:", "options", its error messages) in the UI language.

argparse looks its messages up through gettext's global domain, for which nothing is
installed, so ``workstation --help`` said "usage:" and "options" in every language.
The messages are listed here so that ``pybabel extract`` puts them in our template;
:func:`install` makes argparse look them up in our catalogs.
"""

from __future__ import annotations

import argparse

from workstation import i18n


def _(message: str) -> str:
    """Marks a message for extraction only; argparse translates it when it uses it."""
    return message


MESSAGES = (
    _("usage: "),
    _("positional arguments"),
    _("options"),
    _("show this help message and exit"),
    _("show program's version number and exit"),
    _("%(prog)s: error: %(message)s\n"),
    _("argument %(argument_name)s: %(message)s"),
    _("unrecognized arguments: %s"),
    _("the following arguments are required: %s"),
    _("one of the arguments %s is required"),
    _("not allowed with argument %s"),
    _("expected one argument"),
    _("invalid %(type)s value: %(value)r"),
    _("invalid choice: %(value)r (choose from %(choices)s)"),
    _("ambiguous option: %(option)s could match %(matches)s"),
    _("can't open '%(filename)s': %(error)s"),
)


def install() -> None:
    """Point argparse's message lookups at the workstation's catalogs."""
    setattr(argparse, "_", i18n._)  # noqa: B010 - argparse's module-level name
    setattr(argparse, "ngettext", i18n.ngettext)  # noqa: B010
