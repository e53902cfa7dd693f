"""Which remote node a sync target names: ``central`` (DICOMweb) or an AE-table peer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from workstation.i18n import _
from workstation.pacs_node.remote import RemoteNode

if TYPE_CHECKING:
    from workstation.config import Settings
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.dicomweb.tokens import TokenProvider

CENTRAL = "central"


def remote_resolver(
    settings: Settings, archive: Archive, tokens: TokenProvider | None = None
) -> Callable[[str], RemoteNode]:
    """``resolve(target) -> RemoteNode``; nodes are built once and reused."""
    cache: dict[str, RemoteNode] = {}

    def resolve(target: str) -> RemoteNode:
        if target not in cache:
            cache[target] = build_remote(settings, archive, target, tokens)
        return cache[target]

    return resolve


def build_remote(
    settings: Settings, archive: Archive | None, target: str, tokens: TokenProvider | None = None
) -> RemoteNode:
    if target == CENTRAL:
        central = settings.central
        if not central.dicomweb_url:
            if central.dimse_peer:
                return build_remote(settings, archive, central.dimse_peer, tokens)
            raise LookupError(_("No central archive is configured (central.dicomweb_url)."))
        from workstation.pacs_node.dicomweb.client import DicomWebNode

        verify: bool | str = central.ca_bundle or central.verify_tls
        return DicomWebNode(
            central.dicomweb_url, tokens, archive=archive, name=CENTRAL, verify=verify,
            timeout_s=central.timeout_seconds,
            max_instance_bytes=min(settings.node.max_instance_bytes, central.max_part_bytes),
            max_results=settings.node.max_find_results,
        )  # fmt: skip
    from workstation.pacs_node.dimse.ae_table import resolve_peer
    from workstation.pacs_node.dimse.scu import DimseNode

    return DimseNode(settings, resolve_peer(settings, target), archive=archive)
