"""The signature line of a report PDF opened in the viewer, checked against this site's
clinic CA (:func:`~workstation.services.report_actions.verify_report_pdf`).

The viewer gets this as a plain callable (it does not import the report engine); it
calls it on a worker thread.  A file that cannot be checked at all (no clinic CA here,
an unreadable signature) reads NOT SIGNED, never an exception.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from workstation.i18n import _
from workstation.reports.errors import ReportError
from workstation.reports.signature_summary import SignatureSummary, not_signed, summarize
from workstation.services.report_actions import verify_report_pdf

if TYPE_CHECKING:
    from workstation.config import Settings

logger = logging.getLogger(__name__)


def document_signature(settings: Settings, pdf: bytes) -> SignatureSummary:
    """Verify ``pdf`` against the site's clinic CA and say what holds."""
    try:
        result = verify_report_pdf(settings, pdf)
    except ReportError as exc:
        logger.info("document signature not checked: %s", exc)
        return not_signed(_("there is no clinic CA here to check it against"))
    except (OSError, ValueError) as exc:
        logger.warning("document signature check failed: %s", type(exc).__name__)
        return not_signed(_("the signature could not be checked"))
    line = summarize(result)
    logger.info("document signature: %s", line.state)
    return line


def signature_check(settings: Settings) -> Callable[[bytes], SignatureSummary]:
    """``document_signature`` bound to these settings, for the viewer."""
    return functools.partial(document_signature, settings)
