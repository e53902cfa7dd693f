"""pynetdicom's log settings and the wire limits derived from the node settings."""

from __future__ import annotations

import logging

from pynetdicom import _config

from workstation.config import NodeSettings
from workstation.pacs_node.dimse.pdu_guard import WireLimits


def quiet_pynetdicom_logs() -> None:
    """Keep patient data out of pynetdicom's logs and its chatter below WARNING.

    pynetdicom logs request and response identifiers (names, IDs, birth dates) at INFO
    by default; our rule is no patient-identifying data above DEBUG.  (Its internals
    are tuned elsewhere, by the node only: :mod:`.pynetdicom_tuning`.)
    """
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
