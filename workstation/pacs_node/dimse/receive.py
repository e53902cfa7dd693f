"""One incoming C-STORE (from a modality, a C-MOVE or our own C-GET) into the archive.

The data set is stored as the peer encoded it (the request's data set bytes: no decode,
no re-encode, no file meta built here; the archive puts its own in front), and the status
is answered only after :meth:`Archive.store_bytes` returned, i.e. once the file and its
index row are durable.  The archive reads the data set's header once and checks it
against the request (:class:`~workstation.pacs_node.archive.results.Received`).

Status codes (PS3.4 B.2.3, PS3.7 C):

=====================  ======  ===================================================
archive result         status  meaning for the sender
=====================  ======  ===================================================
stored / duplicate     0000    success (sending the same instance again is fine,
                               also in another transfer syntax: not stored twice)
conflict               C001    refused: other content under this SOP Instance UID
rejected               C000    cannot understand (unreadable, missing UIDs)
storage full           A700    out of resources; retry later
failure                0110    processing failure; retry may help
data set vs request    A900    SOP class/instance in the data set differ from the
                               request (nothing stored)
too large              A700    larger than ``node.max_instance_bytes``
=====================  ======  ===================================================
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from pydicom.dataset import Dataset
from pynetdicom import evt

from workstation.i18n import _
from workstation.pacs_node.archive.results import Received, StoreResult, StoreStatus
from workstation.pacs_node.dimse import status as st
from workstation.pacs_node.remote import InstanceOutcome, Outcome

if TYPE_CHECKING:
    from pynetdicom.dimse_primitives import C_STORE

    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)

PROCESSING_FAILURE = 0x0110
CONFLICT = 0xC001

_STATUS = {
    StoreStatus.STORED: st.SUCCESS,
    StoreStatus.DUPLICATE: st.SUCCESS,
    StoreStatus.CONFLICT: CONFLICT,
    StoreStatus.REJECTED: st.CANNOT_UNDERSTAND,
    StoreStatus.STORAGE_FULL: st.OUT_OF_RESOURCES,
    StoreStatus.FAILURE: PROCESSING_FAILURE,
    StoreStatus.MISMATCH: st.DATASET_MISMATCH,
}


def outcome_of(result: StoreResult, sop_uid: str = "") -> InstanceOutcome:
    uid = result.sop_instance_uid or sop_uid
    if result.status is StoreStatus.STORED:
        return InstanceOutcome(uid, Outcome.STORED)
    if result.status is StoreStatus.DUPLICATE:
        return InstanceOutcome(uid, Outcome.DUPLICATE)
    return InstanceOutcome(uid, Outcome.FAILED, result.reason, status=_STATUS[result.status])


def store_event(
    archive: Archive,
    event: evt.Event,
    *,
    source: str,
    calling_aet: str,
    max_bytes: int | None = None,
) -> tuple[Dataset, InstanceOutcome]:
    """Store the C-STORE request of ``event``; the status to answer and the outcome.

    Never raises: anything unexpected is logged and answered 0110.
    """
    uid = ""
    try:
        uid = str(cast("C_STORE", event.request).AffectedSOPInstanceUID or "")
        return _store(archive, event, source, calling_aet, max_bytes, uid)
    except Exception:  # a handler must answer, never raise into pynetdicom
        logger.exception("C-STORE of %s failed unexpectedly", uid or "?")
        comment = _("Internal error while storing")
        return st.status(PROCESSING_FAILURE, comment), InstanceOutcome(
            uid, Outcome.FAILED, comment, status=PROCESSING_FAILURE
        )


def _store(
    archive: Archive,
    event: evt.Event,
    source: str,
    calling_aet: str,
    max_bytes: int | None,
    uid: str,
) -> tuple[Dataset, InstanceOutcome]:
    req = cast("C_STORE", event.request)
    size = req.DataSet.getbuffer().nbytes if req.DataSet is not None else 0
    limit = max_bytes if max_bytes is not None else archive.settings.node.max_instance_bytes
    if size > limit:
        return _fail(st.OUT_OF_RESOURCES, _("Instance larger than {n} bytes").format(n=limit), uid)
    received = Received(
        transfer_syntax_uid=str(event.context.transfer_syntax),
        sop_class_uid=str(req.AffectedSOPClassUID or ""),
        sop_instance_uid=uid,
    )
    data = req.DataSet.getvalue() if req.DataSet is not None else b""
    result = archive.store_bytes(
        data, source=source, calling_aet=calling_aet, origin=f"{source} from {calling_aet}",
        received=received,
    )  # fmt: skip
    code = _STATUS[result.status]
    if code != st.SUCCESS:
        logger.warning(
            "C-STORE of %s from %s refused (%s): %s",
            uid, calling_aet, result.status.value, result.reason,
        )  # fmt: skip
    return st.status(code, result.reason if code else ""), outcome_of(result, uid)


def _fail(code: int, comment: str, uid: str) -> tuple[Dataset, InstanceOutcome]:
    return st.status(code, comment), InstanceOutcome(uid, Outcome.FAILED, comment, status=code)
