"""C-STORE responses encoded directly, without building a pydicom Dataset.

pynetdicom turns every response primitive into a pydicom command set, validating each
UID, and encodes it twice (once to learn the group length).  For the one message a
storage SCP sends per instance that is about a third of a millisecond of CPU, on the
path between "stored" and the sender's next instance.

:func:`replacements` give ``DIMSEServiceProvider.send_msg`` a shortcut for the common
response - a C-STORE-RSP carrying a status and no error comment or offending element -
when nothing listens for ``EVT_DIMSE_SENT``; everything else takes pynetdicom's path.
The bytes are the command set PS3.7 E.1 defines, in the Implicit VR Little Endian
encoding every command set uses, with the elements in tag order.
"""

from __future__ import annotations

import struct
from typing import Any

from pynetdicom import evt
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA

_C_STORE_RSP = 0x8001
_NO_DATA_SET = 0x0101
_LAST_COMMAND_FRAGMENT = b"\x03"


def _element(element: int, value: bytes) -> bytes:
    return struct.pack("<HHL", 0x0000, element, len(value)) + value


def _uid(value: object) -> bytes:
    raw = str(value).encode("ascii")
    return raw + b"\0" if len(raw) % 2 else raw


def encode_store_response(rsp: C_STORE) -> bytes:
    """The command set of a C-STORE-RSP without error comment or offending element."""
    body = b""
    if rsp.AffectedSOPClassUID:
        body += _element(0x0002, _uid(rsp.AffectedSOPClassUID))
    body += _element(0x0100, struct.pack("<H", _C_STORE_RSP))
    body += _element(0x0120, struct.pack("<H", rsp.MessageIDBeingRespondedTo))
    body += _element(0x0800, struct.pack("<H", _NO_DATA_SET))
    body += _element(0x0900, struct.pack("<H", rsp.Status))
    if rsp.AffectedSOPInstanceUID:
        body += _element(0x1000, _uid(rsp.AffectedSOPInstanceUID))
    return _element(0x0000, struct.pack("<L", len(body))) + body


def _is_plain_store_response(primitive: Any) -> bool:
    return (
        type(primitive) is C_STORE
        and primitive.MessageIDBeingRespondedTo is not None
        and primitive.Status is not None
        and primitive.ErrorComment is None
        and primitive.OffendingElement is None
    )


def _send_msg(original: Any) -> Any:
    def send_msg(self: DIMSEServiceProvider, primitive: Any, context_id: int) -> None:
        command = None
        if _is_plain_store_response(primitive) and not self.assoc.get_handlers(evt.EVT_DIMSE_SENT):
            command = encode_store_response(primitive)
        max_pdu = self.maximum_pdu_size
        if command is None or (max_pdu and len(command) + 6 > max_pdu):
            original(self, primitive, context_id)
            return
        pdata = P_DATA()
        pdata.presentation_data_value_list.append((context_id, _LAST_COMMAND_FRAGMENT + command))
        self.dul.send_pdu(pdata)

    return send_msg


def replacements() -> list[tuple[type, str, Any]]:
    """For :mod:`.pynetdicom_tuning`: ``send_msg`` routing plain C-STORE responses through
    :func:`encode_store_response`."""
    return [(DIMSEServiceProvider, "send_msg", _send_msg(DIMSEServiceProvider.send_msg))]


#: The pynetdicom code the shortcut stands in for.
MIRRORED = (DIMSEServiceProvider.send_msg,)
