"""Which associations hold one of ``node.max_associations``.

pynetdicom counts every living :class:`~pynetdicom.association.Association` thread,
including one whose association was already released or aborted and that is only
closing its socket and stopping its DUL thread.  A sender that releases and at once asks
again (storescu in a loop: one association per batch) then finds its own previous
association still counted, and 20 such senders against a limit of 20 were refused
("Local Limit Exceeded") though never more than 20 associations were open (issue 16,
Build 6).  :class:`NodeAE` counts only associations that are not over.
"""

from __future__ import annotations

from pynetdicom import AE
from pynetdicom.association import Association


def is_over(assoc: Association) -> bool:
    """Released, aborted or rejected, or its connection gone (the DUL thread, once
    started, has ended): what is left is cleanup, not a peer's slot."""
    if assoc.is_released or assoc.is_aborted or assoc.is_rejected:
        return True
    dul = assoc.dul
    return dul.ident is not None and not dul.is_alive()


class NodeAE(AE):
    """pynetdicom's AE whose ``active_associations`` leaves out associations that are over
    (pynetdicom's acceptor checks the limit against this list)."""

    @property
    def active_associations(self) -> list[Association]:
        return [a for a in super().active_associations if not is_over(a)]
