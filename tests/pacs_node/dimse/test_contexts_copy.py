"""The per-association copy of our supported contexts (contexts.replacements)."""

from __future__ import annotations

import copy

from pynetdicom import AE

from workstation.pacs_node.dimse.contexts import scp_contexts
from workstation.pacs_node.dimse.pynetdicom_tuning import install_tuning


def test_a_copied_context_is_equal_and_independent() -> None:
    assert install_tuning()
    ae = AE()
    for cx in scp_contexts():
        ae.add_supported_context(
            str(cx.abstract_syntax), cx.transfer_syntax, scu_role=cx.scu_role, scp_role=cx.scp_role
        )
    original = ae.supported_contexts
    copied = copy.deepcopy(original)
    assert len(copied) == len(original) > 100
    for a, b in zip(original, copied, strict=True):
        assert b is not a
        assert b.abstract_syntax == a.abstract_syntax
        assert b.transfer_syntax == a.transfer_syntax
        assert (b.scu_role, b.scp_role) == (a.scu_role, a.scp_role)
    # What pynetdicom does to its copy during negotiation leaves the AE's own alone.
    storage = next(cx for cx in copied if len(cx.transfer_syntax) > 2)
    before = list(next(cx for cx in original if cx.abstract_syntax == storage.abstract_syntax)
                  .transfer_syntax)  # fmt: skip
    storage.context_id = 9
    storage.transfer_syntax.pop()
    storage.result = 0
    twin = next(cx for cx in original if cx.abstract_syntax == storage.abstract_syntax)
    assert twin.context_id is None and twin.result is None
    assert twin.transfer_syntax == before
