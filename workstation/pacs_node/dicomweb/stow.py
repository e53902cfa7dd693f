"""Per-instance outcomes from a STOW-RS response (PS3.18 10.5.3, table 10.5.3-1).

The response data set lists stored instances in Referenced SOP Sequence (0008,1199),
with an optional Warning Reason (0008,1196), and refused ones in Failed SOP Sequence
(0008,1198) with a Failure Reason (0008,1197).  An instance we sent that appears in
neither was not confirmed and counts as failed (so it is sent again).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataset import Dataset

from workstation.i18n import _
from workstation.pacs_node.remote import InstanceOutcome, Outcome

#: Failure reasons of PS3.18 table 10.5.3-2 that no retry will fix.
PERMANENT_FAILURES = frozenset({0x0122, 0xA900, 0xC122, 0xC000})


def parse_stow_response(response: Dataset, sent: Iterable[str]) -> list[InstanceOutcome]:
    """One outcome per SOP Instance UID in ``sent``, in the order sent."""
    by_uid: dict[str, InstanceOutcome] = {}
    for item in response.get("ReferencedSOPSequence", []) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        warning = item.get("WarningReason")
        if warning is not None:
            reason = _("Stored with warning 0x{code:04X}").format(code=int(warning))
            by_uid[uid] = InstanceOutcome(uid, Outcome.WARNING, reason, status=int(warning))
        else:
            by_uid[uid] = InstanceOutcome(uid, Outcome.STORED)
    for item in response.get("FailedSOPSequence", []) or []:
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        code = item.get("FailureReason")
        code = int(code) if code is not None else None
        reason = (
            _("Refused by the server (failure reason 0x{code:04X})").format(code=code)
            if code is not None
            else _("Refused by the server")
        )
        by_uid[uid] = InstanceOutcome(uid, Outcome.FAILED, reason, status=code)
    missing = _("The server did not confirm this instance.")
    return [by_uid.get(uid) or InstanceOutcome(uid, Outcome.FAILED, missing) for uid in sent]


def is_permanent(outcome: InstanceOutcome) -> bool:
    """A refusal that sending again cannot change."""
    return outcome.outcome is Outcome.FAILED and outcome.status in PERMANENT_FAILURES
