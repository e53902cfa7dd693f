"""C-STORE responses encoded directly (dimse.store_response) are the bytes pynetdicom
would send, and anything unusual still takes pynetdicom's own path."""

from __future__ import annotations

import pytest
from pynetdicom.dimse_messages import C_STORE_RSP
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode

from workstation.pacs_node.dimse.store_response import (
    _is_plain_store_response,
    encode_store_response,
)

CT = "1.2.840.10008.5.1.4.1.1.2"


def _response(status: int, sop_class: str | None, sop_instance: str | None) -> C_STORE:
    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = 65535
    rsp.Status = status
    if sop_class:
        rsp.AffectedSOPClassUID = sop_class
    if sop_instance:
        rsp.AffectedSOPInstanceUID = sop_instance
    return rsp


@pytest.mark.parametrize(
    ("status", "sop_class", "sop_instance"),
    [
        (0x0000, CT, "1.2.826.0.1.3680043.8.498.1"),  # odd length: padded with NUL
        (0x0000, CT, "1.2.826.0.1.3680043.8.498.12"),
        (0xA700, "1.2.840.10008.5.1.4.1.1.4", "1.2.3"),
        (0xB000, None, None),
        (0xC001, CT, "9" * 64),
    ],
)
def test_the_bytes_are_pynetdicoms(
    status: int, sop_class: str | None, sop_instance: str | None
) -> None:
    rsp = _response(status, sop_class, sop_instance)
    message = C_STORE_RSP()
    message.primitive_to_message(rsp)
    assert _is_plain_store_response(rsp)
    assert encode_store_response(rsp) == encode(message.command_set, True, True)


def test_responses_with_a_comment_or_offending_element_are_left_to_pynetdicom() -> None:
    commented = _response(0xC000, CT, "1.2.3")
    commented.ErrorComment = "Cannot understand"
    offending = _response(0xA900, CT, "1.2.3")
    offending.OffendingElement = [0x00080018]
    request = C_STORE()
    request.MessageID = 1
    assert not _is_plain_store_response(commented)
    assert not _is_plain_store_response(offending)
    assert not _is_plain_store_response(request)
