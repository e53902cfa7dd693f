"""What a face hands the tools: pointer and key events, free of any toolkit.

A pointer event carries the image pixel under the pointer (column, row; ``None`` when no
picture is shown) and the screen position it happened at, with the view size and the
zoom (screen pixels per image pixel) at that moment, so pick tolerances and drags stay
in screen pixels while shapes are kept in image pixels.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

Point = tuple[float, float]


class Button(enum.StrEnum):
    LEFT = "left"
    MIDDLE = "middle"
    RIGHT = "right"
    NONE = "none"


class PointerAction(enum.StrEnum):
    PRESS = "press"
    MOVE = "move"
    RELEASE = "release"
    DOUBLE_CLICK = "double_click"


class ToolKey(enum.StrEnum):
    """Keys the tools act on (the view's own keys, like scrolling, stay in the view)."""

    DELETE = "delete"
    ESCAPE = "escape"


@dataclass(frozen=True)
class PointerEvent:
    """One pointer step.

    Attributes
    ----------
    action : PointerAction
    button : Button
        The button pressed or released (``NONE`` for a move).
    image : tuple of float or None
        (column, row) under the pointer in the picture's pixels, centres at integers.
    screen : tuple of float
        (x, y) in the view's pixels, y down.
    view_size : tuple of int
        (width, height) of the view in pixels.
    zoom : float
        Screen pixels per image pixel.
    ctrl : bool
        The Control key was held.
    """

    action: PointerAction
    image: Point | None
    screen: Point = (0.0, 0.0)
    button: Button = Button.NONE
    view_size: tuple[int, int] = (1, 1)
    zoom: float = 1.0
    ctrl: bool = False


@dataclass(frozen=True)
class KeyEvent:
    key: ToolKey


def press(image: Point | None, button: Button = Button.LEFT, **kw: object) -> PointerEvent:
    """A press event (for scripts and tests)."""
    return PointerEvent(PointerAction.PRESS, image, button=button, **kw)  # type: ignore[arg-type]


def move(image: Point | None, **kw: object) -> PointerEvent:
    return PointerEvent(PointerAction.MOVE, image, **kw)  # type: ignore[arg-type]


def release(image: Point | None, button: Button = Button.LEFT, **kw: object) -> PointerEvent:
    return PointerEvent(PointerAction.RELEASE, image, button=button, **kw)  # type: ignore[arg-type]
