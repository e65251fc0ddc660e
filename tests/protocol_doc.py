"""The transcripts of docs/protocol.md, section 7, produced by a real server.

The flows run against an in-process server on 127.0.0.1 whose random IDs, credentials and
clock are replaced by fixed ones, so that the transcript is the same at every run. Every
frame a client sends is encoded with the shared encoder; every frame shown from the server
is exactly the bytes it sent. ``tests/test_protocol_doc.py`` fails when the document differs;
after a deliberate protocol change, regenerate the document's blocks with

    .venv/bin/python -m tests.protocol_doc --write
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from messenger_server import protocol
from messenger_server.config import load_settings
from messenger_server.repository import SQLiteRepository
from messenger_server.server import MessengerServer
from messenger_server.service import conversation as conversation_module
from messenger_server.service import groups as groups_module
from messenger_server.service import messaging as messaging_module
from messenger_server.service import presence as presence_module
from messenger_server.service import registration as registration_module

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
BLOCK = re.compile(r"(<!-- transcript (\S+) -->\n```text\n)(.*?)(```)", re.DOTALL)

NAMES = {"Ana": "K7QM-4XPA", "Bruno": "B8NZ-2FHC", "Carla": "R5TV-6JWE", "Dora": "D3WY-9MQK"}
GROUP = "G-Q2RT-8HVB"
TRIP = "G-7YWD-3KFP"
"""The group of section 12's flows."""
CREDENTIALS = [
    "t9xTVkZdpnvRRZoWlIt67zfs8wfBp7VLNQ6c1QZc2Wg",
    "WOvJvLfrbrON2FHidurDAbCY0HxIs38MyNUqzcrZoDM",
    "Vu1EPPoxi70-BmQWJByTYIdrO5yd6_nyCY051Iq4x9Q",
    "Hc4nq2Lw9ZkP0rT7yVbX5sJ1fMeA3uGd8iOoQ6tR-_E",
]
WRONG_CREDENTIAL = "QJ8wVt2mXn5bR0sKd7fLc9hGz4pYe1aU3iTo6NrW-_s"
KEYS = {
    "oi": "5f0c8e2a9b4d4f61a7c3e8d2b1f09a77",
    "chego": "0b7e4c1d2f3a4b5c8d9e0f1a2b3c4d5e",
    "pode": "9a8b7c6d5e4f40312f1e0d9c8b7a6958",
    "familia": "c2d4e6f8a0b24c6e8f0a1b3c5d7e9f01",
    "sabado": "3e5a7c9b1d2f4a6c8e0b2d4f6a8c0e1f",
    "dez": "7b9d1f3a5c7e4b2d9f1a3c5e7b9d2f4a",
    "edit": "e4c6a8b0d2f14e3a5c7b9d1f3a5c7e9b",
    "joinha": "a1c3e5b7d9f24a6c8e0b1d3f5a7c9e2d",
    "errada": "c9e1a3b5d7f94c2e6a8b0d2f4a6c8e0a",
    "apaga": "d0f2b4a6c8e14d3f5b7a9c1e3b5d7f9c",
}


class Clock:
    """The server's clock: moves only when a flow says so."""

    def __init__(self) -> None:
        self.now = 1764000000000

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class Transcript:
    def __init__(self) -> None:
        self.blocks: dict[str, list[str]] = {}
        self._current: list[str] = []
        self.welcome_shown = False

    @contextlib.contextmanager
    def block(self, name: str) -> Iterator[None]:
        self._current = self.blocks[name] = []
        yield
        self._current = []

    def line(self, source: str, target: str, payload: str) -> None:
        if self._current is not None:
            self._current.append(f"{source:<6} -> {target:<6} : {payload}")

    def note(self, text: str) -> None:
        self._current.append(f"         ({text})")


class Party:
    """One client connection whose frames are written to the transcript."""

    def __init__(self, name: str, transcript: Transcript, label: str | None = None) -> None:
        self.name = name
        self.label = label or name
        self.transcript = transcript
        self.next_id = 1
        self.received: asyncio.Queue[bytes] = asyncio.Queue()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.reader is not None
        frames = protocol.FrameReader(16 * 1024 * 1024)
        with contextlib.suppress(ConnectionError):
            while data := await self.reader.read(65536):
                frames.feed(data)
                for payload in frames.frames():
                    self.received.put_nowait(payload)

    def send(self, kind: type[Any], record: bool = True, **fields: Any) -> None:
        if "id" in kind.__struct_fields__:
            fields = {"id": self.next_id, **fields}
            self.next_id += 1
        frame = kind(**fields)
        assert self.writer is not None
        self.writer.write(protocol.encode(frame))
        if record:
            self.transcript.line(self.label, "Server", protocol.encode_payload(frame).decode())

    async def expect(self, kind: type[Any], record: bool = True) -> Any:
        payload = await asyncio.wait_for(self.received.get(), 5)
        frame = protocol.decode_server_frame(payload)
        assert isinstance(frame, kind), (self.label, frame)
        text = payload.decode()
        if isinstance(frame, protocol.Welcome):
            if self.transcript.welcome_shown:
                text = f'{{"type":"welcome","id":{frame.id},...}}'
            self.transcript.welcome_shown = True
        if record:
            self.transcript.line("Server", self.label, text)
        return frame

    def quiet(self) -> None:
        assert self.received.empty(), (self.label, self.received.get_nowait())

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        if self.task is not None:
            await asyncio.wait([self.task], timeout=2)


@contextlib.asynccontextmanager
async def fixed_server(clock: Clock) -> AsyncIterator[MessengerServer]:
    """A server whose IDs, credentials and time are the document's."""
    client_ids = iter(NAMES.values())
    group_ids = iter([GROUP, TRIP])
    credentials = iter(CREDENTIALS)

    def unique_id(prefix: str = "") -> str:
        return next(group_ids) if prefix == "G-" else next(client_ids)

    patches = [
        (registration_module, "generate_unique_id", unique_id),
        (groups_module, "generate_unique_id", unique_id),
        (registration_module, "new_credential", lambda: next(credentials)),
        (registration_module, "now_ms", clock),
        (groups_module, "now_ms", clock),
        (messaging_module, "now_ms", clock),
        (conversation_module, "now_ms", clock),
        (presence_module, "now_ms", clock),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    import messenger_server.service as service_package

    saved.append((service_package, "now_ms", service_package.now_ms))
    service_package.now_ms = clock  # type: ignore[assignment]
    for module, name, value in patches:
        setattr(module, name, value)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            environ={}, overrides={"host": "127.0.0.1", "port": 0, "data_dir": data_dir}
        )
        repository = SQLiteRepository(settings.database_path)
        await repository.open()
        server = MessengerServer(settings, repository)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
            await repository.close()
            for module, name, value in saved:
                setattr(module, name, value)


async def settle(server: MessengerServer, *parties: Party) -> None:
    """Wait until the server has stored and sent everything, then check that nobody got a
    frame the flow did not expect."""
    for _ in range(3):
        await server.service.context.pipeline.barrier()
        await asyncio.sleep(0.05)
    for party in parties:
        party.quiet()


async def run_flows() -> dict[str, list[str]]:
    clock = Clock()
    t = Transcript()
    async with fixed_server(clock) as server:
        port = server.port

        async def connect(name: str, label: str | None = None, record: bool = True) -> Party:
            party = Party(name, t, label)
            await party.open(port)
            if record:
                t.note(f"{label or name} opens a TCP connection")
            party.send(protocol.Hello, record=record, protocol=2, client="mini/0.1")
            await party.expect(protocol.Welcome, record=record)
            return party

        async def login(party: Party, record: bool = True, since: int = 0) -> Any:
            party.send(
                protocol.Login,
                record=record,
                client_id=NAMES[party.name],
                credential=CREDENTIALS[list(NAMES).index(party.name)],
                receipts_since=since,
            )
            return await party.expect(protocol.LoggedIn, record=record)

        # 7.1 register
        with t.block("7.1"):
            t.note("Ana opens a TCP connection")
            ana = Party("Ana", t)
            await ana.open(port)
            ana.send(protocol.Hello, protocol=2, client="mini/0.1")
            await ana.expect(protocol.Welcome)
            ana.send(protocol.Register, display_name=" Ana Lima ")
            await ana.expect(protocol.Registered)
            t.note(
                "Ana's app saves client_id and credential to disk, then logs in on the same"
                " connection"
            )
            await login(ana)
            await ana.expect(protocol.Synced)
        for name in ("Bruno", "Carla", "Dora"):
            party = await connect(name, record=False)
            party.send(protocol.Register, record=False, display_name=name)
            await party.expect(protocol.Registered, record=False)
            if name != "Bruno":  # Bruno adds Ana in 7.3
                await login(party, record=False)
                await party.expect(protocol.Synced, record=False)
                party.send(protocol.AddContact, record=False, client_id=NAMES["Ana"])
                await party.expect(protocol.Contact, record=False)
            await party.close()
        clock.advance(60_000)

        # 7.2 connect
        with t.block("7.2a"):
            bruno = await connect("Bruno")
            await login(bruno)
            await bruno.expect(protocol.Synced)
        with t.block("7.2b"):
            t.note("a connection with a wrong credential for Ana")
            intruder = Party("Ana", t)
            await intruder.open(port)
            intruder.send(protocol.Hello, protocol=2, client="mini/0.1")
            await intruder.expect(protocol.Welcome)
            intruder.send(protocol.Login, client_id=NAMES["Ana"], credential=WRONG_CREDENTIAL)
            await intruder.expect(protocol.Error)
            t.note("the server closes this connection")
        await intruder.close()
        carla_a = await connect("Carla", "Carla A", record=False)
        await login(carla_a, record=False)
        await carla_a.expect(protocol.Synced, record=False)
        with t.block("7.2c"):
            t.note(
                "Carla is logged in on connection A; she logs in again on a new connection B,"
                " after hello and welcome"
            )
            carla_b = await connect("Carla", "Carla B", record=False)
            await login(carla_b)
            await carla_b.expect(protocol.Synced)
            await carla_a.expect(protocol.Goodbye)
            t.note("the server closes connection A")
        await carla_a.close()
        await carla_b.close()
        await settle(server, ana, bruno)

        # 7.3 lookup
        with t.block("7.3a"):
            ana.send(protocol.AddContact, client_id=NAMES["Bruno"])
            await ana.expect(protocol.Contact)
            bruno.send(protocol.AddContact, client_id=NAMES["Ana"])
            await bruno.expect(protocol.Contact)
        with t.block("7.3b"):
            ana.send(protocol.Lookup, client_id="ZZZZ-ZZZZ")
            await ana.expect(protocol.Error)
        clock.advance(7_500)

        # 7.4 send, recipient online
        with t.block("7.4a"):
            ana.send(protocol.Send, key=KEYS["oi"], text="Oi Bruno! Tudo bem?", to=NAMES["Bruno"])
            await ana.expect(protocol.Sent)
            first = await bruno.expect(protocol.Message)
            t.note("Bruno stores the message in his local history, then acknowledges it")
            bruno.send(protocol.Ack, ids=[first.message_id])
            await ana.expect(protocol.Receipts)
        with t.block("7.4b"):
            ana.send(protocol.Send, key=KEYS["oi"], text="Oi Bruno! Tudo bem?", to=NAMES["Bruno"])
            await ana.expect(protocol.Sent)
        await settle(server, ana, bruno)
        clock.advance(4_150)

        # 7.5 read, both online
        with t.block("7.5"):
            bruno.send(protocol.MarkRead, up_to=first.seq, peer=NAMES["Ana"])
            await bruno.expect(protocol.Ok)
            read = await ana.expect(protocol.Receipts)
            t.note(f"Ana's app applies the positions, then stores version {read.version}")
        await settle(server, ana, bruno)
        clock.advance(60_000)

        # 7.6 offline backlog, receipts for an offline sender
        with t.block("7.6a"):
            t.note("Bruno disconnects")
            await bruno.close()
            await settle(server, ana)
            ana.send(protocol.Send, key=KEYS["chego"], text="Chego às 8.", to=NAMES["Bruno"])
            ana.send(protocol.Send, key=KEYS["pode"], text="Pode ser?", to=NAMES["Bruno"])
            await ana.expect(protocol.Sent)
            await ana.expect(protocol.Sent)
            t.note("Ana disconnects")
        await settle(server, ana)
        await ana.close()
        clock.advance(600_000)
        with t.block("7.6b"):
            bruno = await connect("Bruno")
            await login(bruno)
            await bruno.expect(protocol.Message)
            last = await bruno.expect(protocol.Message)
            await bruno.expect(protocol.Synced)
            t.note(
                "Bruno stores both messages, then acknowledges the last one: acks are cumulative"
            )
            bruno.send(protocol.Ack, ids=[last.message_id])
            t.note("Bruno opens the chat")
            bruno.send(protocol.MarkRead, up_to=last.seq, peer=NAMES["Ana"])
            await bruno.expect(protocol.Ok)
        await settle(server, bruno)
        clock.advance(30_000)
        with t.block("7.6c"):
            ana = await connect("Ana")
            await login(ana, since=read.version)
            await ana.expect(protocol.Receipts)
            await ana.expect(protocol.Synced)
        with t.block("7.6d"):
            ana.send(protocol.Ping)
            await ana.expect(protocol.Pong)
        await settle(server, ana, bruno)
        clock.advance(5_000)

        # 7.7 a group, and a group message
        with t.block("7.7a"):
            ana.send(protocol.CreateGroup, name="Família", members=[NAMES["Bruno"], NAMES["Carla"]])
            update_bruno = await bruno.expect(protocol.GroupUpdate)
            update_ana = await ana.expect(protocol.GroupUpdate)
            await ana.expect(protocol.GroupReply)
            ana.send(protocol.Ack, ids=[update_ana.event_id])
            bruno.send(protocol.Ack, ids=[update_bruno.event_id])
        await settle(server, ana, bruno)
        clock.advance(5_000)
        with t.block("7.7b"):
            bruno.send(protocol.Send, key=KEYS["familia"], text="Oi família!", group=GROUP)
            await bruno.expect(protocol.Sent)
            hello_group = await ana.expect(protocol.Message)
            ana.send(protocol.Ack, ids=[hello_group.message_id])
            await bruno.expect(protocol.Receipts)
            carla = await connect("Carla")
            await login(carla)
            await carla.expect(protocol.Receipts)
            created = await carla.expect(protocol.GroupUpdate)
            carla_copy = await carla.expect(protocol.Message)
            await carla.expect(protocol.Synced)
            carla.send(protocol.Ack, ids=[created.event_id, carla_copy.message_id])
            await bruno.expect(protocol.Receipts)
        await settle(server, ana, bruno, carla)
        clock.advance(63_200)
        with t.block("7.7c"):
            carla.send(protocol.MarkRead, up_to=carla_copy.seq, group=GROUP)
            await carla.expect(protocol.Ok)
            await bruno.expect(protocol.Receipts)
        await settle(server, ana, bruno, carla)
        clock.advance(1_000)

        # 7.8 add a member
        with t.block("7.8a"):
            ana.send(protocol.AddMember, group=GROUP, client_id=NAMES["Dora"])
            added = {p: await p.expect(protocol.GroupUpdate) for p in (bruno, carla, ana)}
            await ana.expect(protocol.GroupReply)
            await bruno.expect(protocol.Receipts)
            for party in (ana, bruno, carla):
                party.send(protocol.Ack, ids=[added[party].event_id])
        await settle(server, ana, bruno, carla)
        with t.block("7.8b"):
            bruno.send(protocol.AddMember, group=GROUP, client_id=NAMES["Dora"])
            await bruno.expect(protocol.Error)
        await settle(server, ana, bruno, carla)
        clock.advance(1_000)

        # 7.9 remove a member
        with t.block("7.9"):
            ana.send(protocol.RemoveMember, group=GROUP, client_id=NAMES["Bruno"])
            removed = {p: await p.expect(protocol.GroupUpdate) for p in (bruno, carla, ana)}
            await ana.expect(protocol.GroupReply)
            for party in (ana, bruno, carla):
                party.send(protocol.Ack, ids=[removed[party].event_id])
        await settle(server, ana, bruno, carla)
        clock.advance(1_000)

        # 7.10 leave, hand-over, an offline member's updates
        with t.block("7.10a"):
            ana.send(protocol.LeaveGroup, group=GROUP)
            left = [await p.expect(protocol.GroupUpdate) for p in (carla, ana)]
            await ana.expect(protocol.Ok)
            ana.send(protocol.Ack, ids=[left[1].event_id])
            carla.send(protocol.Ack, ids=[left[0].event_id])
        await settle(server, ana, bruno, carla)
        clock.advance(1_000)
        with t.block("7.10b"):
            dora = await connect("Dora")
            await login(dora)
            await dora.expect(protocol.Receipts)
            updates = [await dora.expect(protocol.GroupUpdate) for _ in range(3)]
            await dora.expect(protocol.Synced)
            dora.send(protocol.Ack, ids=[u.event_id for u in updates])
        await settle(server, dora)
        with t.block("7.10c"):
            carla.send(protocol.ListGroups)
            await carla.expect(protocol.Groups)
        await settle(server, ana, bruno, carla, dora)
        await dora.close()
        clock.advance(3_600_000)
        await conversation_flows(server, clock, t, ana, bruno, carla, connect, login)
    return t.blocks


async def conversation_flows(
    server: MessengerServer,
    clock: Clock,
    t: Transcript,
    ana: Party,
    bruno: Party,
    carla: Party,
    connect: Any,
    login: Any,
) -> None:
    """Section 12: reply, edit and reaction; an offline member's backlog; deletion;
    typing; presence; group settings."""
    # A new group for the trip: Ana, Bruno, and Carla, who goes offline.
    await carla.close()
    ana.send(
        protocol.CreateGroup, record=False, name="Viagem", members=[NAMES["Bruno"], NAMES["Carla"]]
    )
    for party in (bruno, ana):
        created = await party.expect(protocol.GroupUpdate, record=False)
        party.send(protocol.Ack, record=False, ids=[created.event_id])
    await ana.expect(protocol.GroupReply, record=False)
    await settle(server, ana, bruno)
    clock.advance(60_000)

    with t.block("12.1"):
        ana.send(protocol.Send, key=KEYS["sabado"], text="Vamos sábado às 9?", group=TRIP)
        question = await ana.expect(protocol.Sent)
        asked = await bruno.expect(protocol.Message)
        bruno.send(protocol.Ack, ids=[asked.message_id])
        await ana.expect(protocol.Receipts)
        clock.advance(20_000)
        bruno.send(
            protocol.Send,
            key=KEYS["dez"],
            text="Pode ser às 10, Ana?",
            group=TRIP,
            reply_to=protocol.ReplyTo(question.seq, NAMES["Ana"]),
            mentions=[NAMES["Ana"]],
        )
        await bruno.expect(protocol.Sent)
        answer = await ana.expect(protocol.Message)
        ana.send(protocol.Ack, ids=[answer.message_id])
        await bruno.expect(protocol.Receipts)
        clock.advance(15_000)
        ana.send(
            protocol.Edit, key=KEYS["edit"], target=question.seq, text="Vamos sábado às 10?",
            group=TRIP,
        )  # fmt: skip
        await ana.expect(protocol.Sent)
        edited = await bruno.expect(protocol.Edited)
        bruno.send(protocol.Ack, ids=[edited.message_id])
        clock.advance(5_000)
        bruno.send(protocol.React, key=KEYS["joinha"], target=question.seq, emoji="👍", group=TRIP)
        await bruno.expect(protocol.Sent)
        reacted = await ana.expect(protocol.Reacted)
        ana.send(protocol.Ack, ids=[reacted.message_id])
    await settle(server, ana, bruno)
    clock.advance(60_000)

    with t.block("12.2"):
        bruno.send(protocol.Send, key=KEYS["errada"], text="Mensagem errada", group=TRIP)
        mistake = await bruno.expect(protocol.Sent)
        wrong = await ana.expect(protocol.Message)
        ana.send(protocol.Ack, ids=[wrong.message_id])
        await bruno.expect(protocol.Receipts)
        clock.advance(4_000)
        bruno.send(protocol.Delete, key=KEYS["apaga"], target=mistake.seq, group=TRIP)
        await bruno.expect(protocol.Sent)
        deleted = await ana.expect(protocol.Deleted)
        ana.send(protocol.Ack, ids=[deleted.message_id])
    await settle(server, ana, bruno)
    clock.advance(60_000)

    with t.block("12.3"):
        carla = await connect("Carla")
        await login(carla, since=0)
        await carla.expect(protocol.Receipts)
        created = await carla.expect(protocol.GroupUpdate)
        backlog = [
            await carla.expect(kind)
            for kind in (
                protocol.Message,
                protocol.Message,
                protocol.Edited,
                protocol.Reacted,
                protocol.Deleted,
            )
        ]
        await carla.expect(protocol.Synced)
        t.note("Carla stores them all, then acknowledges the update and the last entry")
        carla.send(protocol.Ack, ids=[created.event_id, backlog[-1].message_id])
    await drain_receipts(server, ana, bruno, carla)

    with t.block("12.4"):
        ana.send(protocol.Typing, to=None, group=TRIP, on=True)
        await bruno.expect(protocol.PeerTyping)
        await carla.expect(protocol.PeerTyping)
        t.note("two seconds later Ana's client says it again: within 3 s, the server drops it")
        ana.send(protocol.Typing, to=None, group=TRIP, on=True)
        t.note("Ana empties the draft")
        ana.send(protocol.Typing, to=None, group=TRIP, on=False)
        await bruno.expect(protocol.PeerTyping)
        await carla.expect(protocol.PeerTyping)
    await settle(server, ana, bruno, carla)

    with t.block("12.5a"):
        ana.send(protocol.SetPrivacy, presence="chats")
        await ana.expect(protocol.Privacy)
        bruno.send(protocol.SetPrivacy, presence="chats")
        await bruno.expect(protocol.Privacy)
        await ana.expect(protocol.Presence)
        bruno.send(protocol.GetPresence, client_ids=[NAMES["Ana"], NAMES["Carla"], NAMES["Dora"]])
        await bruno.expect(protocol.Presences)
    await settle(server, ana, bruno, carla)
    clock.advance(30_000)
    with t.block("12.5b"):
        t.note("Bruno closes the app")
        await bruno.close()
        await ana.expect(protocol.Presence)
    await settle(server, ana, carla)
    bruno = await connect("Bruno", record=False)
    await login(bruno, record=False, since=10**9)
    await bruno.expect(protocol.Synced, record=False)
    await ana.expect(protocol.Presence, record=False)
    await settle(server, ana, bruno, carla)
    clock.advance(60_000)

    with t.block("12.6a"):
        ana.send(protocol.UpdateGroup, group=TRIP, name="Viagem a Paraty",
                 description="Sábado, 10h, na rodoviária")  # fmt: skip
        updates = {p: await p.expect(protocol.GroupUpdate) for p in (bruno, carla, ana)}
        await ana.expect(protocol.GroupReply)
        for party in (ana, bruno, carla):
            party.send(protocol.Ack, ids=[updates[party].event_id])
    await settle(server, ana, bruno, carla)
    with t.block("12.6b"):
        ana.send(protocol.SetAdmin, group=TRIP, client_id=NAMES["Bruno"], admin=True)
        updates = {p: await p.expect(protocol.GroupUpdate) for p in (bruno, carla, ana)}
        await ana.expect(protocol.GroupReply)
        for party in (ana, bruno, carla):
            party.send(protocol.Ack, ids=[updates[party].event_id])
        carla.send(protocol.DeleteGroup, group=TRIP)
        await carla.expect(protocol.Error)
    await settle(server, ana, bruno, carla)
    for party in (ana, bruno, carla):
        await party.close()


async def drain_receipts(server: MessengerServer, *parties: Party) -> None:
    """Take the ``receipts`` events the flow does not show, then check for others."""
    for _ in range(3):
        await server.service.context.pipeline.barrier()
        await asyncio.sleep(0.05)
    for party in parties:
        while not party.received.empty():
            frame = protocol.decode_server_frame(party.received.get_nowait())
            assert isinstance(frame, protocol.Receipts), (party.label, frame)


def render(document: str, blocks: dict[str, list[str]]) -> str:
    """``document`` with every transcript block replaced by the generated one."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in blocks:
            raise KeyError(f"docs/protocol.md has a transcript block {name!r} no flow makes")
        return match.group(1) + "\n".join(blocks[name]) + "\n" + match.group(4)

    return BLOCK.sub(replace, document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/protocol.md")
    args = parser.parse_args(argv)
    blocks = asyncio.run(run_flows())
    document = DOC.read_text(encoding="utf-8")
    updated = render(document, blocks)
    if args.write:
        DOC.write_text(updated, encoding="utf-8")
        print(f"wrote {len(blocks)} transcripts into {DOC}")
    else:
        for name, lines in blocks.items():
            print(f"<!-- transcript {name} -->")
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
