"""Presence: who is online now, and when the others were last seen.

Private by default: a client's presence is shown to nobody until it chooses, with
``set_privacy``, to show it to the clients that share a chat with it — those that have it
among their contacts while it has them among its own, and its fellow members of every
group (:meth:`Repository.chat_partners`). A client that shows nobody its presence sees
nobody's either. A stranger never sees anything, nor learns whether an ID exists.

Only two things are stored: the setting, and "last seen" (when the client's connection
ended, for a client that shows its presence: who hides it costs nothing when it comes and
goes). Events are never stored: ``presence`` goes to the partners online when a client
logs in, when its connection ends, and when it hides itself; a client asks for the
current state with ``get_presence`` after it has logged in.

An announcement says the client's state when it is sent, not when it was decided, so
that two announcements of one client that overtake each other still end with the truth.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Iterable
from typing import Any, Final

from messenger_server import protocol
from messenger_server.protocol import ErrorCode as Code
from messenger_server.repository import PresenceRecord, SetPresence, StorageError
from messenger_server.service.bus import Push
from messenger_server.service.core import Context, Handled, Peer, now_ms

log = logging.getLogger(__name__)

HIDDEN: Final = "nobody"
"""Who sees a client's presence until it says otherwise (private by default)."""
SHOWN: Final = "chats"
"""The setting of a client that shows its presence to whoever shares a chat with it."""


class Presence:
    """The handlers of ``get_presence`` and ``set_privacy``, and the announcements."""

    MAX_CACHED: Final = 100_000

    def __init__(self, context: Context) -> None:
        self.context = context
        self._records: OrderedDict[str, PresenceRecord] = OrderedDict()
        """Stored presence of the clients seen lately (a missing record: none stored)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._quiet = False

    # -- requests --

    def get_presence(self, peer: Peer, request: protocol.GetPresence) -> Handled:
        """``get_presence``: answered ``presences``, leaving out whoever the caller may not
        see (strangers, unknown IDs, those who show nobody, everyone when the caller
        shows nobody)."""
        return self._answer_presence(peer, request)

    async def _answer_presence(self, peer: Peer, request: protocol.GetPresence) -> None:
        asker = peer.session.client_id
        assert asker is not None
        try:
            if not self._visible((await self._load([asker]))[asker]):
                peer.reply(protocol.Presences(request.id, []))
                return
            partners = await self.context.repository.chat_partners(asker)
            wanted = [c for c in dict.fromkeys(request.client_ids) if c in partners]
            records = await self._load(wanted)
            online = {c for c in wanted if c in self.context.online}
            bus = self.context.bus
            if bus.clustered:  # connected to another node
                online |= await bus.claimed([c for c in wanted if c not in online])
        except StorageError:
            self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
            return
        except Exception:  # the bus: say what this node knows
            log.exception("presence: asking the bus who is online failed")
            online = {c for c in wanted if c in self.context.online}
        peer.reply(
            protocol.Presences(
                request.id,
                [
                    self._state(client_id, records[client_id], client_id in online)
                    for client_id in wanted
                    if self._visible(records[client_id])
                ],
            )
        )

    def set_privacy(self, peer: Peer, request: protocol.SetPrivacy) -> Handled:
        """``set_privacy``: answered ``privacy`` with the setting in force, once stored.
        Hiding tells the partners online that the client's presence is no longer shown;
        showing it again tells them its state."""
        return self._set_privacy(peer, request)

    async def _set_privacy(self, peer: Peer, request: protocol.SetPrivacy) -> None:
        client_id = peer.session.client_id
        assert client_id is not None
        try:
            before = (await self._load([client_id]))[client_id]
            if request.presence is not None and request.presence != self._visibility(before):
                await self.context.pipeline.run([SetPresence(client_id, request.presence)])
                self._remember(PresenceRecord(client_id, request.presence, before.last_seen))
                self._spawn(self._announce(client_id, hiding=request.presence == HIDDEN))
        except StorageError:
            self.context.error(peer, request.id, Code.INTERNAL_ERROR, "internal server error")
            return
        visibility = self._visibility(self._records.get(client_id, before))
        peer.reply(protocol.Privacy(request.id, visibility))

    # -- connections --

    def logged_in(self, client_id: str) -> None:
        """``client_id`` logged in: its partners online hear it (unless it hides)."""
        if not self._quiet and self._may_show(client_id):
            self._spawn(self._announce(client_id))

    def disconnected(self, client_id: str) -> None:
        """The connection of ``client_id`` ended: store when it was last seen, and tell
        its partners online (unless it hides: then nobody may see either)."""
        if self._quiet or not self._may_show(client_id):
            return
        self._store_last_seen([client_id])
        self._spawn(self._announce(client_id))

    def stopping(self) -> None:
        """The server stops: every client online was last seen now; nobody is told."""
        self._quiet = True
        self._store_last_seen([c for c in self.context.online if self._may_show(c)])
        for task in self._tasks:
            task.cancel()

    def _may_show(self, client_id: str) -> bool:
        """False when ``client_id`` is known to show nobody its presence: its comings and
        goings cost nothing (its last seen matters from when it shows it, which it does
        while connected: it is stored when that connection ends)."""
        record = self._records.get(client_id)
        return record is None or self._visible(record)

    def _store_last_seen(self, client_ids: list[str]) -> None:
        now = now_ms()
        for client_id in client_ids:
            self.context.pipeline.add(SetPresence(client_id, last_seen=now))
            record = self._records.get(client_id)
            if record is not None:
                self._remember(PresenceRecord(client_id, record.visibility, now))

    # -- announcing --

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self, client_id: str, *, hiding: bool = False) -> None:
        """Tell the partners online of ``client_id`` its state now (``hiding``: that it
        no longer shows it)."""
        try:
            if client_id not in self._records:  # its last seen may still be on its way
                await self.context.pipeline.barrier()
            record = (await self._load([client_id]))[client_id]
            if not hiding and not self._visible(record):
                return  # it shows nobody, and nobody learns when it comes and goes
            partners = await self.context.repository.chat_partners(client_id)
            online = self.context.online
            here = [p for p in partners if p in online]
            watchers = await self._load(here)
        except StorageError:
            log.debug("presence of %s not announced: storage failed", client_id)
            return
        record = self._records.get(client_id, record)
        if hiding or not self._visible(record):
            event = protocol.Presence(client_id, False, None)
        else:
            event = self._event(client_id, record, client_id in online)
        data = protocol.encode(event)
        for watcher in here:
            target = online.get(watcher)
            if target is not None and self._visible(watchers[watcher]):
                target.push(data)
        bus = self.context.bus
        if bus.clustered:
            elsewhere = [p for p in partners if p not in online]
            if elsewhere:
                bus.publish(Push(elsewhere, data))

    # -- records --

    async def _load(self, client_ids: Iterable[str]) -> dict[str, PresenceRecord]:
        """The stored presence of each of ``client_ids`` (an empty record when none)."""
        wanted = list(client_ids)
        found = {c: r for c in wanted if (r := self._records.get(c)) is not None}
        missing = [c for c in wanted if c not in found]
        if missing:
            loaded = await self.context.repository.get_presence(missing)
            for client_id in missing:
                record = self._records.get(client_id)  # changed meanwhile: that is newer
                if record is None:
                    record = loaded.get(client_id, PresenceRecord(client_id, None, None))
                    self._remember(record)
                found[client_id] = record
        return found

    def _remember(self, record: PresenceRecord) -> None:
        self._records[record.client_id] = record
        self._records.move_to_end(record.client_id)
        if len(self._records) > self.MAX_CACHED:
            self._records.popitem(last=False)

    @staticmethod
    def _visibility(record: PresenceRecord) -> protocol.Visibility:
        return SHOWN if record.visibility == SHOWN else HIDDEN

    @classmethod
    def _visible(cls, record: PresenceRecord) -> bool:
        return cls._visibility(record) != HIDDEN

    @staticmethod
    def _state(client_id: str, record: PresenceRecord, online: bool) -> protocol.PresenceInfo:
        return protocol.PresenceInfo(client_id, online, None if online else record.last_seen)

    @staticmethod
    def _event(client_id: str, record: PresenceRecord, online: bool) -> protocol.Presence:
        return protocol.Presence(client_id, online, None if online else record.last_seen)
