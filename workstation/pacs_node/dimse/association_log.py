"""One log line per association our node sees, and one per refusal with its reason.

Who (calling AE title, address and port), what (the services asked for and accepted)
and the result (accepted, rejected, released, aborted) are logged at INFO; every refusal
- an association rejected (unknown calling AE, association limit reached), or a service
refused inside an accepted association (a caller the AE table does not allow to query or
retrieve, a SOP class or transfer syntax we do not take) - at WARNING with its reason.
No patient data: only AE titles, addresses and SOP class names.
"""

from __future__ import annotations

import logging
from typing import Any

from pynetdicom import evt

from workstation.pacs_node.dimse import contexts as cx
from workstation.pacs_node.dimse.ae_table import AeTable, Caller

logger = logging.getLogger(__name__)


#: (result source, diagnostic) of an A-ASSOCIATE-RJ -> why, in words.
REJECT_REASONS = {
    (0x01, 0x03): "calling AE title not recognised (not in the AE table)",
    (0x01, 0x07): "called AE title is not ours",
    (0x03, 0x02): "association limit reached (node.max_associations)",
    (0x03, 0x01): "temporary congestion",
}


def _who(assoc: Any) -> str:
    caller = Caller.of(assoc)
    return f"{caller.ae_title or '?'} at {caller.address}:{assoc.requestor.port}"


def _services(contexts: list[Any]) -> str:
    storage = {str(c.abstract_syntax) for c in contexts}
    names = sorted({cx.service_name(u) for u in storage if u in cx.QR_UIDS or u == cx.VERIFICATION})
    stored = len(storage - cx.QR_UIDS - {str(cx.VERIFICATION)})
    if stored:
        names.append(f"storage of {stored} SOP class{'es' if stored != 1 else ''}")
    return ", ".join(names)


class AssociationLog:
    """Event handlers that log associations and refusals (see the module docstring)."""

    def __init__(self, table: AeTable) -> None:
        self.table = table

    def bindings(self) -> list[tuple[Any, Any]]:
        return [
            (evt.EVT_ACCEPTED, self.on_accepted),
            (evt.EVT_REJECTED, self.on_rejected),
            (evt.EVT_RELEASED, self.on_released),
            (evt.EVT_ABORTED, self.on_aborted),
        ]

    def refusal_reason(self, caller: Caller, uid: str) -> str:
        """Why a requested presentation context for ``uid`` was not accepted."""
        if uid in cx.QR_UIDS:
            if self.table.peer_for(caller) is None:
                if caller.ae_title in self.table.known_ae_titles():
                    return (
                        f"{caller.ae_title} called from {caller.address}, not from the host "
                        "its AE table entry names"
                    )
                return f"this node does not know AE {caller.ae_title} (not in the AE table)"
            allowed = self.table.may_query if uid in cx.FIND_UIDS else self.table.may_retrieve
            if not allowed(caller):
                what = "query" if uid in cx.FIND_UIDS else "retrieve"
                return f"the AE table does not allow {caller.ae_title} to {what}"
        return "SOP class or transfer syntax not supported here"

    def on_accepted(self, event: evt.Event) -> None:
        try:
            assoc = event.assoc
            accepted = assoc.accepted_contexts
            rejected = assoc.rejected_contexts
            if accepted:
                logger.info("Association from %s accepted: %s", _who(assoc), _services(accepted))
            if rejected:
                caller = Caller.of(assoc)
                reasons: dict[str, set[str]] = {}
                for context in rejected:
                    uid = str(context.abstract_syntax)
                    reasons.setdefault(self.refusal_reason(caller, uid), set()).add(
                        cx.service_name(uid)
                    )
                for reason, names in sorted(reasons.items()):
                    logger.warning(
                        "Association from %s: refused %s: %s",
                        _who(assoc),
                        ", ".join(sorted(names)),
                        reason,
                    )
            if not accepted:
                logger.warning(
                    "Association from %s has no acceptable presentation context", _who(assoc)
                )
        except Exception:  # logging never breaks an association
            logger.debug("could not log an accepted association", exc_info=True)

    def on_rejected(self, event: evt.Event) -> None:
        assoc = event.assoc
        primitive = assoc.acceptor.primitive
        key = (getattr(primitive, "result_source", None), getattr(primitive, "diagnostic", None))
        logger.warning(
            "Association from %s rejected: %s",
            _who(assoc),
            REJECT_REASONS.get(key, f"source {key[0]}, reason {key[1]}"),  # type: ignore[arg-type]
        )

    def on_released(self, event: evt.Event) -> None:
        logger.info("Association from %s released", _who(event.assoc))

    def on_aborted(self, event: evt.Event) -> None:
        logger.info("Association from %s aborted", _who(event.assoc))
