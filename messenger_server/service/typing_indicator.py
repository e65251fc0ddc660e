"""The typing indicator: ``typing`` notices, forwarded to online participants only.

A notice is never stored and never answered. It goes to the other members of the group
(the sender must be one), or to the other side of a direct conversation that exists (a
message was sent in it): never to someone who does not share that conversation with the
sender. Participants offline, or still receiving their backlog, do not get it: it would
be stale.

Throttled per sender and conversation: at most one ``on`` per
:data:`~messenger_server.protocol.TYPING_THROTTLE_SECONDS`, whatever came in between, and
an ``off`` only after an ``on`` (it ends what the receivers show; they also forget an
``on`` by themselves after :data:`~messenger_server.protocol.TYPING_EXPIRY_SECONDS`): at
most two notices forwarded per sender, conversation and 3 s. The rest is dropped before
anything else is looked at, so that a flood costs a dictionary lookup per notice.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Final

from messenger_server import protocol
from messenger_server.service.bus import Push
from messenger_server.service.core import Context, Handled, Peer
from messenger_server.service.messaging import Messaging

MAX_TRACKED: Final = 100_000
"""Senders' conversations whose last forwarded notice is remembered (the oldest go)."""
UNKNOWN_FOR: Final = 60.0
"""Seconds a direct conversation found not to exist is not looked up again."""


class TypingIndicator:
    """The handler of ``typing``."""

    def __init__(self, context: Context, messaging: Messaging) -> None:
        self.context = context
        self.messaging = messaging
        self._loop = asyncio.get_running_loop()
        self._forwarded: OrderedDict[tuple[str, str], tuple[float, bool]] = OrderedDict()
        """(sender, conversation) → when its last ``on`` was forwarded, and whether it is
        still shown (no ``off`` forwarded since)."""
        self._direct: OrderedDict[str, float] = OrderedDict()
        """Direct conversations looked up: → 0 when it exists, else when to look again."""
        self.forwarded = 0
        """Notices forwarded so far (each to every recipient online)."""

    def typing(self, peer: Peer, notice: protocol.Typing) -> Handled:
        """``typing``: forward it, or drop it. Needs storage only for a group, or a direct
        conversation, not seen yet."""
        sender = peer.session.client_id
        assert sender is not None
        if notice.group is not None:
            conversation = notice.group
        else:
            assert notice.to is not None
            if notice.to == sender:
                return None
            conversation = protocol.direct_conversation(sender, notice.to)
        key = (sender, conversation)
        now = self._loop.time()
        last = self._forwarded.get(key)
        if notice.on:
            if last is not None and now - last[0] < protocol.TYPING_THROTTLE_SECONDS:
                return None  # an "off" in between does not reset the clock
        elif last is None or not last[1]:
            return None  # nothing shown to end
        if notice.group is not None:
            group = self.context.groups.cached(notice.group)
            if group is None:
                return self._load_then_forward(peer, notice)
            if sender not in group.members:
                return None
            recipients = [m for m in group.members if m != sender]
        else:
            assert notice.to is not None
            shared = self._shared(conversation, now)
            if shared is None:
                return self._look_up_then_forward(peer, notice, conversation)
            if not shared:
                return None
            recipients = [notice.to]
        self._forwarded[key] = (now, True) if notice.on else (last[0] if last else now, False)
        self._forwarded.move_to_end(key)
        if len(self._forwarded) > MAX_TRACKED:
            self._forwarded.popitem(last=False)
        self._forward(recipients, protocol.PeerTyping(sender, notice.on, notice.group))
        return None

    def _forward(self, recipients: list[str], event: protocol.PeerTyping) -> None:
        data = protocol.encode(event)
        online = self.context.online
        for recipient in recipients:
            target = online.get(recipient)
            if target is not None and not target.session.syncing:
                target.send_data(data)
        self.forwarded += 1
        bus = self.context.bus
        if bus.clustered:
            elsewhere = [r for r in recipients if r not in online]
            if elsewhere:
                bus.publish(Push(elsewhere, data))

    def _shared(self, conversation: str, now: float) -> bool | None:
        """Whether the direct ``conversation`` exists (None: not known, look it up)."""
        if self.messaging.opened(conversation):
            return True
        again = self._direct.get(conversation)
        if again is None:
            return None
        if again == 0:
            return True
        return False if now < again else None

    async def _look_up_then_forward(
        self, peer: Peer, notice: protocol.Typing, conversation: str
    ) -> None:
        exists = await self.context.repository.conversation_exists(conversation)
        self._direct[conversation] = 0 if exists else self._loop.time() + UNKNOWN_FOR
        self._direct.move_to_end(conversation)
        if len(self._direct) > MAX_TRACKED:
            self._direct.popitem(last=False)
        handled = self.typing(peer, notice)
        if handled is not None:
            await handled

    async def _load_then_forward(self, peer: Peer, notice: protocol.Typing) -> None:
        assert notice.group is not None
        if await self.context.groups.load(notice.group) is not None:
            handled = self.typing(peer, notice)
            if handled is not None:
                await handled
