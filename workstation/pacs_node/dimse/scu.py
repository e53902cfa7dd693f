"""Our SCU toward any node of the AE table: echo, find, move, get and store.

:class:`DimseNode` implements :class:`workstation.pacs_node.remote.RemoteNode`.  Every
operation opens its own association (with the PDU guard in front of its reads), reports
progress per instance, honours a :class:`~workstation.pacs_node.remote.CancelToken`
(C-CANCEL for find/move/get, a stop between instances for store) and returns values:
data sets for find, :class:`~workstation.pacs_node.remote.TransferResult` for transfers.
Failures to reach or negotiate with the peer raise
:class:`~workstation.pacs_node.dimse.errors.AssociationFailed` /
:class:`~workstation.pacs_node.dimse.errors.ServiceRefused`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.status import code_to_category

from workstation.config import PeerNode, Settings
from workstation.i18n import _
from workstation.pacs_node.dimse import contexts as cx
from workstation.pacs_node.dimse import status as st
from workstation.pacs_node.dimse.association_failure import (
    AssociationWatch,
    association_lost,
    unresolvable,
    why_not_established,
)
from workstation.pacs_node.dimse.errors import AssociationFailed, ServiceRefused
from workstation.pacs_node.dimse.pdu_guard import WireLimits, guard_handlers
from workstation.pacs_node.dimse.setup import quiet_pynetdicom_logs, wire_limits
from workstation.pacs_node.dimse.tls import client_context
from workstation.pacs_node.remote import (
    CancelToken,
    InstanceOutcome,
    Matches,
    Outcome,
    ProgressCallback,
    ProgressTracker,
    QueryLevel,
    TransferResult,
)

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)

#: Return keys asked for at each level when the caller does not name them.
RETURN_KEYS: dict[QueryLevel, tuple[str, ...]] = {
    QueryLevel.PATIENT: ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                         "NumberOfPatientRelatedStudies"),
    QueryLevel.STUDY: ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                       "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber",
                       "StudyID", "StudyDescription", "ModalitiesInStudy",
                       "ReferringPhysicianName", "NumberOfStudyRelatedSeries",
                       "NumberOfStudyRelatedInstances"),
    QueryLevel.SERIES: ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
                        "SeriesDescription", "BodyPartExamined", "SeriesDate",
                        "NumberOfSeriesRelatedInstances"),
    QueryLevel.IMAGE: ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                       "SOPClassUID", "InstanceNumber"),
}  # fmt: skip


def build_identifier(
    level: QueryLevel, filters: Mapping[str, str], return_keys: Iterable[str] | None = None
) -> Dataset:
    """A C-FIND/MOVE/GET identifier: level, empty return keys, then the filters.

    Raises ValueError for a keyword that is not in the DICOM dictionary.
    """
    ds = Dataset()
    ds.QueryRetrieveLevel = str(level)
    for keyword in (*(return_keys or RETURN_KEYS[level]), *filters):
        if tag_for_keyword(keyword) is None:
            raise ValueError(_("Unknown DICOM attribute: {keyword}").format(keyword=keyword))
        if keyword not in ds:
            setattr(ds, keyword, None if dictionary_VR(keyword) != "SQ" else [])
    for keyword, value in filters.items():
        setattr(ds, keyword, value)
    return ds


def retrieve_identifier(
    study_uid: str, series_uid: str | None = None, sop_uids: Iterable[str] | None = None
) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = study_uid
    ds.QueryRetrieveLevel = "STUDY"
    if series_uid:
        ds.SeriesInstanceUID = series_uid
        ds.QueryRetrieveLevel = "SERIES"
    uids = list(sop_uids or ())
    if uids:
        if not series_uid:
            raise ValueError(_("Instances can only be retrieved within a series."))
        ds.SOPInstanceUID = uids
        ds.QueryRetrieveLevel = "IMAGE"
    return ds


class DimseNode:
    """A DICOM peer reached by DIMSE (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        peer: PeerNode,
        *,
        archive: Archive | None = None,
        root: str = "study",
    ) -> None:
        quiet_pynetdicom_logs()
        self.settings = settings
        self.peer = peer
        self.name = peer.name
        self.archive = archive
        self.root = root
        self.limits: WireLimits = wire_limits(settings.node)

    # -- associations ------------------------------------------------------------------
    def _ae(self) -> AE:
        node = self.settings.node
        ae = AE(ae_title=node.ae_title)
        ae.acse_timeout = node.acse_timeout
        ae.dimse_timeout = node.dimse_timeout
        ae.network_timeout = node.network_timeout
        ae.connection_timeout = min(node.acse_timeout, 15.0)
        ae.maximum_pdu_size = node.max_pdu_bytes
        return ae

    @contextlib.contextmanager
    def associate(
        self,
        contexts: Sequence[Any],
        *,
        roles: Sequence[Any] = (),
        handlers: Sequence[tuple[Any, Any]] = (),
    ) -> Iterator[Association]:
        """An established association with the peer, released (or aborted) on exit."""
        ae = self._ae()
        watch = AssociationWatch()
        tls = None
        if self.peer.tls:
            tls = (client_context(self.settings.node), self.peer.host)
        try:
            assoc = self._associate(ae, contexts, roles, tls, [*watch.handlers(), *handlers])
        except socket.gaierror as exc:
            ae.shutdown()
            raise AssociationFailed(unresolvable(self.peer)) from exc
        if not assoc.is_established:
            ae.shutdown()
            raise AssociationFailed(
                why_not_established(
                    assoc, watch, peer=self.peer, our_aet=self.settings.node.ae_title,
                    acse_timeout=self.settings.node.acse_timeout,
                )
            )  # fmt: skip
        try:
            yield assoc
        finally:
            if assoc.is_established:
                assoc.release()
            ae.shutdown()

    def _associate(
        self, ae: AE, contexts: Sequence[Any], roles: Sequence[Any], tls: Any,
        handlers: list[tuple[Any, Any]],
    ) -> Association:  # fmt: skip
        return ae.associate(
            self.peer.host,
            self.peer.port,
            contexts=list(contexts),
            ae_title=self.peer.ae_title,
            max_pdu=self.settings.node.max_pdu_bytes,
            ext_neg=list(roles) or None,
            tls_args=tls,
            evt_handlers=[*guard_handlers(self.limits), *handlers],
        )  # fmt: skip

    @staticmethod
    def _require(assoc: Association, sop_class: str) -> None:
        if not any(c.abstract_syntax == sop_class for c in assoc.accepted_contexts):
            raise ServiceRefused(
                _("The peer does not offer {service}.").format(
                    service=getattr(sop_class, "name", sop_class)
                )
            )

    # -- verification ------------------------------------------------------------------
    def echo(self) -> int:
        """C-ECHO; returns the status (0 is success)."""
        with self.associate(cx.echo_contexts()) as assoc:
            rsp = assoc.send_c_echo()
        if "Status" not in rsp:
            raise AssociationFailed(_("No answer to C-ECHO."))
        return int(rsp.Status)

    # -- query -------------------------------------------------------------------------
    def find(
        self,
        level: QueryLevel,
        filters: Mapping[str, str],
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
        return_keys: Iterable[str] | None = None,
    ) -> Matches:
        """C-FIND; matches as data sets.  ``limit`` cancels once that many arrived.

        Without ``limit`` at most ``node.max_find_results`` matches are kept: one more
        arriving sends C-CANCEL and marks the answer ``truncated``.
        """
        level = QueryLevel(level)
        root = "patient" if level is QueryLevel.PATIENT else self.root
        identifier = build_identifier(level, filters, return_keys)
        model = cx.QR_MODELS[(root, "find")]
        cap = limit if limit is not None else max(1, self.settings.node.max_find_results)
        # Without an explicit limit, keep one past the cap to know that there was more.
        stop_at = cap if limit is not None else cap + 1
        out = Matches(cap=cap)
        with self.associate([cx.qr_context(root, "find")]) as assoc:
            self._require(assoc, model)
            cancelled = False
            for rsp, match in assoc.send_c_find(identifier, model):
                code = int(rsp.get("Status", 0xC000)) if rsp else None
                if code is None:
                    raise AssociationFailed(_("The peer stopped answering the query."))
                if st.is_pending(code):
                    if match is not None and len(out) < stop_at:
                        out.append(match)
                    want_stop = len(out) >= stop_at or (cancel is not None and cancel.cancelled)
                    if want_stop and not cancelled:
                        cancelled = True
                        assoc.send_c_cancel(1, query_model=model)
                    continue
                if st.is_failure(code):
                    raise ServiceRefused(_failure_text(rsp))
        if len(out) > cap:
            del out[cap:]
            out.truncated = limit is None
            logger.info("C-FIND answer from %s cut at %d matches", self.peer.ae_title, cap)
        return out

    # -- retrieve ----------------------------------------------------------------------
    def move(
        self,
        destination: str,
        study_uid: str,
        series_uid: str | None = None,
        sop_uids: Iterable[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TransferResult:
        """C-MOVE to ``destination`` (an AE title the peer knows)."""
        identifier = retrieve_identifier(study_uid, series_uid, sop_uids)
        model = cx.QR_MODELS[(self.root, "move")]
        tracker = ProgressTracker(progress)
        with self.associate([cx.qr_context(self.root, "move")]) as assoc:
            self._require(assoc, model)
            responses = assoc.send_c_move(identifier, destination, model)
            result = self._follow_retrieve(assoc, model, responses, tracker, cancel)
        if result.status is None:  # no final response (association lost): the peer's
            # last pending counts are the instances the destination acknowledged
            result.completed, result.failed = tracker.done, tracker.failed
        return tracker.finish(result)

    def get(
        self,
        study_uid: str,
        series_uid: str | None = None,
        sop_uids: Iterable[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        sop_classes: Iterable[str] = cx.GET_STORAGE_CLASSES,
    ) -> TransferResult:
        """C-GET into the local archive; one outcome per instance received."""
        if self.archive is None:
            raise ValueError("C-GET needs an archive to store into")
        from workstation.pacs_node.dimse.receive import store_event

        identifier = retrieve_identifier(study_uid, series_uid, sop_uids)
        model = cx.QR_MODELS[(self.root, "get")]
        contexts, roles = cx.get_contexts(self.root, sop_classes)
        tracker = ProgressTracker(progress)
        received: list[InstanceOutcome] = []
        archive = self.archive

        def _on_store(event: evt.Event) -> Dataset:
            status_ds, outcome = store_event(
                archive, event, source="c-get", calling_aet=self.peer.ae_title
            )
            received.append(outcome)
            tracker.bytes_done += _dataset_length(event)
            return status_ds

        with self.associate(
            contexts, roles=roles, handlers=[(evt.EVT_C_STORE, _on_store)]
        ) as assoc:
            self._require(assoc, model)
            responses = assoc.send_c_get(identifier, model)
            result = self._follow_retrieve(assoc, model, responses, tracker, cancel)
        if result.status is None:  # no final response (association lost): count what came
            for outcome in received:
                result.add(outcome)
        else:
            result.outcomes.extend(received)
        return tracker.finish(result)

    def _follow_retrieve(
        self,
        assoc: Association,
        model: str,
        responses: Iterable[tuple[Dataset, Dataset | None]],
        tracker: ProgressTracker,
        cancel: CancelToken | None,
    ) -> TransferResult:
        result = TransferResult()
        cancel_sent = False
        for rsp, _identifier in responses:
            if not rsp or "Status" not in rsp:
                result.error = association_lost(self.peer, self.settings.node.dimse_timeout)
                break
            code = int(rsp.Status)
            done = sum(int(rsp.get(k) or 0) for k in _SUBOP_DONE)
            remaining = rsp.get("NumberOfRemainingSuboperations")
            if remaining is not None:
                tracker.total = done + int(remaining)
            if done != tracker.done:
                tracker.done = done
                tracker.failed = int(rsp.get("NumberOfFailedSuboperations") or 0)
                tracker.report()
            if st.is_pending(code):
                if cancel is not None and cancel.cancelled and not cancel_sent:
                    cancel_sent = True
                    assoc.send_c_cancel(1, query_model=model)
                continue
            result.status = code
            result.completed = int(rsp.get("NumberOfCompletedSuboperations") or 0)
            result.failed = int(rsp.get("NumberOfFailedSuboperations") or 0)
            result.warning = int(rsp.get("NumberOfWarningSuboperations") or 0)
            result.cancelled = code == st.CANCEL
            if st.is_failure(code):
                result.error = _failure_text(rsp)
        return result

    # -- store -------------------------------------------------------------------------
    def store(
        self,
        files: Iterable[Path],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TransferResult:
        """C-STORE each Part 10 file; the peer's status decides each outcome."""
        items, unreadable = _headers(files)
        result = TransferResult()
        for outcome in unreadable:
            result.add(outcome)
        tracker = ProgressTracker(progress, total=len(items) + len(unreadable))
        tracker.done = tracker.failed = len(unreadable)
        groups = cx.store_contexts((i.sop_class, i.transfer_syntax) for i in items)
        for group in groups:
            batch = [i for i in items if _covers(group, i)]
            items = [i for i in items if not _covers(group, i)]
            if not batch:
                continue
            self._store_batch(group, batch, result, tracker, cancel)
            if result.cancelled or result.error:
                break
        return tracker.finish(result)

    def _store_batch(
        self,
        group: list[Any],
        batch: list[_Header],
        result: TransferResult,
        tracker: ProgressTracker,
        cancel: CancelToken | None,
    ) -> None:
        try:
            with self.associate(group) as assoc:
                for n, item in enumerate(batch):
                    if cancel is not None and cancel.cancelled:
                        result.cancelled = True
                        return
                    if not assoc.is_established:
                        reason = association_lost(self.peer, self.settings.node.dimse_timeout)
                        for rest in batch[n:]:
                            result.add(InstanceOutcome(rest.sop_instance, Outcome.FAILED, reason))
                        result.error = reason
                        return
                    outcome = self._store_one(assoc, item, msg_id=n % 65535 + 1)
                    result.add(outcome)
                    tracker.step(ok=outcome.ok, nbytes=item.size)
        except AssociationFailed as exc:
            for item in batch:
                if not any(o.sop_instance_uid == item.sop_instance for o in result.outcomes):
                    result.add(InstanceOutcome(item.sop_instance, Outcome.FAILED, str(exc)))
            result.error = str(exc)

    def _store_one(self, assoc: Association, item: _Header, msg_id: int) -> InstanceOutcome:
        try:
            ds = dcmread(item.path)
        except (OSError, InvalidDicomError, ValueError) as exc:
            return InstanceOutcome(
                item.sop_instance, Outcome.FAILED, _("Unreadable file: {error}").format(error=exc)
            )
        accepted = cx.accepted_syntaxes(assoc.accepted_contexts, item.sop_class)
        sendable = cx.fit_to_accepted(ds, accepted)
        if sendable is None:
            return InstanceOutcome(
                item.sop_instance,
                Outcome.FAILED,
                _("The peer accepts neither this object type nor a form we can convert it to."),
            )
        try:
            rsp = assoc.send_c_store(sendable, msg_id=msg_id)
        except (ValueError, AttributeError, RuntimeError) as exc:
            return InstanceOutcome(item.sop_instance, Outcome.FAILED, str(exc))
        return outcome_from_status(item.sop_instance, rsp)

    # -- RemoteNode --------------------------------------------------------------------
    #: Retrieve is C-GET into the local archive (C-MOVE needs the peer to know our
    #: address); send is C-STORE.
    retrieve = get
    send = store


_SUBOP_DONE = (
    "NumberOfCompletedSuboperations",
    "NumberOfFailedSuboperations",
    "NumberOfWarningSuboperations",
)


@dataclass(frozen=True, slots=True)
class _Header:
    path: Path
    sop_class: str
    sop_instance: str
    transfer_syntax: str
    size: int


def _headers(files: Iterable[Path]) -> tuple[list[_Header], list[InstanceOutcome]]:
    items: list[_Header] = []
    bad: list[InstanceOutcome] = []
    for path in files:
        try:
            ds = dcmread(
                path, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"]
            )
            meta = ds.file_meta
            sop_class = str(meta.get("MediaStorageSOPClassUID") or ds.SOPClassUID)
            sop_instance = str(meta.get("MediaStorageSOPInstanceUID") or ds.SOPInstanceUID)
            items.append(
                _Header(
                    Path(path),
                    sop_class,
                    sop_instance,
                    str(meta.TransferSyntaxUID),
                    path.stat().st_size,
                )
            )
        except (OSError, InvalidDicomError, AttributeError, ValueError) as exc:
            bad.append(
                InstanceOutcome(
                    str(path),
                    Outcome.FAILED,
                    _("Not a DICOM file we can send: {error}").format(error=exc),
                )
            )
    return items, bad


def _covers(group: list[Any], item: _Header) -> bool:
    return any(c.abstract_syntax == item.sop_class for c in group)


def _dataset_length(event: evt.Event) -> int:
    data = getattr(event.request, "DataSet", None)
    try:
        return len(data.getbuffer()) if data is not None else 0
    except (AttributeError, ValueError):
        return 0


def _failure_text(rsp: Dataset) -> str:
    code = int(rsp.get("Status", 0xC000))
    comment = str(rsp.get("ErrorComment") or "")
    text = _("The peer answered 0x{code:04X} ({category})").format(
        code=code, category=code_to_category(code)
    )
    return f"{text}: {comment}" if comment else text


def outcome_from_status(sop_instance: str, rsp: Dataset | None) -> InstanceOutcome:
    """Turn a C-STORE response into an outcome (no response counts as a failure)."""
    if not rsp or "Status" not in rsp:
        return InstanceOutcome(
            sop_instance,
            Outcome.FAILED,
            _("No answer from the peer (association lost or timed out)."),
        )
    code = int(rsp.Status)
    if st.is_success(code):
        return InstanceOutcome(sop_instance, Outcome.STORED, status=code)
    if st.is_warning(code):
        return InstanceOutcome(
            sop_instance, Outcome.WARNING, str(rsp.get("ErrorComment") or ""), status=code
        )
    return InstanceOutcome(sop_instance, Outcome.FAILED, _failure_text(rsp), status=code)
