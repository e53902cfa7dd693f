"""The AE table: which nodes we know, what each may do, and where C-MOVE may send.

The table lives in the settings (``[node] peers``, :class:`workstation.config.PeerNode`).
Rules:

- C-ECHO and C-STORE: any calling AE when ``node.accept_unknown_store`` is true (the
  default, so modalities work out of the box); otherwise only peers with ``may_store``.
  A peer of the table with ``may_store = false`` is refused.
- C-FIND: only peers with ``may_query``.  C-MOVE and C-GET: only peers with
  ``may_retrieve``.  With ``node.verify_peer_host`` the connection must also come from
  the host the table names for that AE title (AE titles alone are trivially spoofed);
  from another host the caller counts as unknown.
- C-MOVE destinations come only from the table (``move_destination = true``); the
  address in the table is used, never anything from the request.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Any

from workstation.config import NodeSettings, PeerNode, Settings
from workstation.pacs_node.dimse.errors import UnknownPeerError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """Who is on the other end of an association."""

    ae_title: str
    address: str

    @classmethod
    def of(cls, assoc: Any) -> Caller:
        """The caller of a pynetdicom association (the AE title its request named)."""
        primitive = assoc.requestor.primitive
        aet = primitive.calling_ae_title if primitive is not None else assoc.requestor.ae_title
        return cls(str(aet or "").strip(), str(assoc.requestor.address or ""))


class AeTable:
    """Lookups and permission checks over the configured peers."""

    def __init__(self, node: NodeSettings) -> None:
        self._node = node
        self._by_aet: dict[str, PeerNode] = {}
        for peer in node.peers:
            self._by_aet.setdefault(peer.ae_title.strip(), peer)

    def peer_for(self, caller: Caller) -> PeerNode | None:
        """The table entry for this caller, or None when unknown or from the wrong host."""
        peer = self._by_aet.get(caller.ae_title.strip())
        if peer is None:
            return None
        if self._node.verify_peer_host and not host_matches(peer.host, caller.address):
            logger.warning(
                "Calling AE %s connected from %s, not from its configured host",
                caller.ae_title,
                caller.address,
            )
            return None
        return peer

    def may_store(self, caller: Caller) -> bool:
        peer = self.peer_for(caller)
        if peer is not None:
            return peer.may_store
        return self._node.accept_unknown_store

    def may_echo(self, caller: Caller) -> bool:
        return self._node.accept_unknown_store or self.peer_for(caller) is not None

    def may_query(self, caller: Caller) -> bool:
        peer = self.peer_for(caller)
        return peer is not None and peer.may_query

    def may_retrieve(self, caller: Caller) -> bool:
        peer = self.peer_for(caller)
        return peer is not None and peer.may_retrieve

    def move_destination(self, ae_title: str) -> PeerNode | None:
        peer = self._by_aet.get(ae_title.strip())
        if peer is None or not peer.move_destination:
            return None
        return peer

    def known_ae_titles(self) -> list[str]:
        return list(self._by_aet)


def host_matches(configured: str, address: str) -> bool:
    """True when ``address`` (an IP) is one of the addresses ``configured`` names."""
    if configured in ("", "*"):
        return True
    try:
        remote = ipaddress.ip_address(address)
    except ValueError:
        return False
    return remote in _resolve(configured)


@functools.lru_cache(maxsize=256)
def _resolve(host: str) -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return frozenset({ipaddress.ip_address(host)})
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        logger.warning("AE table host %s does not resolve", host)
        return frozenset()
    return frozenset(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)


def resolve_peer(settings: Settings, spec: str) -> PeerNode:
    """A peer by AE-table name or AE title, or an ad-hoc ``HOST:PORT:AET``.

    Raises :class:`UnknownPeerError` when neither form applies.
    """
    found = settings.peer(spec)
    if found is not None:
        return found
    host, sep1, rest = spec.rpartition(":")
    host, sep2, port_text = host.rpartition(":")
    aet = rest
    if not (sep1 and sep2 and host and aet) or not port_text.isdigit():
        raise UnknownPeerError(spec)
    port = int(port_text)
    if not 0 < port < 65536 or len(aet) > 16:
        raise UnknownPeerError(spec)
    return PeerNode(
        name=spec,
        ae_title=aet,
        host=host.strip("[]"),
        port=port,
        may_store=False,
        may_query=False,
        may_retrieve=False,
    )
