"""A raw protocol client for tests: real sockets, the shared sans-I/O session, no
retries and no cleverness, so tests see exactly what the server sends."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any, TypeVar

from messenger_server import protocol
from messenger_server.session import ClientSession, ReplyReceived

F = TypeVar("F")
TIMEOUT = 10.0


@dataclass
class Identity:
    client_id: str
    credential: str
    display_name: str


@dataclass
class WireClient:
    """A test's connection: the shared sans-I/O :class:`ClientSession` over asyncio
    streams. Replies resolve their request's future; every event goes to :attr:`events`
    (``goodbye`` to :attr:`close_error`)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    session: ClientSession = field(default_factory=ClientSession)
    events: asyncio.Queue[protocol.ServerFrame] = field(default_factory=asyncio.Queue)
    replies: dict[int, asyncio.Future[protocol.ServerFrame]] = field(default_factory=dict)
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

    @property
    def next_id(self) -> int:
        """The id the next request will get."""
        return self.session.next_request_id

    async def _read_loop(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self.session.receive_data(data)
                for item in self.session.events_received():
                    if isinstance(item, ReplyReceived):
                        future = self.replies.pop(item.request.id, None)
                        if future is not None and not future.done():
                            future.set_result(item.reply)
                    elif isinstance(item.event, protocol.Goodbye):
                        self.close_error = item.event
                    else:
                        self.events.put_nowait(item.event)
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
        """Write a frame: one made by :meth:`new_request` (with what else the session has
        queued), or any other as is, untracked (a hand-made, possibly wrong, frame)."""
        request_id = getattr(frame, "id", None)
        if request_id is not None and self.session.pending.get(request_id) is frame:
            self.flush()
        else:
            self.writer.write(protocol.encode(frame))

    def new_request(
        self, kind: type[F], **fields: Any
    ) -> tuple[F, asyncio.Future[protocol.ServerFrame]]:
        """Queue a request (written by :meth:`flush`) and the future of its reply."""
        frame = self.session.send_request(lambda request_id: kind(id=request_id, **fields))
        future: asyncio.Future[protocol.ServerFrame] = asyncio.get_running_loop().create_future()
        self.replies[frame.id] = future  # type: ignore[attr-defined]
        return frame, future

    def expect_reply(self, request_id: int) -> asyncio.Future[protocol.ServerFrame]:
        """The future of the reply to a request written by hand (:meth:`send_raw`)."""
        self.session.pending[request_id] = protocol.Ping(id=request_id)
        future: asyncio.Future[protocol.ServerFrame] = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        return future

    def flush(self) -> None:
        """Write every request and ack queued on the session."""
        self.writer.write(self.session.data_to_send())

    def ack(self, ids: list[int]) -> None:
        self.session.send_ack(ids)
        self.flush()

    async def request(self, kind: type[Any], **fields: Any) -> protocol.ServerFrame:
        _, future = self.new_request(kind, **fields)
        self.flush()
        return await asyncio.wait_for(future, TIMEOUT)

    async def register(self, display_name: str) -> Identity:
        reply = await self.request(protocol.Register, display_name=display_name)
        assert isinstance(reply, protocol.Registered), reply
        return Identity(reply.client_id, reply.credential, reply.display_name)

    async def login(self, identity: Identity, *, receipts_since: int = 0) -> protocol.ServerFrame:
        reply = await self.request(
            protocol.Login,
            client_id=identity.client_id,
            credential=identity.credential,
            receipts_since=receipts_since,
        )
        if isinstance(reply, protocol.LoggedIn):
            self.client_id = reply.client_id
        return reply

    async def add_contacts(self, *client_ids: str) -> None:
        """Add each as a contact: they may then add this client to groups."""
        for client_id in client_ids:
            reply = await self.request(protocol.AddContact, client_id=client_id)
            assert isinstance(reply, protocol.Contact), reply

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
                        self.ack([event.message_id])
        return received

    async def entries(
        self, count: int, *, ack: bool = True, timeout: float = TIMEOUT
    ) -> list[protocol.Message | protocol.Edited | protocol.Deleted | protocol.Reacted]:
        """Wait for ``count`` events of conversations' logs (messages, edits, deletions,
        reactions), acknowledging each; other events are dropped."""
        kinds = (protocol.Message, protocol.Edited, protocol.Deleted, protocol.Reacted)
        received: list[protocol.Message | protocol.Edited | protocol.Deleted | protocol.Reacted]
        received = []
        async with asyncio.timeout(timeout):
            while len(received) < count:
                event = await self.events.get()
                if isinstance(event, kinds):
                    received.append(event)
                    if ack:
                        self.ack([event.message_id])
        return received

    def typing(self, *, to: str | None = None, group: str | None = None, on: bool = True) -> None:
        """Write a ``typing`` notice (no reply comes)."""
        self.session.send_typing(to=to, group=group, on=on)
        self.flush()

    async def messages_within(self, seconds: float) -> list[protocol.Message]:
        """Every message event arriving within ``seconds`` (acknowledged)."""
        received: list[protocol.Message] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    event = await self.events.get()
                    if isinstance(event, protocol.Message):
                        received.append(event)
                        self.ack([event.message_id])
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
