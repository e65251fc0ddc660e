"""The baseline: a storage-free relay speaking the same protocol-2 frames as the server.

It does what any server of this protocol must do with a message, and nothing more: read
and decode the frames with the shared codec, route, encode, write (one write per
connection per loop turn, like the server). No storage, no authentication, no rules, no
idempotency, no coalescing:

* ``hello`` → ``welcome``; ``register`` → ``registered``; ``login`` → ``logged_in``, the
  messages queued in memory while the client was offline, ``synced``;
* ``send`` → ``sent``, and the ``message`` (encoded once) to the recipient or every other
  member of the group (queued in memory when offline);
* ``ack`` → one ``receipts`` event to the sender of each acknowledged message;
* ``ping`` → ``pong``; ``create_group`` → ``group``; ``add_contact`` → ``contact``;
* ``react`` → ``sent``, and ``reacted`` to the other members, as a ``send``;
* ``typing`` → the ``typing`` event to the other members online, throttled as the server
  does (the throttle is part of the protocol: one ``on`` per sender and conversation per
  3 s, an ``off`` only after an ``on``).

``messenger-bench`` runs it as a child process, on the same core as it runs the server,
and prints every figure as a ratio to it. ``--fault`` makes it misbehave on purpose, to
show that the benchmark's checks catch it (tests only).

    python -m messenger_server.bench.relay --port 7860
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, cast

from messenger_server import __version__, protocol
from messenger_server.protocol import ErrorCode as Code

log = logging.getLogger(__name__)

FAULTS: Final = ("duplicate", "drop", "reorder", "stray")
FAULTY_DELIVERY: Final = 3
"""With ``--fault``, the delivery (counted from 1) that goes wrong."""
ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _new_id(prefix: str = "") -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}{chars[:4]}-{chars[4:]}"


Delivery = tuple[int, str, str | None, int]
"""A message pushed and not acknowledged: message_id, sender, group, seq."""


class RelayConnection(asyncio.Protocol):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.transport: asyncio.Transport | None = None
        self.reader = protocol.FrameReader(protocol.MAX_FRAME_BYTES)
        self.greeted = False
        self.client_id: str | None = None
        self.output: list[bytes] = []
        self.delivering: dict[int, Delivery] = {}
        self.held: tuple[bytes, Delivery] | None = None
        """A message held back (``--fault reorder``)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport instances (nor registered as such)
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        relay = self.relay
        if self.client_id is not None and relay.online.get(self.client_id) is self:
            del relay.online[self.client_id]
        relay.dirty.discard(self)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        handlers = self.relay.handlers
        try:
            for payload in self.reader.frames():
                try:
                    frame = protocol.decode_client_frame(payload)
                except protocol.ProtocolError as exc:
                    self.reply(protocol.Error(exc.code, exc.message, exc.request_id))
                    continue
                if self.client_id is None and type(frame) not in self.relay.open_handlers:
                    self.reply(
                        protocol.Error(
                            Code.NOT_AUTHENTICATED, "log in first", getattr(frame, "id", None)
                        )
                    )
                    continue
                handlers.get(type(frame), self.relay.unsupported)(self, frame)
        except protocol.ProtocolError as exc:
            self.goodbye(exc.code, exc.message)

    def queue(self, data: bytes) -> None:
        """Write ``data`` at the end of this loop turn."""
        self.output.append(data)
        self.relay.flush_soon(self)

    def reply(self, frame: protocol.ServerFrame) -> None:
        self.queue(protocol.encode(frame))

    def goodbye(self, code: str, message: str) -> None:
        self.reply(protocol.Goodbye(code, message))
        self.flush()
        if self.transport is not None:
            self.transport.close()

    def flush(self) -> None:
        if self.output and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self.output))
        self.output.clear()


class Relay:
    """The relay's state: who exists, who is online, messages queued for the offline."""

    def __init__(self, fault: str | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.fault = fault
        self.names: dict[str, str] = {}
        self.online: dict[str, RelayConnection] = {}
        self.queued: dict[str, list[tuple[bytes, Delivery]]] = {}
        self.groups: dict[str, protocol.GroupInfo] = {}
        self.dirty: set[RelayConnection] = set()
        self.deliveries = 0
        self.typing_shown: dict[tuple[str, str], tuple[float, bool]] = {}
        """(sender, conversation) → when its last ``on`` went out, and whether shown."""
        self._counter = 0
        self._flush_scheduled = False
        self._server: asyncio.Server | None = None
        self.handlers: dict[type, Callable[[RelayConnection, Any], None]] = {
            # anything else is answered by unsupported()
            protocol.Hello: self.hello,
            protocol.Register: self.register,
            protocol.Login: self.login,
            protocol.Send: self.send,
            protocol.Ack: self.ack,
            protocol.Ping: self.ping,
            protocol.CreateGroup: self.create_group,
            protocol.AddContact: self.add_contact,
            protocol.React: self.react,
            protocol.Typing: self.typing,
        }
        self.open_handlers = frozenset({protocol.Hello, protocol.Register, protocol.Login})

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port."""
        self._server = await self.loop.create_server(lambda: RelayConnection(self), host, port)
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("listening on %s:%d", host, bound)
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self.online.values()):
                if connection.transport is not None:
                    connection.transport.close()
            await self._server.wait_closed()

    def next_id(self) -> int:
        self._counter += 1
        return self._counter

    def flush_soon(self, connection: RelayConnection) -> None:
        self.dirty.add(connection)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self.dirty = self.dirty, set()
        for connection in dirty:
            connection.flush()

    # -- requests --

    def hello(self, connection: RelayConnection, hello: protocol.Hello) -> None:
        if connection.greeted:
            connection.reply(protocol.Error(Code.ALREADY_AUTHENTICATED, "hello again", hello.id))
            return
        if hello.protocol != protocol.PROTOCOL_VERSION:
            connection.goodbye(
                Code.UNSUPPORTED_VERSION,
                f"this server speaks protocol {protocol.PROTOCOL_VERSION}, not {hello.protocol}",
            )
            return
        connection.greeted = True
        connection.reply(
            protocol.Welcome(
                id=hello.id,
                protocol=protocol.PROTOCOL_VERSION,
                server=f"messenger-bench-relay/{__version__}",
                registration="open",
                limits=protocol.Limits(),
            )
        )

    def register(self, connection: RelayConnection, request: protocol.Register) -> None:
        client_id = _new_id()
        while client_id in self.names:
            client_id = _new_id()
        self.names[client_id] = request.display_name
        connection.reply(
            protocol.Registered(
                request.id, client_id, secrets.token_urlsafe(24), request.display_name
            )
        )

    def login(self, connection: RelayConnection, request: protocol.Login) -> None:
        """No authentication: any credential of a known client ID."""
        client_id = request.client_id
        if client_id not in self.names or connection.client_id is not None:
            connection.reply(protocol.Error(Code.UNKNOWN_CLIENT, "unknown client ID", request.id))
            return
        previous = self.online.get(client_id)
        if previous is not None:
            previous.goodbye(Code.SESSION_REPLACED, "signed in from another connection")
        connection.client_id = client_id
        self.online[client_id] = connection
        queued = self.queued.pop(client_id, [])
        connection.reply(
            protocol.LoggedIn(request.id, client_id, self.names[client_id], len(queued))
        )
        for data, delivery in queued:
            connection.delivering[delivery[0]] = delivery
            connection.output.append(data)
        connection.reply(protocol.Synced())

    def _recipients(
        self, connection: RelayConnection, request: protocol.Send | protocol.React
    ) -> list[str] | None:
        """The other members of the request's conversation, or None (answered)."""
        sender = connection.client_id
        group = request.group
        if group is not None:
            info = self.groups.get(group)
            if info is None:
                connection.reply(protocol.Error(Code.UNKNOWN_GROUP, "no such group", request.id))
                return None
            recipients = [m.client_id for m in info.members if m.client_id != sender]
            if len(recipients) == len(info.members):
                connection.reply(protocol.Error(Code.NOT_A_MEMBER, "not a member", request.id))
                return None
            return recipients
        assert request.to is not None
        if request.to not in self.names:
            connection.reply(
                protocol.Error(Code.UNKNOWN_CLIENT, f"no client {request.to}", request.id)
            )
            return None
        return [request.to]

    def send(self, connection: RelayConnection, request: protocol.Send) -> None:
        sender = connection.client_id
        assert sender is not None
        recipients = self._recipients(connection, request)
        if recipients is None:
            return
        message_id = self.next_id()
        ts = _now_ms()
        connection.reply(protocol.Sent(request.id, request.key, message_id, message_id, ts))
        data = protocol.encode(
            protocol.Message(
                message_id=message_id,
                seq=message_id,
                ts=ts,
                sender=sender,
                sender_name=self.names[sender],
                text=request.text,
                to=request.to,
                group=request.group,
            )
        )
        self._deliver(recipients, data, (message_id, sender, request.group, message_id))

    def react(self, connection: RelayConnection, request: protocol.React) -> None:
        """As ``send``: a reaction is an entry of the conversation (no target check)."""
        sender = connection.client_id
        assert sender is not None
        recipients = self._recipients(connection, request)
        if recipients is None:
            return
        message_id = self.next_id()
        ts = _now_ms()
        connection.reply(protocol.Sent(request.id, request.key, message_id, message_id, ts))
        data = protocol.encode(
            protocol.Reacted(
                message_id, message_id, ts, sender, self.names[sender], request.target,
                request.emoji, request.on, request.to, request.group,
            )
        )  # fmt: skip
        self._deliver(recipients, data, (message_id, sender, request.group, message_id))

    def typing(self, connection: RelayConnection, notice: protocol.Typing) -> None:
        """To the other members online, throttled; nothing stored, nothing answered."""
        sender = connection.client_id
        assert sender is not None
        if notice.group is not None:
            info = self.groups.get(notice.group)
            if info is None:
                return
            conversation = notice.group
            recipients = [m.client_id for m in info.members if m.client_id != sender]
        else:
            assert notice.to is not None
            conversation = protocol.direct_conversation(sender, notice.to)
            recipients = [notice.to]
        key = (sender, conversation)
        now = self.loop.time()
        last = self.typing_shown.get(key)
        if notice.on:
            if last is not None and now - last[0] < protocol.TYPING_THROTTLE_SECONDS:
                return
            self.typing_shown[key] = (now, True)
        else:
            if last is None or not last[1]:
                return
            self.typing_shown[key] = (last[0], False)
        data = protocol.encode(protocol.PeerTyping(sender, notice.on, notice.group))
        online = self.online
        for recipient in recipients:
            target = online.get(recipient)
            if target is not None:
                target.queue(data)

    def _deliver(self, recipients: list[str], data: bytes, delivery: Delivery) -> None:
        message_id = delivery[0]
        online = self.online
        for recipient in recipients:
            target = online.get(recipient)
            if target is None:
                self.queued.setdefault(recipient, []).append((data, delivery))
                continue
            self.deliveries += 1
            if self.fault is not None and self._misbehave(target, data, delivery):
                continue
            target.delivering[message_id] = delivery
            target.queue(data)

    def ack(self, connection: RelayConnection, ack: protocol.Ack) -> None:
        by = connection.client_id
        assert by is not None
        delivering = connection.delivering
        online = self.online
        for message_id in ack.ids:
            delivery = delivering.pop(message_id, None)
            if delivery is None:
                continue
            _, sender, group, seq = delivery
            target = online.get(sender)
            if target is not None:
                receipt = protocol.Receipt(by, seq, 0, group)
                target.reply(protocol.Receipts(self.next_id(), [receipt]))

    def ping(self, connection: RelayConnection, request: protocol.Ping) -> None:
        connection.reply(protocol.Pong(request.id, _now_ms()))

    def create_group(self, connection: RelayConnection, request: protocol.CreateGroup) -> None:
        creator = connection.client_id
        assert creator is not None
        everyone = list(dict.fromkeys([creator, *request.members]))
        unknown = [m for m in everyone if m not in self.names]
        if unknown:
            connection.reply(
                protocol.Error(Code.UNKNOWN_CLIENT, f"no client {unknown[0]}", request.id)
            )
            return
        group_id = _new_id("G-")
        info = protocol.GroupInfo(
            group_id=group_id,
            name=request.name,
            members=[protocol.Member(m, self.names[m], m == creator) for m in everyone],
            created_by=creator,
            created_at=_now_ms(),
        )
        self.groups[group_id] = info
        connection.reply(protocol.GroupReply(request.id, info))

    def add_contact(self, connection: RelayConnection, request: protocol.AddContact) -> None:
        """Answered as the server does; nothing is kept (the relay lets anyone add anyone
        to a group)."""
        name = self.names.get(request.client_id)
        if name is None:
            connection.reply(protocol.Error(Code.UNKNOWN_CLIENT, "no such client", request.id))
            return
        connection.reply(protocol.Contact(request.id, request.client_id, name))

    def unsupported(self, connection: RelayConnection, request: protocol.Request) -> None:
        kind = type(request).__name__
        connection.reply(
            protocol.Error(Code.INTERNAL_ERROR, f"the relay does not do {kind}", request.id)
        )

    # -- on purpose, for the tests of the benchmark's checks --

    def _misbehave(self, target: RelayConnection, data: bytes, delivery: Delivery) -> bool:
        """Returns True when the delivery was dealt with here."""
        held = target.held
        if held is not None:  # reorder: the held message goes after this one
            target.held = None
            for held_data, held_delivery in ((data, delivery), held):
                target.delivering[held_delivery[0]] = held_delivery
                target.queue(held_data)
            return True
        if self.deliveries != FAULTY_DELIVERY:
            return False
        if self.fault == "drop":
            return True
        if self.fault == "reorder":
            target.held = (data, delivery)
            return True
        target.delivering[delivery[0]] = delivery
        target.queue(data)
        if self.fault == "duplicate":
            target.queue(data)
        elif self.fault == "stray":
            target.queue(protocol.frame_bytes(b'{"type":"surprise"}'))
        return True


async def serve(host: str, port: int, fault: str | None) -> None:
    relay = Relay(fault)
    await relay.start(host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await relay.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m messenger_server.bench.relay",
        description="A storage-free relay of protocol-2 frames: messenger-bench's baseline.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", choices=FAULTS, help="misbehave on purpose (tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        import uvloop
    except ImportError:
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    with (
        asyncio.Runner(loop_factory=loop_factory) as runner,
        contextlib.suppress(KeyboardInterrupt),
    ):
        runner.run(serve(args.host, args.port, args.fault))
    return 0


if __name__ == "__main__":
    sys.exit(main())
