"""How the entries of a conversation's log are stored and turned into events.

A conversation's log holds messages, and small entries that refer to one of its messages
by seq (``target``): an edit (the new text), a deletion (no text) and a reaction (the
emoji; taken back: ``unreact``). Every entry is stored as a message is, with a seq of its
own, so ordering, the backlog, cumulative acks and idempotency keys are the messages'
machinery; only its ``kind`` differs, and the event it becomes (``edited``, ``deleted``,
``reacted``). A message's reply, forward and mentions are stored with it, as ``extra``.

One function builds the event of an entry, live or from the backlog, so that both are the
same frame.
"""

from __future__ import annotations

from typing import Final

import msgspec
from msgspec import UNSET, UnsetType

from messenger_server import protocol

EDIT: Final = "edit"
DELETE: Final = "delete"
REACT: Final = "react"
UNREACT: Final = "unreact"
KINDS: Final = frozenset({EDIT, DELETE, REACT, UNREACT})
"""Every entry kind; a message has none (``None``)."""


class Extras(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a message carries besides its text (stored as JSON in ``extra``)."""

    reply_to: protocol.ReplyTo | UnsetType = UNSET
    forwarded_from: protocol.Forwarded | UnsetType = UNSET
    mentions: list[str] | UnsetType = UNSET


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Extras)


def pack_extras(
    reply_to: protocol.ReplyTo | None,
    forwarded_from: protocol.Forwarded | None,
    mentions: list[str],
) -> bytes | None:
    """The ``extra`` of a message, or None when it has none."""
    if reply_to is None and forwarded_from is None and not mentions:
        return None
    return _encoder.encode(
        Extras(
            reply_to if reply_to is not None else UNSET,
            forwarded_from if forwarded_from is not None else UNSET,
            mentions if mentions else UNSET,
        )
    )


def event(
    message_id: int,
    seq: int,
    ts: int,
    sender: str,
    sender_name: str,
    text: str,
    kind: str | None,
    target: int | None,
    extra: bytes | None,
    to: str | None,
    group: str | None,
) -> protocol.Event:
    """The event a stored message or entry is for its recipients."""
    if kind is None:
        extras = _decoder.decode(extra) if extra is not None else Extras()
        return protocol.Message(
            message_id, seq, ts, sender, sender_name, text, to, group,
            extras.reply_to, extras.forwarded_from, extras.mentions,
        )  # fmt: skip
    assert target is not None
    if kind == EDIT:
        return protocol.Edited(message_id, seq, ts, sender, sender_name, target, text, to, group)
    if kind == DELETE:
        return protocol.Deleted(message_id, seq, ts, sender, sender_name, target, to, group)
    return protocol.Reacted(
        message_id, seq, ts, sender, sender_name, target, text, kind == REACT, to, group
    )
