"""The client core's connection: states, refusal, replacement, reconnecting, keep-alive,
TLS pinning and a misbehaving server."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trustme

from messenger_gui.client import (
    CertificateError,
    NotConnectedError,
    RequestError,
    backoff_delay,
    register_client,
)
from messenger_gui.connection import MAX_SERVER_FRAME_BYTES, ServerConnection
from messenger_gui.events import (
    BacklogProgress,
    ConnectionState,
    MessagesReceived,
    StateChanged,
)
from messenger_gui.storage import ClientData
from messenger_gui.tls import certificate_fingerprint, same_fingerprint
from messenger_server import protocol
from tests.client_support import (
    FAST,
    Desktops,
    FakeConnection,
    FakeServer,
    eventually,
)
from tests.conftest import RunningServer

ANA = "K7QM-4XPA"
CREDENTIAL = "c" * 43
OFFLINE, CONNECTING, ONLINE, WAITING, REFUSED, REPLACED = (
    ConnectionState.OFFLINE,
    ConnectionState.CONNECTING,
    ConnectionState.ONLINE,
    ConnectionState.WAITING,
    ConnectionState.REFUSED,
    ConnectionState.REPLACED,
)


@pytest.fixture
async def desktops(tmp_path: Path) -> AsyncIterator[Desktops]:
    opened = Desktops(tmp_path / "desktops")
    yield opened
    await opened.close()


def identity_for(port: int, **changes: object) -> ClientData:
    base = ClientData("127.0.0.1", port, False, ANA, CREDENTIAL, "Ana")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def test_a_wrong_credential_is_refused_and_not_retried(
    server: RunningServer, desktops: Desktops
) -> None:
    identity = await register_client("127.0.0.1", server.port, "Alice")
    wrong = dataclasses.replace(identity, credential="x" * 43)
    alice = desktops.open(wrong, "alice")
    refused = await alice.log.wait_state(REFUSED)
    assert refused.error_code == protocol.ErrorCode.INVALID_CREDENTIALS
    assert refused.retry_in is None
    await asyncio.sleep(0.5)  # ten times the first backoff: no new attempt
    assert alice.log.states == [CONNECTING, REFUSED]
    assert not alice.client.running


async def test_an_unknown_id_is_refused(server: RunningServer, desktops: Desktops) -> None:
    stranger = desktops.open(identity_for(server.port, client_id="ZZZZ-ZZZZ"), "stranger")
    refused = await stranger.log.wait_state(REFUSED)
    assert refused.error_code == protocol.ErrorCode.UNKNOWN_CLIENT


async def test_signing_in_elsewhere_replaces_the_session_without_retry(
    server: RunningServer, desktops: Desktops
) -> None:
    identity = await register_client("127.0.0.1", server.port, "Alice")
    laptop = desktops.open(identity, "laptop")
    await laptop.wait_online()
    desktop = desktops.open(identity, "desktop")
    await desktop.wait_online()

    replaced = await laptop.log.wait_state(REPLACED)
    assert replaced.error_code == protocol.ErrorCode.SESSION_REPLACED
    await asyncio.sleep(0.5)
    assert laptop.log.states[-1] == REPLACED and not laptop.client.running
    assert desktop.client.state == ONLINE  # the newest connection keeps the identity

    await desktop.client.stop()
    laptop.client.reconnect_now()  # the user's "connect here"
    await laptop.log.wait_state(ONLINE)


async def test_the_client_reconnects_with_backoff_after_the_server_restarts(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    await server.stop()
    waiting = await alice.log.wait_state(WAITING)
    assert waiting.retry_in is not None and 0 <= waiting.retry_in <= FAST["backoff_cap"]
    # Attempts fail while the server is down; every delay stays within the cap.
    await alice.log.wait(lambda: alice.log.states.count(WAITING) >= 4)
    delays = [e.retry_in for e in alice.log.of(StateChanged) if e.state == WAITING]
    assert all(d is not None and 0 <= d <= FAST["backoff_cap"] for d in delays)

    await server.start()
    await alice.log.wait_state(ONLINE)
    after_restart = alice.log.states[alice.log.states.index(WAITING) :]
    assert after_restart[-3:] == [WAITING, CONNECTING, ONLINE]
    assert OFFLINE not in after_restart


class Ceiling(random.Random):
    """A jitter source that always picks the longest delay allowed."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_is_full_jitter_doubling_from_half_a_second_up_to_30() -> None:
    rng = random.Random(7)
    for failures, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (99, 30.0)]:
        delays = [backoff_delay(failures, 0.5, 30.0, rng) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # full range
        assert backoff_delay(failures, 0.5, 30.0, Ceiling()) == ceiling


async def test_backoff_doubles_while_failing_and_resets_after_a_login(
    server: RunningServer, desktops: Desktops
) -> None:
    identity = await register_client("127.0.0.1", server.port, "Alice")
    alice = desktops.open(identity, "alice", rng=Ceiling(), backoff_base=0.02, backoff_cap=0.08)
    await alice.wait_online()

    def delays() -> list[float | None]:
        return [e.retry_in for e in alice.log.of(StateChanged) if e.state == WAITING]

    await server.stop()
    await alice.log.wait(lambda: len(delays()) >= 5)
    assert delays()[:5] == [0.02, 0.04, 0.08, 0.08, 0.08]
    await server.start()
    await alice.log.wait_state(ONLINE)
    count = len(delays())
    await server.stop()
    await alice.log.wait(lambda: len(delays()) >= count + 2)
    assert delays()[count : count + 2] == [0.02, 0.04]  # reset by the login


async def test_reconnect_now_skips_the_wait(desktops: Desktops) -> None:
    fake = FakeServer(lambda connection, frame: None)
    port = await fake.start()
    await fake.close()  # nothing listens there any more
    user = desktops.open(
        identity_for(port), "ana", rng=Ceiling(), backoff_base=60.0, backoff_cap=60.0
    )
    waiting = await user.log.wait_state(WAITING)
    assert waiting.retry_in == 60.0
    user.client.reconnect_now()
    await user.log.wait(lambda: user.log.states.count(CONNECTING) == 2, timeout=2)


async def test_requests_need_a_connection_but_sending_does_not(
    server: RunningServer, desktops: Desktops
) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    alice = await desktops.user(server.port, "Alice", start=False)
    assert alice.client.state == OFFLINE
    for call in (
        alice.client.lookup(bruno.id),
        alice.client.create_group("g", []),
        alice.client.refresh_groups(),
        alice.client.leave_group("G-Q2RT-8HVB"),
    ):
        with pytest.raises(NotConnectedError):
            await call
    queued = await alice.client.send_message(bruno.id, False, "later")
    assert queued.status == "queued"


async def test_a_closed_registration_is_reported(server_factory) -> None:  # type: ignore[no-untyped-def]
    closed: RunningServer = await server_factory(registration="closed")
    with pytest.raises(RequestError) as refused:
        await register_client("127.0.0.1", closed.port, "Alice")
    assert refused.value.code == protocol.ErrorCode.REGISTRATION_CLOSED


async def test_registering_with_an_unreachable_server_or_a_bad_name_fails_clearly() -> None:
    fake = FakeServer(lambda connection, frame: None)
    port = await fake.start()
    await fake.close()
    with pytest.raises(NotConnectedError):
        await register_client("127.0.0.1", port, "Alice", timeout=2)
    for name in ("", "   ", "x" * 65, "tab\there"):
        with pytest.raises(ValueError):
            await register_client("127.0.0.1", port, name)


# --- a misbehaving server ------------------------------------------------------------------


def scripted(
    after_login: bytes = b"",
    *,
    answer_pings: bool = True,
    other: Callable[[FakeConnection, protocol.ClientFrame], None] | None = None,
) -> FakeServer:
    """A fake server that greets and logs in anyone, then writes ``after_login``; frames
    it does not script go to ``other``."""

    def on_frame(connection: FakeConnection, frame: protocol.ClientFrame) -> None:
        match frame:
            case protocol.Hello():
                connection.reply(
                    protocol.Welcome(
                        frame.id, protocol.PROTOCOL_VERSION, "fake/0", "open", protocol.Limits()
                    )
                )
            case protocol.Login():
                connection.reply(protocol.LoggedIn(frame.id, frame.client_id, "Ana", 0))
                if after_login:
                    connection.raw(after_login)
            case protocol.ListGroups():
                connection.reply(protocol.Groups(frame.id, []))
            case protocol.Ping() if answer_pings:
                connection.reply(protocol.Pong(frame.id, 1))
            case _ if other is not None:
                other(connection, frame)

    return FakeServer(on_frame)


@pytest.mark.parametrize(
    "garbage",
    [
        protocol.frame_bytes(b"not json at all"),
        protocol.frame_bytes(b'{"type":"message","message_id":"one"}'),
        protocol.HEADER.pack(MAX_SERVER_FRAME_BYTES + 1),
    ],
    ids=["not-json", "invalid-field", "oversize-header"],
)
async def test_a_garbage_frame_makes_the_client_reconnect(
    desktops: Desktops, garbage: bytes
) -> None:
    fake = scripted(garbage)
    port = await fake.start()
    try:
        user = desktops.open(identity_for(port), "ana")
        await user.log.wait(lambda: len(fake.connections) >= 3)
        waiting = [e for e in user.log.of(StateChanged) if e.state == WAITING]
        assert waiting and "malformed" in waiting[0].message
        assert user.log.states[:4] == [CONNECTING, ONLINE, WAITING, CONNECTING]
        assert user.store.outbox() == []  # nothing stored from the garbage
    finally:
        await fake.close()


async def test_an_event_of_an_unknown_type_is_ignored(desktops: Desktops) -> None:
    later = protocol.Message(1, 1, 1, "B8NZ-2FHC", "Bruno", "after the unknown event", to=ANA)
    fake = scripted(
        protocol.frame_bytes(b'{"type":"sticker","by":"B8NZ-2FHC"}') + protocol.encode(later)
    )
    port = await fake.start()
    try:
        user = desktops.open(identity_for(port), "ana")
        await user.log.wait(lambda: bool(user.log.of(MessagesReceived)))
        await asyncio.sleep(0.2)
        assert user.log.states == [CONNECTING, ONLINE]  # no reconnect
        assert len(fake.connections) == 1
    finally:
        await fake.close()


async def test_a_request_fails_when_the_connection_breaks_or_no_reply_comes(
    desktops: Desktops,
) -> None:
    def on_lookup(connection: FakeConnection, frame: protocol.ClientFrame) -> None:
        if isinstance(frame, protocol.Lookup) and frame.client_id == "B8NZ-2FHC":
            connection.writer.transport.abort()  # any other lookup: never answered

    fake = scripted(other=on_lookup)
    port = await fake.start()
    try:
        user = desktops.open(identity_for(port), "ana", request_timeout=0.3)
        await user.wait_online()
        with pytest.raises(NotConnectedError):
            await user.client.lookup("B8NZ-2FHC")
        await user.log.wait(lambda: user.log.states.count(ONLINE) == 2)

        with pytest.raises(RequestError) as unanswered:
            await user.client.lookup("R5TV-6JWE")
        assert unanswered.value.code == protocol.ErrorCode.TIMEOUT
        await user.log.wait(lambda: user.log.states.count(ONLINE) == 3)  # a fresh connection
        assert len(fake.connections) == 3
    finally:
        await fake.close()


async def test_a_silent_server_is_detected_by_keepalive(desktops: Desktops) -> None:
    fake = scripted(answer_pings=False)
    port = await fake.start()
    try:
        user = desktops.open(
            identity_for(port), "ana", ping_interval=0.1, pong_timeout=0.2, request_timeout=30
        )
        waiting = await user.log.wait_state(WAITING, timeout=5)
        assert "Ping" in waiting.message
        pings = [f for f in fake.connections[0].received if isinstance(f, protocol.Ping)]
        assert len(pings) == 1
    finally:
        await fake.close()


async def test_keepalive_pings_keep_a_quiet_connection_open(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice", ping_interval=0.05, pong_timeout=1.0)
    await asyncio.sleep(0.5)
    assert alice.log.states == [CONNECTING, ONLINE]


async def test_acks_are_split_at_the_protocol_limit() -> None:
    """Real sockets (a socket pair), no server: what ``send_ack`` writes."""
    near, far = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=near)
    far_reader, far_writer = await asyncio.open_connection(sock=far)
    connection = ServerConnection(reader, writer, lambda _connection, _frames: None)
    try:
        ids = list(range(1, 2 * protocol.MAX_ACK_IDS + 100))
        connection.send_ack(ids)
        frames = protocol.FrameReader()
        acks: list[protocol.Ack] = []
        while sum(len(a.ids) for a in acks) < len(ids):
            frames.feed(await asyncio.wait_for(far_reader.read(65536), 5))
            for payload in frames.frames():
                ack = protocol.decode_client_frame(payload)
                assert isinstance(ack, protocol.Ack)
                acks.append(ack)
        assert [len(a.ids) for a in acks] == [protocol.MAX_ACK_IDS, protocol.MAX_ACK_IDS, 99]
        assert [i for a in acks for i in a.ids] == ids
    finally:
        await connection.close()
        far_writer.close()


async def test_a_backlog_chunk_is_acknowledged_with_the_last_id_of_each_conversation(
    desktops: Desktops,
) -> None:
    bruno, carla = "B8NZ-2FHC", "R5TV-6JWE"
    backlog = b"".join(
        protocol.encode(
            protocol.Message(
                message_id=n,
                seq=n,
                ts=1,
                sender=bruno if n % 3 else carla,
                sender_name="Someone",
                text=f"m{n}",
                to=ANA,
            )
        )
        for n in range(1, 1501)
    )
    fake = scripted(backlog + protocol.encode(protocol.Synced()))
    port = await fake.start()
    try:
        user = desktops.open(identity_for(port), "ana")

        def acked() -> list[int]:
            if not fake.connections:
                return []
            return [
                i
                for f in fake.connections[0].received
                if isinstance(f, protocol.Ack)
                for i in f.ids
            ]

        await eventually(lambda: 1499 in acked() and 1500 in acked())
        await eventually(lambda: user.store.message_count(bruno) == 1000)
        assert user.store.message_count(carla) == 500
        assert sum(len(e.messages) for e in user.log.of(MessagesReceived)) == 1500
        # Cumulative: at most one id per conversation and chunk read.
        acks = [f for f in fake.connections[0].received if isinstance(f, protocol.Ack)]
        assert all(len(a.ids) <= 2 for a in acks) and len(acked()) < 100
    finally:
        await fake.close()


async def test_synced_ends_a_backlog_shorter_than_announced_at_once(desktops: Desktops) -> None:
    def message(n: int) -> protocol.Message:
        return protocol.Message(n, n, 1, "B8NZ-2FHC", "Bruno", f"m{n}", to=ANA)

    def on_frame(connection: FakeConnection, frame: protocol.ClientFrame) -> None:
        if isinstance(frame, protocol.Hello):
            connection.reply(
                protocol.Welcome(
                    frame.id, protocol.PROTOCOL_VERSION, "fake/0", "open", protocol.Limits()
                )
            )
        elif isinstance(frame, protocol.Login):
            connection.reply(protocol.LoggedIn(frame.id, frame.client_id, "Ana", 5))
            # 5 announced, 2 come (3 were acknowledged meanwhile), then a live one.
            connection.raw(
                protocol.encode(message(1))
                + protocol.encode(message(2))
                + protocol.encode(protocol.Synced())
                + protocol.encode(message(3))
            )
        elif isinstance(frame, protocol.ListGroups):
            connection.reply(protocol.Groups(frame.id, []))

    fake = FakeServer(on_frame)
    port = await fake.start()
    try:
        user = desktops.open(identity_for(port), "ana")
        started = asyncio.get_running_loop().time()
        await user.log.wait(lambda: BacklogProgress(5, 5) in user.log.events, timeout=3)
        assert asyncio.get_running_loop().time() - started < 1  # no quiet spell awaited
        assert user.log.of(BacklogProgress)[0] == BacklogProgress(0, 5)
        await user.log.wait(lambda: user.store.message_count("B8NZ-2FHC") == 3)
        received = [(m.text, e.backlog) for e in user.log.of(MessagesReceived) for m in e.messages]
        assert received == [("m1", True), ("m2", True), ("m3", False)]
    finally:
        await fake.close()


# --- TLS -----------------------------------------------------------------------------------


def write_certificate(ca: trustme.CA, directory: Path) -> tuple[Path, Path]:
    cert = ca.issue_cert("localhost", "127.0.0.1")
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return cert_path, key_path


async def test_tls_trust_on_first_use_pins_the_certificate_and_refuses_another(
    server_factory,  # type: ignore[no-untyped-def]
    desktops: Desktops,
    tmp_path: Path,
) -> None:
    first_cert, first_key = write_certificate(trustme.CA(), tmp_path / "first")
    first: RunningServer = await server_factory(tls_cert=first_cert, tls_key=first_key)
    identity = await register_client("127.0.0.1", first.port, "Alice", use_tls=True)
    assert identity.use_tls and identity.tls_fingerprint is not None
    assert len(identity.tls_fingerprint) == 95  # 32 bytes as AB:CD:...

    alice = desktops.open(identity, "alice")
    await alice.wait_online()
    await alice.client.stop()

    # Another server (another certificate) where the pinned one was expected.
    other_cert, other_key = write_certificate(trustme.CA(), tmp_path / "other")
    other: RunningServer = await server_factory(tls_cert=other_cert, tls_key=other_key)
    moved = desktops.open(dataclasses.replace(identity, server_port=other.port), "moved")
    refused = await moved.log.wait_state(REFUSED)
    assert refused.error_code == "certificate_mismatch"
    assert identity.tls_fingerprint in refused.message
    await asyncio.sleep(0.3)
    assert moved.log.states == [CONNECTING, REFUSED]


async def test_tls_verified_by_a_ca_needs_no_pin(
    server_factory,  # type: ignore[no-untyped-def]
    desktops: Desktops,
    tmp_path: Path,
) -> None:
    ca = trustme.CA()
    cert_path, key_path = write_certificate(ca, tmp_path / "server")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server: RunningServer = await server_factory(tls_cert=cert_path, tls_key=key_path)

    identity = await register_client(
        "127.0.0.1", server.port, "Alice", use_tls=True, ca_file=ca_file
    )
    assert identity.tls_fingerprint is None
    alice = desktops.open(identity, "alice", ca_file=ca_file)
    await alice.wait_online()

    # Without the CA (system store only) the same certificate is not trusted.
    with pytest.raises(CertificateError) as untrusted:
        await register_client(
            "127.0.0.1", server.port, "Bob", use_tls=True, trust_on_first_use=False
        )
    assert untrusted.value.code == "certificate_untrusted"
    stranger = desktops.open(identity, "stranger")
    refused = await stranger.log.wait_state(REFUSED)
    assert refused.error_code == "certificate_untrusted"


def test_fingerprints_compare_ignoring_case_and_colons() -> None:
    fingerprint = certificate_fingerprint(b"certificate bytes")
    assert fingerprint.count(":") == 31 and fingerprint == fingerprint.upper()
    assert same_fingerprint(fingerprint, fingerprint.replace(":", "").lower())
    assert not same_fingerprint(fingerprint, certificate_fingerprint(b"other bytes"))
