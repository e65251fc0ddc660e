"""A raw protocol client for tests: real sockets, the shared protocol module, no
retries and no cleverness, so tests see exactly what the server sends."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any, TypeVar

from messenger_server import protocol

F = TypeVar("F")
TIMEOUT = 10.0


@dataclass
class Identity:
    client_id: str
    credential: str
    display_name: str


@dataclass
class WireClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: asyncio.Queue[protocol.ServerFrame] = field(default_factory=asyncio.Queue)
    replies: dict[int, asyncio.Future[protocol.ServerFrame]] = field(default_factory=dict)
    next_id: int = 1
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_error: protocol.Goodbye | None = None
    task: asyncio.Task[None] | None = None
    client_id: str | None = None

    @classmethod
    async def connect(
        cls, port: int, *, hello: bool = True, ssl_context: ssl.SSLContext | None = None
    ) -> WireClient:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ssl_context, server_hostname="localhost" if ssl_context else None
        )
        client = cls(reader, writer)
        client.task = asyncio.create_task(client._read_loop())
        if hello:
            welcome = await client.request(protocol.Hello, protocol=protocol.PROTOCOL_VERSION)
            assert isinstance(welcome, protocol.Welcome), welcome
        return client

    async def _read_loop(self) -> None:
        frames = protocol.FrameReader(16 * 1024 * 1024)
        try:
            while data := await self.reader.read(65536):
                frames.feed(data)
                for payload in frames.frames():
                    frame = protocol.decode_server_frame(payload)
                    request_id = getattr(frame, "id", None)
                    if request_id is not None and request_id in self.replies:
                        self.replies.pop(request_id).set_result(frame)
                    elif isinstance(frame, protocol.Goodbye):
                        self.close_error = frame
                    else:
                        self.events.put_nowait(frame)
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed.set()
            for future in self.replies.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def send_frame(self, frame: protocol.ClientFrame) -> None:
        self.writer.write(protocol.encode(frame))

    def new_request(
        self, kind: type[F], **fields: Any
    ) -> tuple[F, asyncio.Future[protocol.ServerFrame]]:
        request_id = self.next_id
        self.next_id += 1
        frame = kind(id=request_id, **fields)
        future: asyncio.Future[protocol.ServerFrame] = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        return frame, future

    async def request(self, kind: type[Any], **fields: Any) -> protocol.ServerFrame:
        frame, future = self.new_request(kind, **fields)
        self.send_frame(frame)
        return await asyncio.wait_for(future, TIMEOUT)

    async def register(self, display_name: str) -> Identity:
        reply = await self.request(protocol.Register, display_name=display_name)
        assert isinstance(reply, protocol.Registered), reply
        return Identity(reply.client_id, reply.credential, reply.display_name)

    async def login(self, identity: Identity) -> protocol.ServerFrame:
        reply = await self.request(
            protocol.Login, client_id=identity.client_id, credential=identity.credential
        )
        if isinstance(reply, protocol.LoggedIn):
            self.client_id = reply.client_id
        return reply

    async def send(
        self, text: str, *, to: str | None = None, group: str | None = None, key: str | None = None
    ) -> protocol.ServerFrame:
        key = key or f"k{self.next_id}"
        return await self.request(protocol.Send, key=key, text=text, to=to, group=group)

    async def next_event(
        self, kind: type[F] | tuple[type, ...] = object, timeout: float = TIMEOUT
    ) -> F:  # type: ignore[assignment]
        """The next event of ``kind``; other events before it are dropped."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if isinstance(event, kind):
                    return event  # type: ignore[return-value]

    async def messages(
        self, count: int, *, ack: bool = True, timeout: float = TIMEOUT
    ) -> list[protocol.Message]:
        """Wait for ``count`` message events (acknowledging them), dropping other events."""
        received: list[protocol.Message] = []
        async with asyncio.timeout(timeout):
            while len(received) < count:
                event = await self.events.get()
                if isinstance(event, protocol.Message):
                    received.append(event)
                    if ack:
                        self.send_frame(protocol.Ack(ids=[event.message_id]))
        return received

    async def messages_within(self, seconds: float) -> list[protocol.Message]:
        """Every message event arriving within ``seconds`` (acknowledged)."""
        received: list[protocol.Message] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    event = await self.events.get()
                    if isinstance(event, protocol.Message):
                        received.append(event)
                        self.send_frame(protocol.Ack(ids=[event.message_id]))
        return received

    async def no_event(self, kind: type, within: float = 0.3) -> None:
        """Assert no event of ``kind`` arrives within ``within`` seconds."""
        with contextlib.suppress(TimeoutError):
            event = await self.next_event(kind, timeout=within)
            raise AssertionError(f"unexpected event {event!r}")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 2)

    async def wait_closed(self, timeout: float = TIMEOUT) -> None:
        await asyncio.wait_for(self.closed.wait(), timeout)
