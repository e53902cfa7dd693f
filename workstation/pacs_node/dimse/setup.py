"""Process-wide pynetdicom settings and the wire limits derived from the node settings."""

from __future__ import annotations

import logging

from pynetdicom import _config

from workstation.config import NodeSettings
from workstation.pacs_node.dimse import reactor, store_response
from workstation.pacs_node.dimse.contexts import install_fast_copy
from workstation.pacs_node.dimse.pdu_guard import WireLimits


def configure_pynetdicom() -> None:
    """Keep patient data out of pynetdicom's logs and its chatter below WARNING, and make
    its reactors wait for work instead of polling every millisecond (:mod:`.reactor`),
    its per-association copy of our contexts cheap (:func:`.install_fast_copy`), and
    its C-STORE responses direct (:mod:`.store_response`).

    pynetdicom logs request and response identifiers (names, IDs, birth dates) at INFO
    by default; our rule is no patient-identifying data above DEBUG.
    """
    reactor.install()
    install_fast_copy()
    store_response.install()
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False
    _config.LOG_HANDLER_LEVEL = "none"
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)


def wire_limits(node: NodeSettings) -> WireLimits:
    return WireLimits(
        max_pdu_bytes=node.max_pdu_bytes,
        max_dataset_bytes=node.max_instance_bytes,
        pdu_deadline_s=max(node.network_timeout * 2, 10.0),
        read_timeout_s=node.network_timeout,
    )
