"""A C-FIND/C-MOVE/C-GET handler that fails ends in Unable to Process, never an exception."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from workstation.pacs_node.dimse import status as st
from workstation.pacs_node.dimse.scp import _never_raising


def _failing_after_one() -> Iterator[Any]:
    yield st.PENDING, "first match"
    raise RuntimeError("patient DOE^JANE broke it")


def test_responses_before_the_failure_pass_then_unable_to_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="workstation.pacs_node.dimse.scp"):
        responses = list(_never_raising(_failing_after_one(), "C-FIND", "Internal error"))
    assert responses[0] == (st.PENDING, "first match")
    final, identifier = responses[1]
    assert identifier is None
    assert final.Status == st.UNABLE_TO_PROCESS
    assert final.ErrorComment == "Internal error"
    assert len(responses) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["C-FIND handler failed (RuntimeError)"]  # no patient data above DEBUG


def test_a_handler_that_does_not_fail_is_passed_through() -> None:
    assert list(_never_raising(iter([1, 2, 3]), "C-GET", "x")) == [1, 2, 3]
