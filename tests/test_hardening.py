"""Strangers are bounded: each test reproduces one way a hostile client (logged in or not)
could take the server down, lock someone out or make it hold unbounded memory or disk,
and checks that it no longer can. Real server, real sockets, real SQLite."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from messenger_server import protocol
from messenger_server import server as server_module
from messenger_server.logs import Repeats, shown
from messenger_server.protocol import ErrorCode as Code
from messenger_server.service.registration import LoginThrottle
from messenger_server.session import PRELOGIN_MAX_FRAME_BYTES
from tests.conftest import RunningServer
from tests.wire import Identity, WireClient

pytestmark = pytest.mark.timeout(60)

Factory = Callable[..., Awaitable[RunningServer]]


# --- before login ------------------------------------------------------------------------------


async def test_before_login_a_frame_of_a_few_kib_ends_the_connection(
    server: RunningServer,
) -> None:
    """A connection that never logs in could make the server buffer a 1 MiB frame."""
    client = await server.connect()
    padding = "x" * PRELOGIN_MAX_FRAME_BYTES
    client.send_raw(
        protocol.frame_bytes(
            b'{"type":"register","id":2,"display_name":"Mallory","pad":"%s"}' % padding.encode()
        )
    )
    await client.wait_closed()
    assert client.close_error is not None and client.close_error.code == Code.FRAME_TOO_LARGE


async def test_after_login_large_frames_are_fine(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    _, bob = await server.user("Bob")
    reply = await alice.send("y" * 60_000, to=bob.client_id)
    assert isinstance(reply, protocol.Sent)


async def test_one_address_cannot_take_every_connection_slot(server_factory: Factory) -> None:
    server = await server_factory(max_connections_per_ip=3)
    clients = [await server.connect() for _ in range(3)]
    refused = await server.connect(hello=False)
    await refused.wait_closed()
    assert refused.close_error is not None
    assert refused.close_error.code == Code.TOO_MANY_CONNECTIONS
    await clients[0].close()
    await asyncio.sleep(0.1)
    again = await server.connect()  # a slot of this address came free
    assert isinstance(await again.register("Welcome back"), Identity)


async def test_registrations_from_one_address_are_limited_per_hour(
    server_factory: Factory,
) -> None:
    server = await server_factory(registrations_per_ip_hour=2)
    client = await server.connect()
    await client.register("one")
    await client.register("two")
    reply = await client.request(protocol.Register, display_name="three")
    assert isinstance(reply, protocol.Error) and reply.code == Code.RATE_LIMITED


async def test_invite_codes_made_by_the_administrator_let_people_register(
    server_factory: Factory,
) -> None:
    server = await server_factory(registration="invite", registrations_per_ip_hour=1)
    assert server.storage is not None
    await server.storage.create_invite("7KQM-4XPA-B8NZ", 2, 10**15, 0)  # as the CLI does
    client = await server.connect(hello=False)
    welcome = await client.request(protocol.Hello, protocol=protocol.PROTOCOL_VERSION)
    assert isinstance(welcome, protocol.Welcome) and welcome.registration == "invite"

    reply = await client.request(protocol.Register, display_name="No code")
    assert isinstance(reply, protocol.Error) and reply.code == Code.INVITE_REQUIRED
    reply = await client.request(protocol.Register, display_name="Bad", invite="0000-0000-0000")
    assert isinstance(reply, protocol.Error) and reply.code == Code.INVALID_INVITE
    for name in ("Ana", "Bruno"):  # two uses, and the hourly limit does not apply to invites
        reply = await client.request(protocol.Register, display_name=name, invite="7KQM-4XPA-B8NZ")
        assert isinstance(reply, protocol.Registered), reply
    reply = await client.request(protocol.Register, display_name="Third", invite="7KQM-4XPA-B8NZ")
    assert isinstance(reply, protocol.Error) and reply.code == Code.INVALID_INVITE


async def test_an_expired_invite_is_refused(server_factory: Factory) -> None:
    server = await server_factory(registration="invite")
    assert server.storage is not None
    await server.storage.create_invite("7KQM-4XPA-B8NZ", 5, 1, 0)  # expired in 1970
    client = await server.connect()
    reply = await client.request(protocol.Register, display_name="Late", invite="7KQM-4XPA-B8NZ")
    assert isinstance(reply, protocol.Error) and reply.code == Code.INVALID_INVITE


async def test_wrong_logins_are_slowed_down(server: RunningServer) -> None:
    client = await server.connect()
    victim = await client.register("Victim")
    await client.close()
    wrong = Identity(victim.client_id, "w" * 43, "")
    codes = []
    for _ in range(LoginThrottle.FREE + 2):
        attempt = await server.connect()
        reply = await attempt.login(wrong)
        assert isinstance(reply, protocol.Error)
        codes.append(reply.code)
    free = LoginThrottle.FREE + 1
    assert codes[:free] == [Code.INVALID_CREDENTIALS] * free
    assert codes[-1] == Code.RATE_LIMITED  # the next attempt comes too soon: not even checked


def test_failed_logins_from_one_address_do_not_lock_out_another() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    attacker, victim = ("address", "6.6.6.6"), ("address", "10.0.0.7")
    victim_id = ("identity", "K7QM-4XPA", "10.0.0.7")
    for _ in range(20):
        throttle.failed(attacker, ("identity", "K7QM-4XPA", "6.6.6.6"))
    assert throttle.wait(attacker, ("identity", "K7QM-4XPA", "6.6.6.6")) > 60
    assert throttle.wait(victim, victim_id) == 0  # the victim, elsewhere, logs in at once
    delays = []
    other = ("address", "1.2.3.4")
    for _ in range(8):
        throttle.failed(other)
        delays.append(throttle.wait(other))
    assert delays[: LoginThrottle.FREE] == [0] * LoginThrottle.FREE
    assert delays[LoginThrottle.FREE :] == [2.0, 4.0, 8.0]  # doubling
    now[0] += LoginThrottle.FORGET_AFTER + 1
    throttle.failed(other)
    assert throttle.wait(other) == 0  # an hour later it starts over


# --- logged in ---------------------------------------------------------------------------------


async def test_a_stranger_cannot_put_someone_in_a_group(server: RunningServer) -> None:
    mallory, mallory_id = await server.user("Mallory")
    victim, victim_id = await server.user("Victim")
    reply = await mallory.request(protocol.CreateGroup, name="Spam", members=[victim_id.client_id])
    assert isinstance(reply, protocol.Error) and reply.code == Code.NOT_A_CONTACT
    group = await mallory.request(protocol.CreateGroup, name="Alone", members=[])
    assert isinstance(group, protocol.GroupReply)
    reply = await mallory.request(
        protocol.AddMember, group=group.group.group_id, client_id=victim_id.client_id
    )
    assert isinstance(reply, protocol.Error) and reply.code == Code.NOT_A_CONTACT
    await victim.no_event(protocol.GroupUpdate)

    await victim.add_contacts(mallory_id.client_id)  # now the victim agrees
    reply = await mallory.request(
        protocol.AddMember, group=group.group.group_id, client_id=victim_id.client_id
    )
    assert isinstance(reply, protocol.GroupReply)
    removed = await victim.request(protocol.RemoveContact, client_id=mallory_id.client_id)
    assert isinstance(removed, protocol.Ok)
    reply = await mallory.request(protocol.CreateGroup, name="Again", members=[victim_id.client_id])
    assert isinstance(reply, protocol.Error) and reply.code == Code.NOT_A_CONTACT


async def test_a_client_is_in_a_bounded_number_of_groups(server_factory: Factory) -> None:
    server = await server_factory(max_groups_per_client=2)
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    await bob.add_contacts(alice_id.client_id)
    for name in ("one", "two"):
        reply = await alice.request(protocol.CreateGroup, name=name, members=[])
        assert isinstance(reply, protocol.GroupReply)
    reply = await alice.request(protocol.CreateGroup, name="three", members=[])
    assert isinstance(reply, protocol.Error) and reply.code == Code.TOO_MANY_GROUPS
    reply = await bob.request(protocol.CreateGroup, name="Bob's", members=[])
    assert isinstance(reply, protocol.GroupReply)
    await alice.add_contacts(bob_id.client_id)
    reply = await bob.request(
        protocol.AddMember, group=reply.group.group_id, client_id=alice_id.client_id
    )
    assert isinstance(reply, protocol.Error) and reply.code == Code.TOO_MANY_GROUPS


async def test_the_group_list_comes_in_pages_however_many_groups(
    server_factory: Factory,
) -> None:
    """A client in many large groups used to get one huge ``groups`` reply, larger than
    the output limit: it was cut off at every login."""
    server = await server_factory(max_groups_per_client=200)
    alice, _ = await server.user("Alice")
    created = set()
    for n in range(protocol.MAX_GROUPS_PAGE + 7):
        reply = await alice.request(protocol.CreateGroup, name=f"g{n}", members=[])
        assert isinstance(reply, protocol.GroupReply)
        created.add(reply.group.group_id)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await alice.request(protocol.ListGroups, after=after)
        assert isinstance(page, protocol.Groups)
        assert len(page.groups) <= protocol.MAX_GROUPS_PAGE
        seen += [g.group_id for g in page.groups]
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert pages == 2 and seen == sorted(created)


async def test_nobody_can_fill_a_recipients_queue_without_end(server_factory: Factory) -> None:
    server = await server_factory(max_pending_per_client=5, max_pending_per_sender=1000)
    alice, _ = await server.user("Alice")
    carol, _ = await server.user("Carol")
    bob_conn = await server.connect()
    bob = await bob_conn.register("Bob (offline)")
    await bob_conn.close()
    for n in range(3):
        assert isinstance(await alice.send(f"a{n}", to=bob.client_id), protocol.Sent)
    for n in range(2):
        assert isinstance(await carol.send(f"c{n}", to=bob.client_id), protocol.Sent)
    reply = await alice.send("one too many", to=bob.client_id)
    assert isinstance(reply, protocol.Error) and reply.code == Code.RECIPIENT_FULL

    online = await server.connect()
    await online.login(bob)
    await online.messages(5)  # read and acknowledged: room again
    await online.request(protocol.Ping)
    await asyncio.sleep(0.1)
    assert isinstance(await alice.send("now it fits", to=bob.client_id), protocol.Sent)


async def test_one_sender_cannot_store_without_end(server_factory: Factory) -> None:
    server = await server_factory(max_pending_per_client=1000, max_pending_per_sender=3)
    alice, _ = await server.user("Alice")
    offline = []
    for name in ("B", "C"):
        conn = await server.connect()
        offline.append(await conn.register(name))
        await conn.close()
    for n in range(3):
        assert isinstance(await alice.send(f"{n}", to=offline[n % 2].client_id), protocol.Sent)
    reply = await alice.send("more", to=offline[0].client_id)
    assert isinstance(reply, protocol.Error) and reply.code == Code.QUOTA_EXCEEDED
    assert isinstance(await alice.send("to myself", to=alice.client_id or ""), protocol.Sent)


async def test_a_full_disk_refuses_new_messages_while_acks_reads_and_logins_go_on(
    server_factory: Factory,
) -> None:
    server = await server_factory()
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    sent = await alice.send("before the disk filled", to=bob_id.client_id)
    assert isinstance(sent, protocol.Sent)
    assert server.server is not None
    disk = server.server.service.context.disk
    disk._min_free = 2**62  # as if the disk were full
    disk._checked_at = -1.0

    reply = await alice.send("after", to=bob_id.client_id)
    assert isinstance(reply, protocol.Error) and reply.code == Code.STORAGE_FULL
    reply = await alice.request(protocol.CreateGroup, name="g", members=[])
    assert isinstance(reply, protocol.Error) and reply.code == Code.STORAGE_FULL
    [message] = await bob.messages(1)  # acknowledged
    assert isinstance(
        await bob.request(protocol.MarkRead, up_to=message.seq, peer=alice_id.client_id),
        protocol.Ok,
    )
    await alice.next_event(protocol.Receipts)
    again = await server.connect()
    assert isinstance(await again.login(bob_id), protocol.LoggedIn)


async def test_a_closed_connection_that_does_not_read_is_aborted(
    server_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection closed with output still queued used to stay established, holding its
    buffers, outside ``max_connections``."""
    monkeypatch.setattr(server_module, "CLOSE_GRACE", 0.3)
    server = await server_factory(max_write_buffer=4 * 1024 * 1024)
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    bob.writer.transport.pause_reading()  # Bob's app hangs
    for _ in range(40):  # ~2.4 MB queued for Bob
        assert isinstance(await alice.send("z" * 60_000, to=bob_id.client_id), protocol.Sent)
    assert server.server is not None
    stuck = server.server.sessions[bob_id.client_id]
    replacement = await server.connect()
    await replacement.login(bob_id)  # the old connection is closed: goodbye behind 2.4 MB
    for _ in range(50):
        await asyncio.sleep(0.1)
        if stuck not in server.server.connections:
            break
    assert stuck not in server.server.connections


async def test_undelivered_messages_expire(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob_conn = await server.connect()
    bob = await bob_conn.register("Bob")
    await bob_conn.close()
    await alice.send("never read", to=bob.client_id)
    assert server.storage is not None
    assert await server.storage.expire(before_ts=0, undelivered_before_ts=10**15) == 1
    assert await server.pending(bob.client_id) == 0


# --- logs --------------------------------------------------------------------------------------


async def test_client_input_cannot_forge_log_lines(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="messenger_server")
    client = await server.connect(hello=False)
    client.send_raw(protocol.frame_bytes(b'{"type":"x\\nERROR forged line","id":1}'))
    await client.wait_closed()
    await asyncio.sleep(0.05)
    messages = [record.getMessage() for record in caplog.records]
    assert any("bad_frame" in message for message in messages)  # the close is logged...
    assert all("\n" not in message for message in messages)  # ...on one line
    assert not any("forged" in message for message in messages)


async def test_garbage_in_a_loop_costs_a_few_log_lines(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="messenger_server.server")
    for _ in range(100):
        client = await server.connect(hello=False)
        client.send_raw(protocol.frame_bytes(b"not json"))
        await client.wait_closed()
    closes = [r for r in caplog.records if "closing" in r.getMessage()]
    assert 1 <= len(closes) <= Repeats.BURST


def test_shown_values_are_escaped_and_short() -> None:
    assert shown("a\nb") == "'a\\nb'"
    assert len(shown("x" * 10_000)) == 80


# --- files and TLS -----------------------------------------------------------------------------


def test_the_data_directory_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    os.umask(0o022)  # a permissive umask, as outside systemd
    result = subprocess.run(
        [sys.executable, "-m", "messenger_server", "--data-dir", str(data), "invite", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


async def test_tls_offers_only_authenticated_encryption(
    server_factory: Factory, certificate: tuple[object, Path, Path]
) -> None:
    _ca, cert, key = certificate
    server = await server_factory(tls_cert=cert, tls_key=key)
    assert server.server is not None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA")  # CBC only
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await WireClient.connect(server.port, ssl_context=context)
