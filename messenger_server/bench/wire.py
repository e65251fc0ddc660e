"""The load generator's side of the wire: a lean decoder and pre-built frames.

The generator must cost much less per message than the server it measures, so it does
not use the shared decoder on the hot path: :func:`messenger_server.protocol.decode_server_frame`
validates every field of a fully typed frame (client ID patterns, UTF-8, integer ranges)
and costs about 1.6 µs for a ``message`` frame on the development machine, where
:class:`Frame` reads only the fields the benchmark looks at, into one flat struct, in
about 0.5 µs (``sent`` 0.9 → 0.3 µs, ``receipts`` 0.95 → 0.2 µs: about 3 µs per message
over the three frames a message brings back). Whether the frames are valid protocol is
the test suite's business; ``messenger-bench --strict`` decodes every frame with the
shared decoder as well, and fails the run on the first one it refuses.

Outgoing frames are built from byte templates (no struct, no encoder): their fields are
ASCII the generator chose itself.
"""

from __future__ import annotations

from typing import Final

import msgspec

from messenger_server import protocol

SEND_ID_BASE: Final = 1 << 32
"""Request id of message number ``n`` of a sender: ``SEND_ID_BASE + n``. Setup requests
(``hello``, ``login``…) take small ids, so a ``sent`` reply gives its message number back
without a lookup."""


class Frame(msgspec.Struct, gc=False):
    """Any server frame, with only the fields the benchmark reads (the rest is skipped).

    ``group`` is a group ID in a ``message`` and a whole group in a ``group`` reply;
    ``receipts`` stays undecoded JSON until someone asks (:func:`decode_receipts`).
    """

    type: str
    id: int | None = None
    message_id: int = 0
    seq: int = 0
    sender: str = ""
    text: str = ""
    to: str | None = None
    group: str | dict[str, object] | None = None
    event_id: int = 0
    duplicate: bool = False
    pending: int = 0
    client_id: str = ""
    credential: str = ""
    protocol: int = 0
    code: str = ""
    message: str = ""
    receipts: msgspec.Raw = msgspec.Raw(b"[]")
    target: int = 0
    on: bool = False


class Receipt(msgspec.Struct, gc=False):
    by: str
    delivered: int
    read: int
    group: str | None = None


_frame_decoder: Final = msgspec.json.Decoder(Frame)
_receipts_decoder: Final = msgspec.json.Decoder(list[Receipt])

decode: Final = _frame_decoder.decode
"""Decode one payload (bytes or a memoryview of them) into a :class:`Frame`.

Raises:
    msgspec.DecodeError: not JSON, or a field of an unexpected JSON type.
"""


def decode_receipts(frame: Frame) -> list[Receipt]:
    """The receipts of a ``receipts`` event."""
    return _receipts_decoder.decode(frame.receipts)


def check_strictly(payload: bytes | memoryview) -> str | None:
    """What the shared decoder says about ``payload``: ``None`` when it is a valid server
    frame, else its complaint (``--strict``)."""
    try:
        protocol.decode_server_frame(bytes(payload))
    except protocol.ProtocolError as exc:
        return exc.message
    return None


def frame(payload: bytes) -> bytes:
    """``payload`` with its length header."""
    return len(payload).to_bytes(4, "big") + payload


NUMBER_DIGITS: Final = 10
"""A benchmark message's text starts with its sender's number, zero-padded to this."""


def send_template(conversation: str, text_bytes: int) -> bytes:
    """The payload of a ``send`` to ``conversation`` (a client ID, or a group ID) with a
    text of ``text_bytes``, to fill with ``% (request_id, n, n)``: the key is ``k<n>``
    and the text starts with ``n`` (:data:`NUMBER_DIGITS` digits), then a space."""
    field = "group" if conversation.startswith("G-") else "to"
    filler = "x" * max(0, text_bytes - NUMBER_DIGITS - 1)
    number = f"%0{NUMBER_DIGITS}d"
    return (
        f'{{"type":"send","id":%d,"key":"k%d","text":"{number} {filler}",'
        f'"{field}":"{conversation}"}}'
    ).encode()


def react_template(peer: str, emoji: str) -> bytes:
    """The payload of a ``react`` with ``emoji`` in the direct conversation with ``peer``,
    to fill with ``% (request_id, n, target)``: the key is ``r<n>``."""
    return (
        f'{{"type":"react","id":%d,"key":"r%d","target":%d,"emoji":"{emoji}","to":"{peer}"}}'
    ).encode()


def typing(peer: str, on: bool) -> bytes:
    """A ``typing`` frame (with header) for the direct conversation with ``peer``."""
    payload = b'{"type":"typing","to":"%s","on":%s}' % (peer.encode(), b"true" if on else b"false")
    return len(payload).to_bytes(4, "big") + payload


def ack(ids: list[int]) -> bytes:
    """An ``ack`` frame (with header) for at most ``MAX_ACK_IDS`` ids."""
    payload = b'{"type":"ack","ids":[' + ",".join(map(str, ids)).encode() + b"]}"
    return len(payload).to_bytes(4, "big") + payload


def ack_one(message_id: int) -> bytes:
    """An ``ack`` frame (with header) for one id."""
    payload = b'{"type":"ack","ids":[%d]}' % message_id
    return len(payload).to_bytes(4, "big") + payload


def request(frame_: protocol.Request) -> bytes:
    """A setup request (``hello``, ``register``, ``login``…), with its header."""
    return protocol.encode(frame_)
