"""Drive real X11 windows with real input events: ``xdotool`` (XTEST key and mouse
events, window search) and ImageMagick's ``import`` (screenshots of the root window).

Nothing here knows the app: the tests say which window to wait for and what to type.
Every call has a timeout; waiting is polling for a window or a state, never a blind sleep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: xdotool's delay between typed keys (ms): the app's event loop sees each key.
TYPE_DELAY_MS = 40


def missing_tools() -> list[str]:
    """The programs this driver needs that are not installed (Debian xdotool, imagemagick)."""
    return [tool for tool in ("xdotool", "import") if shutil.which(tool) is None]


@dataclass(frozen=True)
class Geometry:
    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


class XDriver:
    """Real keyboard and mouse input to the X display in ``DISPLAY``."""

    def __init__(self, display: str | None = None) -> None:
        self.env = {**os.environ, "DISPLAY": display or os.environ["DISPLAY"]}
        self.last_search_error = ""

    def _run(self, *args: str, timeout: float = 30.0) -> str:
        done = subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def xdotool(self, *args: str, timeout: float = 30.0) -> str:
        return self._run("xdotool", *args, timeout=timeout)

    # -- windows -------------------------------------------------------------------------
    def visible_windows(self, name_regex: str) -> list[str]:
        """Ids of the mapped windows whose title matches; [] when xdotool failed or took
        over 10 s this time (its error is kept in ``last_search_error``)."""
        try:
            done = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", name_regex],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self.last_search_error = "xdotool search took over 10 s"
            return []
        if done.returncode not in (0, 1):  # 1: nothing matched
            self.last_search_error = f"xdotool search exited {done.returncode}: {done.stderr}"
        return done.stdout.split()

    def window_titles(self, limit: int = 30) -> list[str]:
        """The titles of the mapped windows that have one (for a failure message)."""
        titles = []
        for window in self.visible_windows(".")[:limit]:
            try:
                titles.append(self.xdotool("getwindowname", window, timeout=10).strip())
            except (RuntimeError, subprocess.TimeoutExpired):
                continue  # gone meanwhile
        return titles

    def wait_window(
        self, name_regex: str, timeout: float = 60.0, ended: Callable[[], str] | None = None
    ) -> str:
        """The id of a visible window whose title matches ``name_regex``.

        Polls ``xdotool search`` rather than ``search --sync``: a window destroyed while
        xdotool walks the tree (the main window at logout) makes it fail with BadWindow.
        ``ended()`` says why the window can no longer come ('' while it can): then this
        fails at once.  A timeout names the windows the display has."""
        found: list[str] = []
        self.last_search_error = ""

        def seen() -> bool:
            found[:] = self.visible_windows(name_regex)
            if not found and ended is not None and (why := ended()):
                raise AssertionError(f"no window {name_regex!r}: {why}")
            return bool(found)

        try:
            wait_for(seen, timeout, f"a window {name_regex!r}")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}; windows shown: {self.window_titles()}; last xdotool error: "
                f"{self.last_search_error or 'none'}"
            ) from None
        return found[0]

    def wait_gone(self, name_regex: str, timeout: float = 30.0) -> None:
        wait_for(lambda: not self.visible_windows(name_regex), timeout, f"{name_regex!r} gone")

    def focus(self, window: str) -> None:
        """Give ``window`` the keyboard focus (there is no window manager under Xvfb)."""
        self.xdotool("windowfocus", "--sync", window)

    def geometry(self, window: str) -> Geometry:
        values: dict[str, int] = {}
        for line in self.xdotool("getwindowgeometry", "--shell", window).splitlines():
            key, _, value = line.partition("=")
            if key in ("X", "Y", "WIDTH", "HEIGHT"):
                values[key] = int(value)
        return Geometry(values["X"], values["Y"], values["WIDTH"], values["HEIGHT"])

    def largest_leaf(self, window: str) -> Geometry:
        """Screen geometry of the largest mapped native window inside ``window`` that has
        no mapped native children: e.g. a VTK render view (its ancestors are native too)."""
        mapped = set(self.xdotool("search", "--onlyvisible", "--class", ".").split())
        nodes: list[tuple[int, str, Geometry]] = []
        for line in self._run("xwininfo", "-tree", "-id", window).splitlines():
            # e.g. '      0x40004f "Title": ("cls" "Title")  508x504+0+0  +630+98'
            parts = line.split()
            if len(parts) < 3 or not parts[0].startswith("0x") or not parts[-1].startswith("+"):
                continue
            w, h = (int(v) for v in parts[-2].split("+")[0].split("x"))
            ax, ay = (int(v) for v in parts[-1][1:].split("+"))
            depth = len(line) - len(line.lstrip())
            nodes.append((depth, str(int(parts[0], 16)), Geometry(ax, ay, w, h)))
        leaves = []
        for i, (depth, wid, geo) in enumerate(nodes):
            if wid not in mapped:
                continue
            children = []
            for d, cid, _g in nodes[i + 1 :]:
                if d <= depth:
                    break
                children.append(cid)
            if not any(c in mapped for c in children):
                leaves.append(geo)
        if not leaves:
            raise AssertionError(f"window {window} has no mapped child windows")
        return max(leaves, key=lambda g: g.width * g.height)

    def settled_leaf(self, window: str, timeout: float = 30.0) -> Geometry:
        """:meth:`largest_leaf` once the layout has stopped moving (the same twice,
        half a second apart): the viewer resizes its splitters after the first image."""
        last: list[Geometry] = []

        def same() -> bool:
            now = self.largest_leaf(window)
            stable = bool(last) and last[-1] == now
            last.append(now)
            return stable

        wait_for(same, timeout, "the window's layout settles", every=0.5)
        return last[-1]

    # -- input ---------------------------------------------------------------------------
    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", str(TYPE_DELAY_MS), "--clearmodifiers", "--", text)

    def key(self, *keys: str) -> None:
        self.xdotool("key", "--delay", str(TYPE_DELAY_MS), "--clearmodifiers", *keys)

    def click(self, x: int, y: int) -> None:
        self.xdotool("mousemove", "--sync", str(x), str(y), "click", "1")

    def drag(self, start: tuple[int, int], end: tuple[int, int], steps: int = 12) -> None:
        """Press the left button at ``start``, move in steps, release at ``end``."""
        self.xdotool("mousemove", "--sync", str(start[0]), str(start[1]), "mousedown", "1")
        for i in range(1, steps + 1):
            x = start[0] + (end[0] - start[0]) * i // steps
            y = start[1] + (end[1] - start[1]) * i // steps
            self.xdotool("mousemove", "--sync", str(x), str(y))
            time.sleep(0.02)
        self.xdotool("mouseup", "1")

    # -- pictures ------------------------------------------------------------------------
    def screenshot(self, path: Path, window: str = "root", *, crop: Geometry | None = None) -> Path:
        """One window, or the screen (``crop``: the part of it a window and the dialogs
        over it cover), as PNG: ImageMagick ``import -window``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        args = ["import", "-window", window]
        if crop is not None:
            args += ["-crop", f"{crop.width}x{crop.height}+{crop.x}+{crop.y}", "+repage"]
        self._run(*args, str(path), timeout=60)
        return path


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")
