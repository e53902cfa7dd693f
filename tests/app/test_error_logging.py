"""What the error dialog writes to the log: never the exception text above DEBUG.

Exception text can carry values from the data (a patient's name in a DICOM error), so
the log above DEBUG only names the kind of error."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from workstation.app import errors
from workstation.auth.errors import AuthError

PATIENT = "DOE^JANE^SECRET"


@pytest.mark.expect_error_dialog
def test_shown_error_text_is_logged_only_at_debug(
    qtbot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="workstation.app.errors"):
        errors.show_error(None, AuthError(f"no study for patient {PATIENT}"))
    records = [r for r in caplog.records if r.name == "workstation.app.errors"]
    above_debug = [r for r in records if r.levelno > logging.DEBUG]
    debug = [r for r in records if r.levelno == logging.DEBUG]
    assert above_debug and debug
    assert all("AuthError" in r.getMessage() for r in above_debug)
    assert not any(PATIENT in r.getMessage() for r in above_debug)
    assert any(PATIENT in r.getMessage() for r in debug)
    assert len(errors.history) == 1
