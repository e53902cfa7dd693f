"""Window tests need an X display: without one (no DISPLAY), the ``qt``-marked tests of a
folder are skipped with the way to run them (scripts/test.sh runs Xvfb)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def skip_window_tests_without_display(items: list[Any], folder: Path) -> None:
    """For a conftest's ``pytest_collection_modifyitems``: mark the ``qt`` tests under
    ``folder`` skipped when there is no display."""
    import pytest

    if os.environ.get("DISPLAY"):
        return
    skip = pytest.mark.skip(reason="needs a display: run under xvfb-run (scripts/test.sh)")
    for item in items:
        if item.get_closest_marker("qt") and folder in Path(str(item.path)).parents:
            item.add_marker(skip)
