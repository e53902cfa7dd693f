"""The DICOM node service: our SCP listening on the configured port.

``start_node_service(settings, archive)`` is what ``workstation start``, ``workstation
node serve`` and the desktop app call; ``NodeService.stop()`` ends it (open associations
are aborted).  The service runs in background threads (pynetdicom's threaded server: one
thread per association, at most ``node.max_associations`` at once; more are rejected
with "local limit exceeded", which senders retry).
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING, Any, cast

from pynetdicom.transport import ThreadedAssociationServer

from workstation.i18n import _
from workstation.pacs_node.dimse.association_slots import NodeAE
from workstation.pacs_node.dimse.contexts import scp_contexts
from workstation.pacs_node.dimse.errors import NodeCannotListen
from workstation.pacs_node.dimse.pynetdicom_tuning import install_tuning
from workstation.pacs_node.dimse.scp import NodeStats, ScpHandlers
from workstation.pacs_node.dimse.setup import quiet_pynetdicom_logs, wire_limits
from workstation.pacs_node.dimse.tls import server_context

if TYPE_CHECKING:
    from workstation.config import Settings
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)


class NodeService:
    """A running SCP; see :func:`start_node_service`."""

    def __init__(self, settings: Settings, archive: Archive) -> None:
        quiet_pynetdicom_logs()
        node = settings.node
        self.settings = settings
        self.handlers = ScpHandlers(settings, archive, wire_limits(node))
        self.ae = NodeAE(ae_title=node.ae_title)
        self.ae.maximum_associations = node.max_associations
        self.ae.maximum_pdu_size = node.max_pdu_bytes
        self.ae.acse_timeout = node.acse_timeout
        self.ae.dimse_timeout = node.dimse_timeout
        self.ae.network_timeout = node.network_timeout
        for context in scp_contexts():
            self.ae.add_supported_context(
                str(context.abstract_syntax),
                context.transfer_syntax,
                scu_role=context.scu_role,
                scp_role=context.scp_role,
            )
        self._server: ThreadedAssociationServer | None = None
        self.tls = server_context(node)

    def start(self) -> NodeService:
        """Listen; :class:`NodeCannotListen` says why not and what to do."""
        node = self.settings.node
        if not 0 <= node.port <= 65535:
            raise NodeCannotListen(
                _("{port} is not a port number (node.port must be 1-65535).").format(
                    port=node.port
                ),
                _choose_port_hint(),
            )
        install_tuning(node.pynetdicom_tuning)
        try:
            self._server = self.ae.start_server(
                (node.bind_address, node.port),
                block=False,
                evt_handlers=cast(Any, self.handlers.bindings()),
                ssl_context=self.tls,
            )
        except OSError as exc:
            logger.info("DICOM node cannot listen on %s:%d: %s", node.bind_address, node.port, exc)
            raise cannot_listen(node.bind_address, node.port, exc) from exc
        logger.info("DICOM node %s listening on %s:%d", node.ae_title, node.bind_address, self.port)
        return self

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        if self._server is None:
            return self.settings.node.port
        return int(self._server.server_address[1])

    @property
    def ae_title(self) -> str:
        return self.settings.node.ae_title

    @property
    def stats(self) -> NodeStats:
        return self.handlers.stats

    @property
    def active_associations(self) -> int:
        return len(self._server.active_associations) if self._server else 0

    def stop(self) -> None:
        """Abort open associations, close the listening socket, wait for the threads."""
        server, self._server = self._server, None
        if server is None:
            return
        self.ae.shutdown()
        logger.info("DICOM node stopped")

    def __enter__(self) -> NodeService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _choose_port_hint() -> str:
    return _(
        "Choose a free port for the DICOM node (Settings > DICOM node, or "
        "--set node.port=N) and tell the modalities that send here."
    )


def cannot_listen(address: str, port: int, exc: OSError) -> NodeCannotListen:
    """What a failed bind means for a person: why, and how to fix it."""
    if exc.errno == errno.EADDRINUSE:
        return NodeCannotListen(
            _(
                "Port {port} is already in use by another program (another workstation, "
                "DICOM node or PACS on this computer?)."
            ).format(port=port),
            _(
                "Stop that program, or choose another port for the DICOM node (Settings > "
                "DICOM node, or --set node.port=N) and tell the modalities that send here."
            ),
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return NodeCannotListen(
            _("Port {port} needs administrator rights (ports below 1024).").format(port=port),
            _choose_port_hint(),
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return NodeCannotListen(
            _("{address} (node.bind_address) is not an address of this computer.").format(
                address=address
            ),
            _("Set node.bind_address to 0.0.0.0 (all addresses) or one of this computer's."),
        )
    return NodeCannotListen(
        _("The DICOM node cannot listen on {address}:{port} ({error}).").format(
            address=address, port=port, error=exc.strerror or exc
        ),
        _choose_port_hint(),
    )


def start_node_service(settings: Settings, archive: Archive) -> NodeService:
    """Start the SCP of ``settings.node`` in the background, backed by ``archive``."""
    return NodeService(settings, archive).start()
