"""End to end: real server, real sockets on 127.0.0.1, real SQLite files."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from messenger_server import protocol
from messenger_server.protocol import ErrorCode
from tests.conftest import RunningServer
from tests.wire import Identity

pytestmark = pytest.mark.timeout(30)


async def test_register_connect_send_delivered(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")

    sent = await alice.send("Olá, Bob!", to=bob_id.client_id)
    assert isinstance(sent, protocol.Sent) and not sent.duplicate

    [message] = await bob.messages(1)
    assert (message.sender, message.sender_name, message.text, message.to) == (
        alice_id.client_id,
        "Alice",
        "Olá, Bob!",
        bob_id.client_id,
    )
    assert (message.message_id, message.seq, message.ts) == (sent.message_id, sent.seq, sent.ts)

    receipts = await alice.next_event(protocol.Receipts)
    [receipt] = receipts.receipts
    assert (receipt.by, receipt.group, receipt.delivered, receipt.read) == (
        bob_id.client_id,
        None,
        sent.seq,
        0,
    )
    assert await server.pending(bob_id.client_id) == 0


async def test_registered_ids_are_random_and_readable(server: RunningServer) -> None:
    client = await server.connect()
    ids = [(await client.register(f"user {i}")).client_id for i in range(20)]
    assert len(set(ids)) == 20
    assert all(len(i) == 9 and i[4] == "-" for i in ids)
    assert sorted(ids) != ids or len(set(i[:4] for i in ids)) > 1


async def test_offline_recipient_gets_every_pending_message_in_order(
    server: RunningServer,
) -> None:
    alice, _ = await server.user("Alice")
    bob_conn = await server.connect()
    bob_id = await bob_conn.register("Bob")
    await bob_conn.close()

    texts = [f"message {i}" for i in range(50)]
    for text in texts:
        assert isinstance(await alice.send(text, to=bob_id.client_id), protocol.Sent)

    bob = await server.connect()
    logged_in = await bob.login(bob_id)
    assert isinstance(logged_in, protocol.LoggedIn) and logged_in.pending == 50
    received = await bob.messages(50)
    assert [m.text for m in received] == texts
    seqs = [m.seq for m in received]
    assert seqs == sorted(seqs) and len(set(seqs)) == 50


async def test_unacknowledged_messages_are_sent_again_on_reconnect(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    await alice.send("first", to=bob_id.client_id)
    [unacked] = await bob.messages(1, ack=False)
    await bob.close()

    bob = await server.connect()
    await bob.login(bob_id)
    [again] = await bob.messages(1)
    assert again.message_id == unacked.message_id
    await bob.close()

    bob = await server.connect()
    await bob.login(bob_id)
    await bob.no_event(protocol.Message)


async def test_read_confirmation_reaches_an_offline_sender_later(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    sent = await alice.send("did you read this?", to=bob_id.client_id)
    [message] = await bob.messages(1)
    delivered = await alice.next_event(protocol.Receipts)
    await alice.close()
    await asyncio.sleep(0.05)

    reply = await bob.request(protocol.MarkRead, up_to=message.seq, peer=alice_id.client_id)
    assert isinstance(reply, protocol.Ok)

    alice = await server.connect()
    await alice.login(alice_id, receipts_since=delivered.version)
    receipts = await alice.next_event(protocol.Receipts)
    assert receipts.version > delivered.version
    assert [(r.by, r.group, r.delivered, r.read) for r in receipts.receipts] == [
        (bob_id.client_id, None, sent.seq, sent.seq)
    ]
    await alice.next_event(protocol.Synced)
    await alice.close()

    # A client that stored the version is not told again; one that did not, is.
    again = await server.connect()
    await again.login(alice_id, receipts_since=receipts.version)
    await again.next_event(protocol.Synced)
    await again.no_event(protocol.Receipts)
    await again.close()
    fresh = await server.connect()
    await fresh.login(alice_id)
    replayed = await fresh.next_event(protocol.Receipts)
    assert replayed.receipts == receipts.receipts


async def test_delivered_position_reaches_an_offline_sender(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob_conn = await server.connect()
    bob_id = await bob_conn.register("Bob")
    await bob_conn.close()
    sent = await alice.send("while you were away", to=bob_id.client_id)
    await alice.close()

    bob = await server.connect()
    await bob.login(bob_id)
    await bob.messages(1)
    await bob.request(protocol.Ping)

    alice = await server.connect()
    await alice.login(alice_id)
    receipts = await alice.next_event(protocol.Receipts)
    assert [(r.by, r.delivered, r.read) for r in receipts.receipts] == [
        (bob_id.client_id, sent.seq, 0)
    ]


async def test_read_receipt_reaches_an_online_sender_at_once(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    sent = await alice.send("hi", to=bob_id.client_id)
    await bob.messages(1)
    delivered = await alice.next_event(protocol.Receipts)
    await bob.request(protocol.MarkRead, up_to=sent.seq, peer=alice_id.client_id)
    read = await alice.next_event(protocol.Receipts)
    assert read.version > delivered.version
    assert [(r.by, r.delivered, r.read) for r in read.receipts] == [
        (bob_id.client_id, sent.seq, sent.seq)
    ]


async def test_receipts_seen_by_a_dropped_connection_come_again(server: RunningServer) -> None:
    """A sender whose connection dies before it stores its receipts (a laptop going to
    sleep) still gets the ticks: it logs in with the last version it stored."""
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    sent = await alice.send("hi", to=bob_id.client_id)
    await bob.messages(1)
    await bob.request(protocol.MarkRead, up_to=sent.seq, peer=alice_id.client_id)
    await alice.next_event(protocol.Receipts)  # seen live, never stored
    await alice.close()

    alice = await server.connect()
    await alice.login(alice_id, receipts_since=0)
    receipts = await alice.next_event(protocol.Receipts)
    assert [(r.by, r.delivered, r.read) for r in receipts.receipts] == [
        (bob_id.client_id, sent.seq, sent.seq)
    ]


async def test_a_cumulative_ack_covers_the_earlier_messages(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    for i in range(5):
        await alice.send(f"m{i}", to=bob_id.client_id)
    received = await bob.messages(5, ack=False)
    bob.ack([received[-1].message_id])  # the last one only
    await bob.request(protocol.Ping)
    receipts = await alice.next_event(protocol.Receipts)
    assert receipts.receipts[0].delivered == received[-1].seq
    assert await server.pending(bob_id.client_id) == 0
    await bob.close()
    bob = await server.connect()
    await bob.login(bob_id)
    await bob.next_event(protocol.Synced)
    await bob.no_event(protocol.Message)


async def test_group_receipts_tell_the_sender_where_each_member_stands(
    server: RunningServer,
) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    carol_conn = await server.connect()
    carol_id = await carol_conn.register("Carol")
    await carol_conn.close()
    await bob.add_contacts(alice_id.client_id)
    await server.introduce(carol_id, alice_id)
    group = (
        await alice.request(
            protocol.CreateGroup, name="Trio", members=[bob_id.client_id, carol_id.client_id]
        )
    ).group
    sent = await alice.send("hello both", group=group.group_id)
    await bob.messages(1)
    receipts = await alice.next_event(protocol.Receipts)
    assert [(r.by, r.group, r.delivered) for r in receipts.receipts] == [
        (bob_id.client_id, group.group_id, sent.seq)
    ]  # delivered to 1 of 2: Carol is offline

    await bob.request(protocol.MarkRead, up_to=sent.seq, group=group.group_id)
    read = await alice.next_event(protocol.Receipts)
    assert [(r.by, r.read) for r in read.receipts] == [(bob_id.client_id, sent.seq)]

    carol = await server.connect()
    await carol.login(carol_id)
    await carol.messages(1)
    carol_receipt = await alice.next_event(protocol.Receipts)
    [carol_at] = carol_receipt.receipts
    assert (carol_at.by, carol_at.delivered) == (carol_id.client_id, sent.seq)
    assert carol_at.read < sent.seq  # delivered to 2 of 2, read by 1 of 2
    # Bob, who sent nothing, hears of nobody's progress.
    await bob.no_event(protocol.Receipts)


async def test_a_new_members_starting_marker_reaches_a_sender_that_stored_a_later_version(
    server: RunningServer,
) -> None:
    """A member added to a group starts with a marker at the end of the group's log, which
    counts every earlier message as delivered to it: the senders hear of it, live, so that
    their earlier messages stay "delivered to all" (found while porting the app)."""
    alice, alice_identity = await server.user("Alice")
    bruno, bruno_identity = await server.user("Bruno")
    dave, dave_identity = await server.user("Dave")
    await bruno.add_contacts(alice_identity.client_id)
    await dave.add_contacts(alice_identity.client_id)
    created = await alice.request(
        protocol.CreateGroup, name="Trio", members=[bruno_identity.client_id]
    )
    assert isinstance(created, protocol.GroupReply)
    group = created.group.group_id
    sent = await alice.send("before Dave joined", group=group)
    assert isinstance(sent, protocol.Sent)
    [message] = await bruno.messages(1)  # acknowledged: Bruno's marker reaches Alice live

    added = await alice.request(protocol.AddMember, group=group, client_id=dave_identity.client_id)
    assert isinstance(added, protocol.GroupReply)
    ok = await bruno.request(protocol.MarkRead, up_to=message.seq, group=group)
    assert isinstance(ok, protocol.Ok)

    # Every receipts event Alice gets live, until one carries Bruno's read marker.
    heard: list[protocol.Receipt] = []
    version = 0
    while not any(r.by == bruno_identity.client_id and r.read >= sent.seq for r in heard):
        event = await alice.next_event(protocol.Receipts)
        heard += event.receipts
        version = max(version, event.version)
    await alice.close()

    # Alice's app stored ``version``; it logs in again from there.
    again = await server.connect()
    await again.login(alice_identity, receipts_since=version)
    while True:
        event = await again.next_event((protocol.Receipts, protocol.Synced))
        if isinstance(event, protocol.Synced):
            break
        heard += event.receipts

    dave = [r for r in heard if r.by == dave_identity.client_id and r.group == group]
    assert dave and dave[-1].delivered >= sent.seq, "Dave's starting marker never came"


async def test_the_backlog_ends_with_synced(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob_conn = await server.connect()
    bob_id = await bob_conn.register("Bob")
    await bob_conn.close()
    for i in range(3):
        await alice.send(f"m{i}", to=bob_id.client_id)
    bob = await server.connect()
    await bob.login(bob_id)
    kinds = []
    while not kinds or kinds[-1] != "synced":
        event = await bob.next_event()
        kinds.append(type(event).__name__.lower())
    assert kinds == ["message", "message", "message", "synced"]


async def test_protocol_1_clients_are_told_to_update(server: RunningServer) -> None:
    client = await server.connect(hello=False)
    client.send_frame(protocol.Hello(id=1, protocol=1))
    await client.wait_closed()
    assert client.close_error is not None
    assert client.close_error.code == ErrorCode.UNSUPPORTED_VERSION
    assert "protocol 2" in client.close_error.message


async def test_group_fan_out_reaches_online_and_offline_members(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    carol_conn = await server.connect()
    carol_id = await carol_conn.register("Carol")
    await carol_conn.close()
    await bob.add_contacts(alice_id.client_id)
    await server.introduce(carol_id, alice_id)

    reply = await alice.request(
        protocol.CreateGroup, name="Família", members=[bob_id.client_id, carol_id.client_id]
    )
    assert isinstance(reply, protocol.GroupReply)
    group = reply.group
    assert {m.client_id for m in group.members} == {
        alice_id.client_id,
        bob_id.client_id,
        carol_id.client_id,
    }
    assert [m.client_id for m in group.members if m.admin] == [alice_id.client_id]

    update = await bob.next_event(protocol.GroupUpdate)
    assert (update.change, update.group.group_id) == ("created", group.group_id)
    bob.ack([update.event_id])

    await alice.send("hello group", group=group.group_id)
    await bob.send("hi all", group=group.group_id)
    [from_alice, from_bob_to_alice] = [(await bob.messages(1))[0], (await alice.messages(1))[0]]
    assert from_alice.group == group.group_id and from_alice.text == "hello group"
    assert from_bob_to_alice.text == "hi all"

    carol = await server.connect()
    await carol.login(carol_id)
    created = await carol.next_event(protocol.GroupUpdate)
    assert created.group.name == "Família"
    carol.ack([created.event_id])
    received = await carol.messages(2)
    assert [m.text for m in received] == ["hello group", "hi all"]
    assert received[0].seq < received[1].seq


async def test_idempotent_resend_creates_no_duplicate(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    first = await alice.send("only once", to=bob_id.client_id, key="resend-key-1")
    again = await alice.send("only once", to=bob_id.client_id, key="resend-key-1")
    assert isinstance(first, protocol.Sent) and isinstance(again, protocol.Sent)
    assert again.duplicate and not first.duplicate
    assert (again.message_id, again.seq, again.ts) == (first.message_id, first.seq, first.ts)
    await bob.messages(1)
    await bob.no_event(protocol.Message)


async def test_resend_in_the_same_batch_is_one_message(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    frames, futures = [], []
    for _ in range(3):
        frame, future = alice.new_request(
            protocol.Send, key="same-key", text="x", to=bob_id.client_id
        )
        frames.append(protocol.encode(frame))
        futures.append(future)
    alice.send_raw(b"".join(frames))  # one chunk: one storage batch
    replies = await asyncio.gather(*futures)
    assert len({r.message_id for r in replies}) == 1
    assert [r.duplicate for r in replies] == [False, True, True]
    await bob.messages(1)
    await bob.no_event(protocol.Message)


async def test_wrong_credential_is_refused(server: RunningServer) -> None:
    client = await server.connect()
    identity = await client.register("Alice")
    reply = await client.login(Identity(identity.client_id, "x" * 43, "Alice"))
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.INVALID_CREDENTIALS
    await client.wait_closed()


async def test_unknown_id_is_refused(server: RunningServer) -> None:
    client = await server.connect()
    reply = await client.login(Identity("ZZZZ-ZZZZ", "x" * 43, "nobody"))
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.UNKNOWN_CLIENT
    await client.wait_closed()


async def test_disabled_client_cannot_log_in(server: RunningServer) -> None:
    client = await server.connect()
    identity = await client.register("Mallory")
    await server.storage.set_client_disabled(identity.client_id, True)
    reply = await client.login(identity)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.CLIENT_DISABLED


async def test_nothing_but_hello_and_login_before_authentication(server: RunningServer) -> None:
    client = await server.connect()
    reply = await client.request(protocol.Lookup, client_id="ABCD-EFGH")
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_AUTHENTICATED
    reply = await client.send("hi", to="ABCD-EFGH")
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_AUTHENTICATED


async def test_first_frame_must_be_hello(server: RunningServer) -> None:
    client = await server.connect(hello=False)
    client.send_frame(protocol.Register(id=1, display_name="x"))
    await client.wait_closed()
    assert client.close_error is not None and client.close_error.code == ErrorCode.HELLO_REQUIRED


async def test_unsupported_protocol_version_is_refused(server: RunningServer) -> None:
    client = await server.connect(hello=False)
    client.send_frame(protocol.Hello(id=1, protocol=99))
    await client.wait_closed()
    assert client.close_error is not None
    assert client.close_error.code == ErrorCode.UNSUPPORTED_VERSION


async def test_nobody_can_send_as_another_id(server: RunningServer) -> None:
    """The sender is the authenticated identity; there is no field to claim another."""
    _alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    carol, _ = await server.user("Carol")
    # A forged "sender" field is ignored: the message is from Carol.
    alice_raw = b'{"type":"send","id":77,"key":"forged","text":"hi","to":"%s","sender":"%s"}' % (
        bob_id.client_id.encode(),
        alice_id.client_id.encode(),
    )
    future = carol.expect_reply(77)
    carol.send_raw(protocol.frame_bytes(alice_raw))
    assert isinstance(await asyncio.wait_for(future, 5), protocol.Sent)
    [message] = await bob.messages(1)
    assert message.sender == carol.client_id != alice_id.client_id


async def test_logging_in_as_another_needs_their_credential(server: RunningServer) -> None:
    _alice, alice_id = await server.user("Alice")
    mallory, mallory_id = await server.user("Mallory")
    reply = await mallory.request(
        protocol.Login, client_id=alice_id.client_id, credential=mallory_id.credential
    )
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.ALREADY_AUTHENTICATED
    intruder = await server.connect()
    reply = await intruder.login(Identity(alice_id.client_id, mallory_id.credential, ""))
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.INVALID_CREDENTIALS


async def test_only_members_post_to_a_group(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    outsider, _ = await server.user("Eve")
    await bob.add_contacts(alice_id.client_id)
    group = (await alice.request(protocol.CreateGroup, name="g", members=[bob_id.client_id])).group
    reply = await outsider.send("let me in", group=group.group_id)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_A_MEMBER
    reply = await outsider.send("hello?", group="G-0000-0000")
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.UNKNOWN_GROUP
    await bob.no_event(protocol.Message)


async def test_only_admins_change_membership(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    carol, carol_id = await server.user("Carol")
    await bob.add_contacts(alice_id.client_id)
    await carol.add_contacts(alice_id.client_id)
    group = (await alice.request(protocol.CreateGroup, name="g", members=[bob_id.client_id])).group

    reply = await bob.request(
        protocol.AddMember, group=group.group_id, client_id=carol_id.client_id
    )
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_ADMIN
    reply = await bob.request(
        protocol.RemoveMember, group=group.group_id, client_id=alice_id.client_id
    )
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_ADMIN
    reply = await carol.request(
        protocol.AddMember, group=group.group_id, client_id=carol_id.client_id
    )
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_A_MEMBER

    reply = await alice.request(
        protocol.AddMember, group=group.group_id, client_id=carol_id.client_id
    )
    assert isinstance(reply, protocol.GroupReply) and len(reply.group.members) == 3
    added = await carol.next_event(protocol.GroupUpdate)
    assert (added.change, added.subject) == ("member_added", carol_id.client_id)

    reply = await alice.request(
        protocol.RemoveMember, group=group.group_id, client_id=bob_id.client_id
    )
    assert isinstance(reply, protocol.GroupReply)
    removed = await bob.next_event(protocol.GroupUpdate)
    while removed.change != "member_removed":
        removed = await bob.next_event(protocol.GroupUpdate)
    assert bob_id.client_id not in {m.client_id for m in removed.group.members}
    reply = await bob.send("still here?", group=group.group_id)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.NOT_A_MEMBER


async def test_offline_member_learns_of_removal_on_connect(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob_conn = await server.connect()
    bob_id = await bob_conn.register("Bob")
    await bob_conn.close()
    await server.introduce(bob_id, alice_id)
    group = (await alice.request(protocol.CreateGroup, name="g", members=[bob_id.client_id])).group
    await alice.request(protocol.RemoveMember, group=group.group_id, client_id=bob_id.client_id)

    bob = await server.connect()
    await bob.login(bob_id)
    changes = [(await bob.next_event(protocol.GroupUpdate)).change for _ in range(2)]
    assert changes == ["created", "member_removed"]


async def test_last_admin_leaving_hands_admin_to_the_oldest_member(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    carol, carol_id = await server.user("Carol")
    await bob.add_contacts(alice_id.client_id)
    await carol.add_contacts(alice_id.client_id)
    group = (
        await alice.request(
            protocol.CreateGroup, name="g", members=[bob_id.client_id, carol_id.client_id]
        )
    ).group
    assert isinstance(await alice.request(protocol.LeaveGroup, group=group.group_id), protocol.Ok)
    groups = await bob.request(protocol.ListGroups)
    assert isinstance(groups, protocol.Groups)
    [info] = groups.groups
    assert [(m.client_id, m.admin) for m in info.members] == [
        (bob_id.client_id, True),
        (carol_id.client_id, False),
    ]


async def test_group_creation_refuses_unknown_members(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    reply = await alice.request(protocol.CreateGroup, name="g", members=["ZZZZ-ZZZZ"])
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.UNKNOWN_CLIENT


async def test_group_size_limit(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = await server_factory(max_group_members=3)
    alice, _ = await server.user("Alice")
    ids = [(await server.user(f"u{i}"))[1].client_id for i in range(3)]
    reply = await alice.request(protocol.CreateGroup, name="big", members=ids)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.GROUP_FULL


async def test_lookup_says_whether_an_id_exists(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    _, bob_id = await server.user("Bob")
    reply = await alice.request(protocol.Lookup, client_id=bob_id.client_id)
    assert isinstance(reply, protocol.Contact) and reply.display_name == "Bob"
    reply = await alice.request(protocol.Lookup, client_id="ZZZZ-ZZZZ")
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.UNKNOWN_CLIENT


async def test_sending_to_an_unknown_id_is_refused(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    reply = await alice.send("anyone?", to="ZZZZ-ZZZZ")
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.UNKNOWN_CLIENT


async def test_oversize_text_gets_an_error_and_the_connection_stays(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    _, bob_id = await server.user("Bob")
    future = alice.expect_reply(99)
    text = "é" * (protocol.MAX_TEXT_BYTES // 2 + 1)  # fewer characters than bytes
    alice.send_raw(
        protocol.frame_bytes(
            b'{"type":"send","id":99,"key":"big","to":"%s","text":"%s"}'
            % (bob_id.client_id.encode(), text.encode())
        )
    )
    reply = await asyncio.wait_for(future, 5)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.TEXT_TOO_LARGE
    assert reply.id == 99
    assert isinstance(await alice.request(protocol.Ping), protocol.Pong)


async def test_server_text_limit_below_the_protocol_maximum(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = await server_factory(max_text_bytes=10)
    alice, _ = await server.user("Alice")
    _, bob_id = await server.user("Bob")
    reply = await alice.send("0123456789!", to=bob_id.client_id)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.TEXT_TOO_LARGE
    assert isinstance(await alice.send("0123456789", to=bob_id.client_id), protocol.Sent)


async def test_oversize_frame_disconnects_while_others_keep_chatting(
    server: RunningServer,
) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    attacker, _ = await server.user("Mallory")
    attacker.send_raw(protocol.HEADER.pack(protocol.MAX_FRAME_BYTES + 1) + b"{")
    await attacker.wait_closed()
    assert attacker.close_error is not None
    assert attacker.close_error.code == ErrorCode.FRAME_TOO_LARGE

    await alice.send("still fine", to=bob_id.client_id)
    assert [m.text for m in await bob.messages(1)] == ["still fine"]


async def test_garbage_frames_get_errors_then_a_disconnect(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    attacker, _ = await server.user("Mallory")
    attacker.send_raw(protocol.frame_bytes(b"\xff\xfe garbage"))
    error = await attacker.next_event(protocol.Error)
    assert error.code == ErrorCode.BAD_FRAME
    for _ in range(20):
        attacker.send_raw(protocol.frame_bytes(b'{"type":"nonsense"}'))
    await attacker.wait_closed()

    await alice.send("unaffected", to=bob_id.client_id)
    assert [m.text for m in await bob.messages(1)] == ["unaffected"]


async def test_garbage_before_login_disconnects(server: RunningServer) -> None:
    client = await server.connect()
    client.send_raw(protocol.frame_bytes(b"not json at all"))
    await client.wait_closed()
    assert client.close_error is not None and client.close_error.code == ErrorCode.BAD_FRAME


async def test_a_client_that_stops_reading_is_cut_off(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = await server_factory(max_write_buffer=2 * 1024 * 1024 + 1, max_frame_bytes=1024 * 1024)
    alice, _ = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    # Bob's socket stops being read: pause the transport's reading side.
    bob.writer.transport.pause_reading()
    text = "y" * 60_000
    for i in range(200):  # ~12 MB, far beyond what the kernel and the write buffer hold
        reply = await alice.send(text, to=bob_id.client_id, key=f"flood-{i}")
        assert isinstance(reply, protocol.Sent)
        if bob_id.client_id not in server.server.sessions:
            break
    assert bob_id.client_id not in server.server.sessions
    # Alice is unaffected and nothing is lost: it is all still pending for Bob.
    assert isinstance(await alice.request(protocol.Ping), protocol.Pong)
    assert await server.pending(bob_id.client_id) == i + 1


async def test_a_flood_is_slowed_down_and_nobody_else_is(
    server_factory: Callable[..., Awaitable[RunningServer]],
) -> None:
    """Over its rate limit a connection is no longer read (back-pressure): its requests
    wait in its own socket instead of being refused one by one, and other clients are
    served meanwhile."""
    server = await server_factory(rate_limit=20.0, rate_burst=5)
    alice, _ = await server.user("Alice")
    bob, _ = await server.user("Bob")
    futures = []
    frames = []
    for _ in range(45):
        frame, future = alice.new_request(protocol.Ping)
        frames.append(protocol.encode(frame))
        futures.append(future)
    started = asyncio.get_running_loop().time()
    alice.send_raw(b"".join(frames))
    await asyncio.sleep(0.1)
    bob_pong = await bob.request(protocol.Ping)
    bob_done = asyncio.get_running_loop().time()
    replies = await asyncio.wait_for(asyncio.gather(*futures), 20)
    assert all(isinstance(r, protocol.Pong) for r in replies)  # none refused
    assert isinstance(bob_pong, protocol.Pong)
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed >= 1.5  # 40 pings beyond the burst at 20/s: at least 2 s, not at once
    assert bob_done - started < elapsed  # Bob was answered while Alice's flood waited


async def test_registration_can_be_closed(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = await server_factory(registration="closed")
    client = await server.connect()
    reply = await client.request(protocol.Register, display_name="x")
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.REGISTRATION_CLOSED


async def test_second_connection_replaces_the_first(server: RunningServer) -> None:
    alice, alice_id = await server.user("Alice")
    bob, _ = await server.user("Bob")
    second = await server.connect()
    assert isinstance(await second.login(alice_id), protocol.LoggedIn)
    await alice.wait_closed()
    assert alice.close_error is not None
    assert alice.close_error.code == ErrorCode.SESSION_REPLACED
    await bob.send("to the new one", to=alice_id.client_id)
    assert [m.text for m in await second.messages(1)] == ["to the new one"]


async def test_handshake_timeout_closes_silent_connections(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = await server_factory(handshake_timeout=0.5)
    client = await server.connect(hello=False)
    await client.wait_closed(timeout=5)
    assert client.close_error is not None and client.close_error.code == ErrorCode.TIMEOUT


async def test_messages_survive_a_server_restart(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    bob_conn = await server.connect()
    bob_id = await bob_conn.register("Bob")
    await bob_conn.close()
    await alice.send("before restart", to=bob_id.client_id)
    await server.close_clients()
    await server.stop()
    await server.start()
    bob = await server.connect()
    await bob.login(bob_id)
    assert [m.text for m in await bob.messages(1)] == ["before restart"]


async def test_live_messages_during_backlog_keep_their_order(
    server_factory: Callable[..., Awaitable[RunningServer]],
) -> None:
    server = await server_factory(rate_burst=10_000)
    alice, _ = await server.user("Alice")
    bob_conn = await server.connect()
    bob_id = await bob_conn.register("Bob")
    await bob_conn.close()
    for i in range(2500):  # more than two backlog pages
        alice.send_frame(
            protocol.Send(id=10_000 + i, key=f"b{i}", text=f"{i}", to=bob_id.client_id)
        )
    await alice.request(protocol.Ping)
    while await server.pending(bob_id.client_id) < 2500:
        await asyncio.sleep(0.05)

    bob = await server.connect()
    login = asyncio.create_task(bob.login(bob_id))
    for i in range(2500, 2600):  # live while the backlog streams
        alice.send_frame(
            protocol.Send(id=10_000 + i, key=f"b{i}", text=f"{i}", to=bob_id.client_id)
        )
    await login
    received = await bob.messages(2600)
    assert [int(m.text) for m in received] == list(range(2600))


async def test_ping_is_answered(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    assert isinstance(await alice.request(protocol.Ping), protocol.Pong)


async def test_sending_to_a_disabled_client_is_refused(server: RunningServer) -> None:
    alice, _ = await server.user("Alice")
    _, mallory = await server.user("Mallory")
    assert server.storage is not None
    await server.storage.set_client_disabled(mallory.client_id, True)
    reply = await alice.send("are you there?", to=mallory.client_id)
    assert isinstance(reply, protocol.Error) and reply.code == ErrorCode.UNKNOWN_CLIENT


async def test_a_backlog_larger_than_the_write_buffer_arrives_whole(
    server_factory: Callable[..., Awaitable[RunningServer]],
) -> None:
    """The backlog is paced by the reader: a reading client is never cut off as slow,
    however much is pending (here 18 MB against a 2 MiB buffer limit)."""
    server = await server_factory(max_write_buffer=2 * 1024 * 1024)
    alice, _ = await server.user("Alice")
    bob_client, bob = await server.user("Bob")
    await bob_client.close()
    text = "x" * 60_000
    for i in range(300):
        reply = await alice.send(f"{i} {text}", to=bob.client_id)
        assert isinstance(reply, protocol.Sent), reply
    bob_again = await server.connect()
    await bob_again.login(bob)
    received = await bob_again.messages(300)
    assert [m.text.split(" ", 1)[0] for m in received] == [str(i) for i in range(300)]
    assert bob_again.close_error is None


async def test_receipts_reach_a_group_sender_after_a_server_restart(server: RunningServer) -> None:
    """After a restart nothing is cached: the group is loaded when a member's ack moves its
    marker, so that the senders online hear of it at once."""
    alice, alice_id = await server.user("Alice")
    bob, bob_id = await server.user("Bob")
    await bob.add_contacts(alice_id.client_id)
    group = await alice.request(protocol.CreateGroup, name="g", members=[bob_id.client_id])
    assert isinstance(group, protocol.GroupReply)
    for member in (alice, bob):  # nothing left to load the group at the next logins
        member.ack([(await member.next_event(protocol.GroupUpdate)).event_id])
        await member.request(protocol.Ping)
    await bob.close()
    sent = await alice.send("before the restart", group=group.group.group_id)
    assert isinstance(sent, protocol.Sent)
    await server.close_clients()
    await server.stop()
    await server.start()
    alice = await server.connect()
    await alice.login(alice_id, receipts_since=2**52)
    await alice.next_event(protocol.Synced)
    bob = await server.connect()
    await bob.login(bob_id)
    await bob.messages(1)
    receipts = await alice.next_event(protocol.Receipts)
    assert [(r.by, r.delivered) for r in receipts.receipts] == [(bob_id.client_id, sent.seq)]
