"""What one node does for the others, and with what they tell it (see :mod:`.bus`).

With a single node nothing here does anything. With several, every node stores into the
one database and tells the others, through the bus, what it stored that their clients
must hear live: messages (:meth:`Messaging.deliver_remote` pushes them in order), markers
that moved (receipts), group changes. A login claims the identity's session for this
node, and closes the session another node held.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Final

from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import Marker, MarkerMove
from messenger_server.service.bus import (
    BusEvent,
    Deliver,
    GroupChanged,
    Moved,
    Push,
    Replace,
    Resync,
)
from messenger_server.service.core import Context, Peer
from messenger_server.service.groups import Groups
from messenger_server.service.messaging import Messaging
from messenger_server.service.receipts import Receipts, is_group

log = logging.getLogger(__name__)

RECOUNT_INTERVAL: Final = 60.0
"""Seconds between recounts of the quotas' counters: each node counts what it sees, the
database has the truth."""


class Cluster:
    def __init__(
        self, context: Context, messaging: Messaging, receipts: Receipts, groups: Groups
    ) -> None:
        self.context = context
        self.messaging = messaging
        self.receipts = receipts
        self.groups = groups
        self._tokens: dict[Peer, str] = {}
        """The session token of each connection logged in here."""

    @property
    def clustered(self) -> bool:
        return self.context.bus.clustered

    # -- sessions --

    async def claim(self, peer: Peer, client_id: str) -> None:
        """``peer`` logged in as ``client_id``: hold its session here; a session another
        node held is closed there."""
        bus = self.context.bus
        if not bus.clustered:
            return
        token = secrets.token_hex(8)
        self._tokens[peer] = token
        try:
            previous = await bus.claim(client_id, token)
        except Exception:
            log.exception("claiming the session of %s failed", client_id)
            return
        if previous is not None and previous[0] != bus.node:
            bus.publish(Replace(previous[0], client_id, previous[1]))

    def release(self, peer: Peer, client_id: str) -> None:
        token = self._tokens.pop(peer, None)
        if token is not None:
            task = asyncio.get_running_loop().create_task(
                self.context.bus.release(client_id, token)
            )
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    # -- what the others said --

    async def handle(self, event: BusEvent) -> None:
        """One event from another node (events come one at a time, in order)."""
        if isinstance(event, Deliver):
            self.messaging.deliver_remote(event)
        elif isinstance(event, Moved):
            moves = [MarkerMove(Marker(*before), Marker(*after)) for before, after in event.moves]
            for conversation in {move.after.conversation for move in moves}:
                if is_group(conversation) and self.context.groups.cached(conversation) is None:
                    await self.context.groups.load(conversation)
            for move in moves:
                self.receipts.queue(move)
        elif isinstance(event, GroupChanged):
            await self.groups.refresh(event.group_id)
            online = self.context.online
            for recipient, (event_id, frame) in event.updates.items():
                target = online.get(recipient)
                if target is not None:
                    target.push(frame, "notices", event_id)
        elif isinstance(event, Push):
            online = self.context.online
            for recipient in event.recipients:
                target = online.get(recipient)
                if target is not None:
                    target.push(event.frame)
        elif isinstance(event, Resync):
            for peer in list(self.context.online.values()):
                self.messaging.resync(peer)
        elif isinstance(event, Replace):
            if event.node != self.context.bus.node:
                return
            target = self.context.online.get(event.client_id)
            if target is not None and self._tokens.get(target) == event.token:
                target.close(Code.SESSION_REPLACED, "signed in from another connection")

    async def run(self) -> None:
        """What a node of several does in the background (nothing for one alone)."""
        if self.clustered:
            await asyncio.gather(self.receipts.watch_versions(), self._recount())

    async def _recount(self) -> None:
        """Forget the quotas' counters now and then (the other nodes change them)."""
        while self.clustered:
            await asyncio.sleep(RECOUNT_INTERVAL)
            self.messaging.backlogs.forget()
