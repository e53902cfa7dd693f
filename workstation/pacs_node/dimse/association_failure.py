"""Why an association with a peer could not be made, or was lost, in words a person can
act on.

pynetdicom reports a failed ``associate()`` only as "not established" (maybe aborted or
rejected).  :class:`AssociationWatch` notes what happened on the way - did the TCP
connection open, did the peer say anything at all, how long did it take - so that the
activity panel can tell apart a name that does not resolve, a port nobody listens on, a
peer that connects and then never answers (frozen, reading nothing, or stuck halfway
through a PDU), a peer that resets the connection, and one that really refuses us.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pynetdicom import evt
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import A_P_ABORT

from workstation.config import PeerNode
from workstation.i18n import _
from workstation.pacs_node.dimse import contexts as cx

#: A peer that closes the connection this much before the ACSE timeout closed it itself.
_EARLY_S = 0.5


class AssociationWatch:
    """Event handlers for one ``associate()`` call that note what the peer did."""

    def __init__(self) -> None:
        self.connected = threading.Event()
        #: The peer sent an ACSE answer (accept, reject, abort, release).
        self.answered = threading.Event()
        self.started = time.monotonic()

    def handlers(self) -> list[tuple[Any, Any]]:
        return [
            (evt.EVT_CONN_OPEN, lambda _e: self.connected.set()),
            (evt.EVT_ACSE_RECV, self._on_acse_recv),
        ]

    def _on_acse_recv(self, event: Any) -> None:
        # An A-P-ABORT is what our own provider says when the connection dropped.
        if not isinstance(event.primitive, A_P_ABORT):
            self.answered.set()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


def unresolvable(peer: PeerNode) -> str:
    """pynetdicom looks the name up before connecting; this is when that failed."""
    return _("{peer} cannot be reached: the name {host} cannot be resolved (DNS)").format(
        peer=_where(peer), host=peer.host
    )


def _where(peer: PeerNode) -> str:
    return f"{peer.ae_title}@{peer.host}:{peer.port}"


def why_not_established(
    assoc: Association,
    watch: AssociationWatch,
    *,
    peer: PeerNode,
    our_aet: str,
    acse_timeout: float,
) -> str:
    """The sentence for an association ``assoc`` that was not established."""
    where = _where(peer)
    if not watch.connected.is_set():
        return _("{peer} cannot be reached").format(peer=where)
    if not watch.answered.is_set():
        if watch.elapsed < acse_timeout - _EARLY_S:
            return _(
                "{peer} closed the connection without answering the association request"
            ).format(peer=where)
        return _(
            "{peer} accepted the connection but did not answer the association request "
            "within {seconds:g} s"
        ).format(peer=where, seconds=acse_timeout)
    if assoc.is_rejected:
        return _("{peer} rejected the association (is our AE title {aet} known there?)").format(
            peer=where, aet=our_aet
        )
    refused = [c for c in assoc.rejected_contexts if str(c.abstract_syntax) in cx.QR_UIDS]
    if assoc.is_aborted and refused and not assoc.accepted_contexts:
        # It answered, but took none of the query/retrieve services every archive has:
        # its AE table does not know us or does not let us (our node does exactly that).
        return _(
            "{peer} does not know AE {aet}, or does not allow it this service (it "
            "refused {service}). Ask its administrator to add {aet} at this computer's "
            "address to its AE table."
        ).format(
            peer=where,
            aet=our_aet,
            service=", ".join(sorted({cx.service_name(c.abstract_syntax) for c in refused})),
        )
    if assoc.is_aborted:
        return _("{peer} aborted the association").format(peer=where)
    return _("{peer} did not answer the association request").format(peer=where)


def association_lost(peer: PeerNode, dimse_timeout: float) -> str:
    """An established association that ended under us (closed, reset, or silent)."""
    return _(
        "The association with {peer} was lost: it closed the connection, or did not "
        "answer within {seconds:g} s."
    ).format(peer=_where(peer), seconds=dimse_timeout)
