"""Helpers for the client core's tests: a TCP proxy that can lose bytes or cut connections,
a recording event listener, and a scripted fake server. Written once, used by every
``tests/test_client_*.py``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from messenger_gui.client import MessengerClient, register_client
from messenger_gui.events import ConnectionState, Event, StateChanged
from messenger_gui.storage import ClientData, ClientStore
from messenger_server import protocol
from tests.wire import Identity, WireClient

E = TypeVar("E")
WAIT = 10.0
"""Upper bound of every wait in these tests (they normally take milliseconds)."""


async def settle(*users: User) -> None:
    """A deterministic "nothing more arrives": a ``ping`` round trip through each user's
    connection, in order. Whatever the server had sent them before its ``pong`` has been
    stored and reported when this returns (``MessengerClient.ping``)."""
    for user in users:
        await user.client.ping()


async def eventually(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait until ``condition()`` holds, checking every 20 ms; fail after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


class EventLog:
    """A recording listener: connect it to ``client.events`` and wait on what it saw."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def states(self) -> list[ConnectionState]:
        return [e.state for e in self.of(StateChanged)]

    async def wait(self, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        """Wait until ``condition()`` holds, re-checking after every event (and every
        50 ms, for conditions on the store that change without an event)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

    async def wait_state(self, state: ConnectionState, timeout: float = WAIT) -> StateChanged:
        """Wait for the ``state`` to be reached (again, when it was already in the log,
        only if it is also the latest one); returns its event."""
        await self.wait(lambda: bool(self.states) and self.states[-1] == state, timeout)
        return self.of(StateChanged)[-1]


class TcpProxy:
    """Forwards 127.0.0.1 connections to ``target_port``; a test can make it drop the
    bytes of one direction (they are lost, as on a broken network) and cut every open
    connection. Every frame a client sends (dropped or not) is decoded into
    :attr:`client_frames`, so a test sees what the client said."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.drop_upstream = False
        """Lose what the client sends to the server."""
        self.drop_downstream = False
        """Lose what the server sends to the client."""
        self.upstream_bytes = 0
        self.client_frames: list[protocol.ClientFrame] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer, upstream=protocol.FrameReader())),
            asyncio.create_task(self._pipe(up_reader, writer, upstream=None)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        upstream: protocol.FrameReader | None,
    ) -> None:
        """Copy ``reader`` to ``writer``; ``upstream`` (the client's side) reads frames."""
        try:
            while data := await reader.read(65536):
                if upstream is not None:
                    self.upstream_bytes += len(data)
                    upstream.feed(data)
                    self.client_frames += [
                        protocol.decode_client_frame(payload)
                        for payload in upstream.frames()
                        if not protocol.is_chunk(payload)  # a file's bytes (issue 10)
                    ]
                if self.drop_upstream if upstream is not None else self.drop_downstream:
                    continue
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, protocol.ProtocolError):
            pass
        finally:
            writer.close()

    def sent_by_client(self, kind: type[E]) -> list[E]:
        """The frames of type ``kind`` clients sent through the proxy, in order."""
        return [f for f in self.client_frames if isinstance(f, kind)]

    def cut(self) -> None:
        """Abort every open connection (both sides see a reset); new ones are accepted."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()


class FakeServer:
    """A scripted server on 127.0.0.1: ``on_frame(connection, frame)`` is called for every
    client frame and answers with ``connection.reply(server_frame)`` or ``connection.raw``."""

    def __init__(self, on_frame: Callable[[FakeConnection, protocol.ClientFrame], None]) -> None:
        self.on_frame = on_frame
        self.connections: list[FakeConnection] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = FakeConnection(writer)
        self.connections.append(connection)
        frames = protocol.FrameReader()
        try:
            while data := await reader.read(65536):
                frames.feed(data)
                for payload in frames.frames():
                    frame = protocol.decode_client_frame(payload)
                    connection.received.append(frame)
                    self.on_frame(connection, frame)
        except (ConnectionError, OSError, protocol.ProtocolError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        for connection in self.connections:
            connection.writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class FakeConnection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.received: list[protocol.ClientFrame] = []

    def reply(self, frame: protocol.ServerFrame) -> None:
        self.writer.write(protocol.encode(frame))

    def raw(self, data: bytes) -> None:
        self.writer.write(data)


@dataclass
class User:
    """One person's desktop: identity, history store, client core and its event log."""

    identity: ClientData
    directory: Path
    store: ClientStore
    client: MessengerClient
    log: EventLog

    @property
    def id(self) -> str:
        return self.identity.client_id

    async def wait_online(self) -> None:
        await self.log.wait(lambda: self.client.state == ConnectionState.ONLINE)

    async def add_contacts(self, port: int, *others: User) -> None:
        """Add ``others`` as contacts (they may then add this user to groups): through the
        app when it runs, else on a short connection of its own, as the app would at its
        next login."""
        if self.client.running:
            for other in others:
                await self.client.add_contact(other.id)
            return
        for other in others:
            self.store.add_contact(other.id, other.identity.display_name)
        wire = await WireClient.connect(port)
        await wire.login(Identity(self.id, self.identity.credential, self.identity.display_name))
        await wire.add_contacts(*(other.id for other in others))
        await wire.close()

    def texts(self, conversation: str) -> list[str]:
        return [m.text for m in self.store.messages_slice(conversation, 0, 100_000)]


FAST: Final[dict[str, Any]] = {
    "backoff_base": 0.05,
    "backoff_cap": 0.2,
    "request_timeout": 5.0,
    "connect_timeout": 5.0,
}
"""Client settings for tests: quick retries, bounded waits."""


class Desktops:
    """Creates users (registered on a real server) and stops every client at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.users: list[User] = []
        self.stores: list[ClientStore] = []

    async def register(self, port: int, name: str, **kwargs: Any) -> ClientData:
        return await register_client("127.0.0.1", port, name, **kwargs)

    def open(
        self, identity: ClientData, directory: str, *, start: bool = True, **settings: Any
    ) -> User:
        """A client for ``identity`` with its history in ``root/directory`` (a new store
        on the same directory reopens the same history)."""
        path = self.root / directory
        store = ClientStore(path)
        self.stores.append(store)
        client = MessengerClient(store, identity, **{**FAST, **settings})
        log = EventLog()
        client.events.connect(log)
        user = User(identity, path, store, client, log)
        self.users.append(user)
        if start:
            client.start()
        return user

    async def user(self, port: int, name: str, *, start: bool = True, **settings: Any) -> User:
        identity = await self.register(port, name)
        user = self.open(identity, name.lower(), start=start, **settings)
        if start:
            await user.wait_online()
        return user

    async def close(self) -> None:
        for user in self.users:
            await user.client.stop()
        for store in self.stores:
            store.close()
