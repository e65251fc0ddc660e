"""How the nodes of a cluster tell each other what their clients need to hear.

A single server needs none of it (:class:`LocalBus`). Several server nodes share one
PostgreSQL database and a Redis server (:class:`RedisBus`): whatever a node stores and
would push to its own clients — a message, a marker that moved, a group that changed — it
also publishes, and every other node pushes it to the clients connected there. Redis also
holds which node each online identity is connected to (with an expiry, refreshed while
the connection lives), so that one login anywhere replaces an older one anywhere, and a
dead node's sessions disappear by themselves.

Publishing never waits and never fails a request: the database has everything, and a client
that misses a live event gets it at its next login. Events from one node arrive at the others
in the order it published them.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec

from messenger_server.config import redact_url

log = logging.getLogger(__name__)

SESSION_TTL: Final = 30
"""Seconds a node's claim on an identity lasts unless refreshed (a dead node's sessions
disappear after it)."""
HEARTBEAT: Final = 10.0
"""Seconds between refreshes of a node's claims."""
CHANNEL: Final = "messenger:events"
SESSION_KEY: Final = "messenger:session:"


class Deliver(msgspec.Struct, tag="deliver", frozen=True):
    """A message stored at ``seq`` of ``conversation`` (``previous``: the seq of the
    conversation's message before it), framed, for ``recipients``."""

    conversation: str
    sender: str
    message_id: int
    seq: int
    previous: int | None
    recipients: list[str]
    frame: bytes


class Moved(msgspec.Struct, tag="moved", frozen=True):
    """Markers that moved in one commit: ``(before, after)`` as
    ``(conversation, member, delivered, read, version)``."""

    moves: list[tuple[tuple[str, str, int, int, int], tuple[str, str, int, int, int]]]


class GroupChanged(msgspec.Struct, tag="group", frozen=True):
    """``group_id`` changed (its state is in the database): each recipient's stored
    ``group_update``, as ``(event_id, frame)``."""

    group_id: str
    updates: dict[str, tuple[int, bytes]]


class Push(msgspec.Struct, tag="push", frozen=True):
    """A live frame that is not stored (it is lost for whoever is offline)."""

    recipients: list[str]
    frame: bytes


class Replace(msgspec.Struct, tag="replace", frozen=True):
    """``client_id`` logged in elsewhere: close its connection ``token`` on ``node``."""

    node: str
    client_id: str
    token: str


class Resync(msgspec.Struct, tag="resync", frozen=True):
    """Events may have been lost (a node could not publish, or its subscription broke):
    every node reads from storage what its connected clients may have missed."""


BusEvent = Deliver | Moved | GroupChanged | Push | Replace | Resync
Handler = Callable[[BusEvent], Awaitable[None]]

_encoder = msgspec.msgpack.Encoder()


class Bus(abc.ABC):
    """What a node publishes to the others, and the claims on identities."""

    def __init__(self) -> None:
        self.node = secrets.token_hex(6)
        """This node's name, unique in the cluster."""

    @property
    @abc.abstractmethod
    def clustered(self) -> bool:
        """Whether other nodes may exist (False: publishing does nothing)."""

    @abc.abstractmethod
    async def start(self, handler: Handler) -> None:
        """Connect; ``handler`` is then awaited with every event another node
        publishes, one at a time, in the order they arrive."""

    @abc.abstractmethod
    def publish(self, event: BusEvent) -> None:
        """Tell the other nodes (in order with this node's other events); never waits."""

    @abc.abstractmethod
    async def claim(self, client_id: str, token: str) -> tuple[str, str] | None:
        """This node now holds ``client_id``'s session ``token``; returns the previous
        holder ``(node, token)``, if any."""

    @abc.abstractmethod
    async def release(self, client_id: str, token: str) -> None:
        """The session ``token`` ended (its claim goes, unless another took over)."""

    @abc.abstractmethod
    async def claimed(self, client_ids: list[str]) -> set[str]:
        """Those of ``client_ids`` whose session some node holds (presence: who is
        online anywhere)."""

    @abc.abstractmethod
    async def close(self) -> None: ...


class LocalBus(Bus):
    """One node: nobody to tell."""

    @property
    def clustered(self) -> bool:
        return False

    async def start(self, handler: Handler) -> None:
        pass

    def publish(self, event: BusEvent) -> None:
        pass

    async def claim(self, client_id: str, token: str) -> tuple[str, str] | None:
        return None

    async def release(self, client_id: str, token: str) -> None:
        pass

    async def claimed(self, client_ids: list[str]) -> set[str]:
        return set()

    async def close(self) -> None:
        pass


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBus(Bus):
    """Nodes talking through Redis pub/sub (``redis.asyncio``), claims as keys with an
    expiry. ``url`` is a Redis URL such as ``redis://127.0.0.1:6379/0``."""

    def __init__(
        self, url: str, *, session_ttl: int = SESSION_TTL, heartbeat: float = HEARTBEAT
    ) -> None:
        super().__init__()
        self._url = url
        self._session_ttl = session_ttl
        self._heartbeat_interval = heartbeat
        self._redis: object = None
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._claims: dict[str, str] = {}
        """client_id → token: the claims to keep alive."""
        self._decoder = msgspec.msgpack.Decoder(tuple[str, BusEvent])

    @property
    def clustered(self) -> bool:
        return True

    async def start(self, handler: Handler) -> None:
        import redis.asyncio as aioredis  # optional dependency: only for clusters

        client = aioredis.from_url(self._url)
        try:
            await client.ping()
        except Exception as exc:
            await client.aclose()
            raise OSError(f"cannot reach the bus at {redact_url(self._url)}: {exc}") from exc
        self._redis = client
        pubsub = client.pubsub()
        await pubsub.subscribe(CHANNEL)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._publishing(client)),
            loop.create_task(self._receiving(pubsub, handler)),
            loop.create_task(self._heartbeat(client)),
        ]

    def publish(self, event: BusEvent) -> None:
        self._outbox.put_nowait(_encoder.encode((self.node, event)))

    async def _publishing(self, client: object) -> None:
        """One writer, so that this node's events keep their order. Events that could
        not be published are dropped (the database has everything), and a
        :class:`Resync` goes first once publishing works again."""
        lost = False
        while True:
            data = await self._outbox.get()
            batch = [data]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            if lost:
                batch.insert(0, _encoder.encode((self.node, Resync())))
            try:
                async with client.pipeline(transaction=False) as pipe:  # type: ignore[attr-defined]
                    for item in batch:
                        pipe.publish(CHANNEL, item)
                    await pipe.execute()
                lost = False
            except Exception as exc:
                if not lost:
                    log.error("publishing to the bus failed: %s (the others catch up later)", exc)
                lost = True
                await asyncio.sleep(0.5)

    async def _receiving(self, pubsub: object, handler: Handler) -> None:
        while True:
            try:
                async for message in pubsub.listen():  # type: ignore[attr-defined]
                    if message.get("type") != "message":
                        continue
                    node, event = self._decoder.decode(message["data"])
                    if node == self.node:
                        continue
                    try:
                        await handler(event)
                    except Exception:
                        log.exception("handling a bus event failed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("the bus connection failed: %s; resubscribing", exc)
                while True:
                    await asyncio.sleep(1.0)
                    try:
                        await pubsub.subscribe(CHANNEL)  # type: ignore[attr-defined]
                        break
                    except Exception:
                        continue
                log.info("subscribed to the bus again")
                try:
                    await handler(Resync())  # what was published meanwhile is lost
                except Exception:
                    log.exception("handling a bus event failed")

    async def _heartbeat(self, client: object) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            claims = list(self._claims.items())
            if not claims:
                continue
            try:
                async with client.pipeline(transaction=False) as pipe:  # type: ignore[attr-defined]
                    for client_id, _ in claims:
                        pipe.expire(SESSION_KEY + client_id, self._session_ttl)
                    await pipe.execute()
            except Exception:
                log.exception("refreshing %d session claims failed", len(claims))

    async def claim(self, client_id: str, token: str) -> tuple[str, str] | None:
        value = f"{self.node}:{token}"
        self._claims[client_id] = token
        previous = await self._redis.set(  # type: ignore[attr-defined]
            SESSION_KEY + client_id, value, ex=self._session_ttl, get=True
        )
        if previous is None:
            return None
        node, _, old_token = previous.decode().partition(":")
        return node, old_token

    async def claimed(self, client_ids: list[str]) -> set[str]:
        if not client_ids:
            return set()
        values = await self._redis.mget([SESSION_KEY + c for c in client_ids])  # type: ignore[attr-defined]
        return {c for c, value in zip(client_ids, values, strict=True) if value is not None}

    async def release(self, client_id: str, token: str) -> None:
        if self._claims.get(client_id) == token:
            del self._claims[client_id]
        with contextlib.suppress(Exception):
            await self._redis.eval(  # type: ignore[attr-defined]
                _RELEASE, 1, SESSION_KEY + client_id, f"{self.node}:{token}"
            )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()  # type: ignore[attr-defined]
