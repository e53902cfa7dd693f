"""String enums whose members carry a label for people, translated when it is read.

::

    class Role(LabelledStrEnum):
        ADMIN = "admin", N_("Administrator")

``Role.ADMIN == "admin"`` (the value is stored and compared as before) and
``Role.ADMIN.label`` is "Administrator" in the current language.  ``N_`` only marks the
text for the catalogue (Babel extracts ``N_`` by default); it is translated on reading,
so a label follows a language chosen after the enum was imported.
"""

from __future__ import annotations

import enum
from typing import Self

from workstation.i18n import _


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now."""
    return message


class LabelledStrEnum(enum.StrEnum):
    """A :class:`enum.StrEnum` whose members are written ``NAME = "value", N_("Label")``."""

    _value_: str
    _label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        """The member's label in the current language."""
        return _(self._label)
