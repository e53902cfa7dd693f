"""Event handlers of our SCP: adapters from pynetdicom events to archive calls.

Each handler translates one event into archive calls and answers with a status; none of
them raises (pynetdicom's ``apps/qrscp`` pattern).  Who may do what is decided twice:

- when the association is requested (``EVT_REQUESTED``): callers that may not query or
  retrieve do not get the Query/Retrieve presentation contexts at all, and with
  ``accept_unknown_store = false`` an unknown caller is rejected outright;
- in each handler again, answering 0124 (refused: not authorized) should a caller slip
  through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import evt

from workstation.i18n import _
from workstation.pacs_node.dimse import contexts as cx
from workstation.pacs_node.dimse import status as st
from workstation.pacs_node.dimse.ae_table import AeTable, Caller
from workstation.pacs_node.dimse.association_log import AssociationLog
from workstation.pacs_node.dimse.pdu_guard import WireLimits, guard_handlers
from workstation.pacs_node.dimse.receive import store_event

if TYPE_CHECKING:
    from workstation.config import Settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.records import InstanceRecord

logger = logging.getLogger(__name__)

#: Number of Remaining/Completed Sub-operations are US: 65535 at most.
MAX_SUBOPERATIONS = 65535
_PATIENT_ROOT = frozenset(str(cx.QR_MODELS[("patient", op)]) for op in ("find", "move", "get"))
_LEVELS = {"PATIENT", "STUDY", "SERIES", "IMAGE"}


@dataclass
class NodeStats:
    """Counters for the activity panel (read without locking; approximate is fine)."""

    associations: int = 0
    stored: int = 0
    failed: int = 0
    finds: int = 0
    moves: int = 0
    gets: int = 0
    refused: int = 0
    last_calling_aets: list[str] = field(default_factory=list)


class ScpHandlers:
    """The handlers bound to our server (see the module docstring)."""

    def __init__(self, settings: Settings, archive: Archive, limits: WireLimits) -> None:
        self.settings = settings
        self.archive = archive
        self.table = AeTable(settings.node)
        self.limits = limits
        self.stats = NodeStats()

    def bindings(self) -> list[tuple[Any, Any]]:
        return [
            *guard_handlers(self.limits),
            *AssociationLog(self.table).bindings(),
            (evt.EVT_CONN_OPEN, self.on_connected),
            (evt.EVT_REQUESTED, self.on_requested),
            (evt.EVT_C_ECHO, self.on_c_echo),
            (evt.EVT_C_STORE, self.on_c_store),
            (evt.EVT_C_FIND, self.on_c_find),
            (evt.EVT_C_MOVE, self.on_c_move),
            (evt.EVT_C_GET, self.on_c_get),
        ]

    # -- association --------------------------------------------------------------------
    def on_connected(self, event: evt.Event) -> None:
        """A new connection gets ``request_timeout`` to ask for an association (pynetdicom
        waits ``acse_timeout`` for the A-ASSOCIATE-RQ; ``on_requested`` restores it)."""
        node = self.settings.node
        event.assoc.acse_timeout = min(node.request_timeout, node.acse_timeout)

    def on_requested(self, event: evt.Event) -> None:
        event.assoc.acse_timeout = self.settings.node.acse_timeout
        try:
            self._negotiate(event)
        except Exception as exc:  # noqa: BLE001 - never raise into pynetdicom
            _log_failure(exc, "Association request handling failed; rejecting")
            event.assoc.acse.send_reject(0x02, 0x01, 0x01)

    def _negotiate(self, event: evt.Event) -> None:
        caller = Caller.of(event.assoc)
        self.stats.associations += 1
        node = self.settings.node
        known = self.table.peer_for(caller) is not None
        if not known and not node.accept_unknown_store:
            logger.warning(
                "Association from %s at %s rejected: calling AE title not recognised (not in "
                "the AE table, and node.accept_unknown_store is off)",
                caller.ae_title,
                caller.address,
            )
            self.stats.refused += 1
            # Rejected (permanent), service user, calling AE title not recognized.
            event.assoc.acse.send_reject(0x01, 0x01, 0x03)
            return
        may_query = self.table.may_query(caller)
        may_retrieve = self.table.may_retrieve(caller)
        if may_query and may_retrieve:
            return
        keep = []
        for context in event.assoc.acceptor.supported_contexts:
            uid = str(context.abstract_syntax)
            if uid in cx.QR_UIDS and not (may_query if uid in cx.FIND_UIDS else may_retrieve):
                continue
            keep.append(context)
        event.assoc.acceptor.supported_contexts = keep

    # -- verification ------------------------------------------------------------------
    def on_c_echo(self, event: evt.Event) -> int:
        return st.SUCCESS if self.table.may_echo(Caller.of(event.assoc)) else st.NOT_AUTHORIZED

    # -- storage -------------------------------------------------------------------------
    def on_c_store(self, event: evt.Event) -> Dataset:
        try:
            caller = Caller.of(event.assoc)
            if not self.table.may_store(caller):
                self.stats.refused += 1
                return st.status(st.NOT_AUTHORIZED, _("This AE may not store here"))
            status_ds, outcome = store_event(
                self.archive, event, source="c-store", calling_aet=caller.ae_title,
                max_bytes=self.settings.node.max_instance_bytes,
            )  # fmt: skip
            if outcome.ok:
                self.stats.stored += 1
            else:
                self.stats.failed += 1
            return status_ds
        except Exception as exc:  # noqa: BLE001 - never raise into pynetdicom
            _log_failure(exc, "C-STORE handler failed")
            return st.status(0x0110, _("Internal error while storing"))

    # -- query ---------------------------------------------------------------------------
    def on_c_find(self, event: evt.Event) -> Iterator[tuple[Any, Dataset | None]]:
        return _never_raising(self._find(event), "C-FIND", _("Internal error while searching"))

    def _find(self, event: evt.Event) -> Iterator[tuple[Any, Dataset | None]]:
        self.stats.finds += 1
        if not self.table.may_query(Caller.of(event.assoc)):
            yield st.status(st.NOT_AUTHORIZED, _("This AE may not query")), None
            return
        identifier, level, problem = self._identifier(event)
        if problem:
            yield problem, None
            return
        cap = self.settings.node.max_find_results
        matches = self.archive.query(level, _keys(identifier), limit=cap + 1)
        charset = _response_charset(matches)
        for n, match in enumerate(matches):
            if event.is_cancelled:
                yield st.status(st.CANCEL), None
                return
            if n == cap:
                comment = _("More than {n} matches; narrow the query").format(n=cap)
                yield st.status(st.OUT_OF_RESOURCES, comment), None
                return
            yield st.PENDING, _match_dataset(match, identifier, charset)
        yield st.SUCCESS, None

    def _identifier(self, event: evt.Event) -> tuple[Dataset, str, Dataset | None]:
        """The request identifier and level, or a status explaining why not."""
        try:
            identifier = event.identifier
            level = str(identifier.get("QueryRetrieveLevel", "")).strip().upper()
            for elem in identifier:  # parse every element now, not later in a query
                elem.keyword  # noqa: B018
        except Exception:  # noqa: BLE001 - any parse failure is the peer's malformed request
            return Dataset(), "", st.status(st.CANNOT_UNDERSTAND, _("Identifier cannot be parsed"))
        model = str(event.request.AffectedSOPClassUID)
        if level not in _LEVELS or (level == "PATIENT" and model not in _PATIENT_ROOT):
            comment = _("Query/Retrieve Level {level!r} invalid here").format(level=level[:16])
            return identifier, level, st.status(st.IDENTIFIER_MISMATCH, comment)
        return identifier, level, None

    # -- retrieve ------------------------------------------------------------------------
    def on_c_move(self, event: evt.Event) -> Iterator[Any]:
        return _never_raising(self._move(event), "C-MOVE", _("Internal error while retrieving"))

    def _move(self, event: evt.Event) -> Iterator[Any]:
        self.stats.moves += 1
        caller = Caller.of(event.assoc)
        destination_aet = str(event.move_destination or "").strip()
        dest = self.table.move_destination(destination_aet)
        if not self.table.may_retrieve(caller) or dest is None:
            logger.warning(
                "C-MOVE from %s to %r refused (%s)", caller.ae_title, destination_aet,
                "caller may not retrieve" if dest else "unknown destination",
            )  # fmt: skip
            yield None, None  # pynetdicom answers A801 (move destination unknown)
            return
        instances, problem = self._instances(event)
        accepted: dict[str, Any] = {}
        options = self._sub_association_options(dest, instances, accepted)
        yield dest.host, dest.port, options
        if problem is not None:
            yield 1
            yield problem, None
            return
        yield len(instances)
        yield from self._sub_operations(event, instances, lambda: accepted.get("assoc"))

    def on_c_get(self, event: evt.Event) -> Iterator[Any]:
        return _never_raising(self._get(event), "C-GET", _("Internal error while retrieving"))

    def _get(self, event: evt.Event) -> Iterator[Any]:
        self.stats.gets += 1
        if not self.table.may_retrieve(Caller.of(event.assoc)):
            yield 1
            yield st.status(st.NOT_AUTHORIZED, _("This AE may not retrieve")), None
            return
        instances, problem = self._instances(event)
        if problem is not None:
            yield 1
            yield problem, None
            return
        yield len(instances)
        yield from self._sub_operations(event, instances, lambda: event.assoc)

    def _instances(self, event: evt.Event) -> tuple[list[InstanceRecord], Dataset | None]:
        identifier, level, problem = self._identifier(event)
        if problem is not None:
            return [], problem
        found = self.archive.match_instances(level, _keys(identifier), limit=MAX_SUBOPERATIONS + 1)
        if len(found) > MAX_SUBOPERATIONS:
            comment = _("More than {n} instances; retrieve less at once").format(
                n=MAX_SUBOPERATIONS
            )
            return [], st.status(st.OUT_OF_RESOURCES_MATCHES, comment)
        return found, None

    def _sub_association_options(
        self, dest: Any, instances: list[InstanceRecord], accepted: dict[str, Any]
    ) -> dict[str, Any]:
        def _on_accepted(ev: evt.Event) -> None:
            accepted["assoc"] = ev.assoc

        pairs = {(i.sop_class_uid, i.transfer_syntax_uid) for i in instances}
        contexts = cx.store_contexts(pairs)[0] if pairs else cx.echo_contexts()
        options: dict[str, Any] = {
            "ae_title": dest.ae_title,
            "contexts": contexts,
            "max_pdu": self.settings.node.max_pdu_bytes,
            "evt_handlers": [*guard_handlers(self.limits), (evt.EVT_ACCEPTED, _on_accepted)],
        }
        if dest.tls:
            from workstation.pacs_node.dimse.tls import client_context

            options["tls_args"] = (client_context(self.settings.node), dest.host)
        return options

    def _sub_operations(
        self, event: evt.Event, instances: list[InstanceRecord], store_assoc: Any
    ) -> Iterator[tuple[Any, Dataset | None]]:
        for record in instances:
            if event.is_cancelled:
                yield st.status(st.CANCEL), None
                return
            yield st.PENDING, self._dataset_for(record, store_assoc())

    def _dataset_for(self, record: InstanceRecord, assoc: Any) -> Dataset:
        """The stored instance, decoded if the receiver does not take its encoding.

        An instance that cannot be read or sent is yielded as a bare data set with only
        its SOP Instance UID: pynetdicom's C-STORE then fails and lists it as failed.
        """
        failed = Dataset()
        failed.SOPInstanceUID = record.sop_instance_uid
        try:
            ds = dcmread(record.path)
        except Exception as exc:  # noqa: BLE001 - never raise into pynetdicom
            _log_failure(exc, "Stored file of %s cannot be read", record.sop_instance_uid)
            return failed
        if assoc is None:
            return ds
        syntaxes = cx.accepted_syntaxes(assoc.accepted_contexts, record.sop_class_uid)
        fitted = cx.fit_to_accepted(ds, syntaxes)
        return fitted if fitted is not None else failed


def _keys(identifier: Dataset) -> dict[str, Any]:
    """Keyword -> value of an identifier (sequences are not matching keys here)."""
    return {e.keyword: e.value for e in identifier if e.keyword and e.VR != "SQ"}


def _response_charset(matches: list[dict[str, Any]]) -> str:
    for match in matches:
        for value in match.values():
            if isinstance(value, str) and not value.isascii():
                return "ISO_IR 192"
    return ""


def _match_dataset(match: dict[str, Any], identifier: Dataset, charset: str) -> Dataset:
    """A C-FIND response identifier: exactly the requested keys, filled from the match."""
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    for elem in identifier:
        keyword = elem.keyword
        if not keyword or keyword == "SpecificCharacterSet":
            continue
        if elem.VR == "SQ":
            setattr(ds, keyword, [])
            continue
        value = match.get(keyword, "")
        try:
            setattr(ds, keyword, _typed(value, elem.VR))
        except (TypeError, ValueError):
            setattr(ds, keyword, None)
    ds.QueryRetrieveLevel = match.get("QueryRetrieveLevel") or identifier.get("QueryRetrieveLevel")
    return ds


def _typed(value: Any, vr: str) -> Any:
    if value in ("", None) or value == []:
        return None
    if vr in ("IS", "US", "UL", "SL", "SS"):
        return int(value)
    if vr in ("DS", "FD", "FL"):
        return float(value) if vr != "DS" else str(value)
    return value


__all__ = ["NodeStats", "ScpHandlers"]


def _never_raising(responses: Iterator[Any], service: str, comment: str) -> Iterator[Any]:
    """A handler's responses, ending in Unable to Process (with ``comment``) when the
    handler fails: pynetdicom must never see an exception."""
    try:
        yield from responses
    except Exception as exc:  # noqa: BLE001 - never raise into pynetdicom
        _log_failure(exc, "%s handler failed", service)
        yield st.status(st.UNABLE_TO_PROCESS, comment), None


def _log_failure(exc: BaseException, message: str, *args: object) -> None:
    """A handler failure: a neutral line at ERROR; the exception, whose text may quote
    DICOM values (names, IDs), with its traceback only at DEBUG."""
    logger.error(message + " (%s)", *args, type(exc).__name__)
    logger.debug(message, *args, exc_info=exc)
