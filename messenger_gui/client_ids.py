"""Client IDs as people type them: normalising to the form the server accepts. No I/O, no Qt.

Shared by the client core (:func:`messenger_gui.client.normalize_client_id` is this one) and
the user interface, which validates an ID field as the user types without importing the
client core.
"""

from __future__ import annotations

import re
from typing import Final

from messenger_server import protocol

_ID_TRANSLATION: Final = str.maketrans("OIL", "011")


def normalize_client_id(text: str) -> str:
    """A client ID as the server spells it, from what a user typed or pasted: spaces and
    hyphens removed, upper case, ``O`` read as ``0`` and ``I``/``L`` as ``1`` (Crockford),
    hyphen after the fourth character (``"k7qm 4xpa"`` → ``"K7QM-4XPA"``).

    Raises:
        ValueError: it is not a client ID even so.
    """
    raw = re.sub(r"[\s\-]", "", text).upper().translate(_ID_TRANSLATION)
    candidate = f"{raw[:4]}-{raw[4:]}"
    if not re.fullmatch(protocol.CLIENT_ID_PATTERN, candidate):
        raise ValueError(f"{text!r} is not a client ID (like K7QM-4XPA)")
    return candidate


__all__ = ["normalize_client_id"]
