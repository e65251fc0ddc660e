"""The client core against a real server: sending, receiving, ticks, outbox and groups."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import pairwise
from pathlib import Path

import pytest

from messenger_gui.client import (
    MessengerClient,
    NotConnectedError,
    RequestError,
    normalize_client_id,
    register_client,
)
from messenger_gui.events import (
    BacklogProgress,
    ConnectionState,
    ConversationsChanged,
    MessageDeleted,
    MessageFailed,
    MessageRetried,
    MessageSent,
    MessagesReceived,
    MessageStatusChanged,
    Signal,
    StateChanged,
)
from messenger_gui.storage import ClientStore
from messenger_server import protocol
from tests.client_support import Desktops, EventLog, TcpProxy, eventually, settle
from tests.conftest import RunningServer


@pytest.fixture
async def desktops(tmp_path: Path) -> AsyncIterator[Desktops]:
    opened = Desktops(tmp_path / "desktops")
    yield opened
    await opened.close()


def status_of(store: ClientStore, local_id: int) -> str:
    message = store.message(local_id)
    assert message is not None
    return message.status


async def test_message_goes_sent_then_delivered_then_read(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    contact = await alice.client.add_contact(bruno.id.lower().replace("-", " "))
    assert (contact.client_id, contact.display_name) == (bruno.id, "Bruno")
    assert alice.log.of(ConversationsChanged)[-1].conversations == (bruno.id,)

    queued = await alice.client.send_message(bruno.id, False, "Oi Bruno!")
    assert queued.status == "queued" and queued.seq is None

    await alice.log.wait(lambda: bool(alice.log.of(MessageSent)))
    sent = alice.log.of(MessageSent)[0].message
    assert (sent.local_id, sent.status) == (queued.local_id, sent.status)
    assert sent.seq is not None and sent.message_id is not None

    await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))
    [received] = bruno.log.of(MessagesReceived)[0].messages
    assert (received.text, received.sender, received.seq) == ("Oi Bruno!", alice.id, sent.seq)
    assert received.conversation == alice.id and received.local_id > 0
    assert bruno.log.of(MessagesReceived)[0].backlog is False

    # Each event follows the commit of what it reports.
    delivered = MessageStatusChanged(bruno.id, (queued.local_id,), "delivered")
    await alice.log.wait(lambda: delivered in alice.log.events)
    assert status_of(alice.store, queued.local_id) == "delivered"

    await bruno.client.confirm_read(alice.id, False, received.seq)
    assert bruno.store.unconfirmed_read_markers() == []
    read = MessageStatusChanged(bruno.id, (queued.local_id,), "read")
    await alice.log.wait(lambda: read in alice.log.events)
    assert status_of(alice.store, queued.local_id) == "read"


async def test_message_to_an_offline_peer_arrives_when_its_client_starts(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno", start=False)
    for text in ("one", "two", "three"):
        await alice.client.send_message(bruno.id, False, text)
    await alice.log.wait(lambda: len(alice.log.of(MessageSent)) == 3)

    bruno.client.start()
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["one", "two", "three"])
    await settle(bruno)  # the events follow the commits
    received = [m for e in bruno.log.of(MessagesReceived) for m in e.messages]
    assert [m.text for m in received] == ["one", "two", "three"]
    assert all(e.backlog for e in bruno.log.of(MessagesReceived))
    await alice.log.wait(
        lambda: {m.status for m in alice.store.messages_slice(bruno.id, 0, 10)} == {"delivered"}
    )


async def test_message_queued_while_the_server_is_down_is_sent_once_it_returns(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    await server.stop()
    await alice.log.wait_state(ConnectionState.WAITING)

    queued = await alice.client.send_message(bruno.id, False, "sent while the server was down")
    assert alice.store.outbox()[0].local_id == queued.local_id

    await server.start()
    await alice.log.wait(lambda: bool(alice.log.of(MessageSent)))
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["sent while the server was down"])
    assert alice.store.outbox() == []
    await settle(alice, bruno)  # nothing else comes
    assert bruno.texts(alice.id) == ["sent while the server was down"]
    assert len(alice.log.of(MessageSent)) == 1


async def test_outbox_survives_a_client_restart(server: RunningServer, desktops: Desktops) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    identity = await register_client("127.0.0.1", server.port, "Alice")
    first = desktops.open(identity, "alice", start=False)
    await first.client.send_message(bruno.id, False, "written offline")
    await first.client.send_message(bruno.id, False, "and this too")
    first.store.close()

    again = desktops.open(identity, "alice")  # a new store on the same directory
    await again.log.wait(lambda: len(again.log.of(MessageSent)) == 2)
    await bruno.log.wait(
        lambda: bruno.texts(identity.client_id) == ["written offline", "and this too"]
    )
    assert again.store.outbox() == []


async def test_resend_after_a_lost_sent_reply_creates_no_duplicate(
    server: RunningServer, desktops: Desktops
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    bruno = await desktops.user(server.port, "Bruno")
    identity = await register_client("127.0.0.1", server.port, "Alice")
    alice = desktops.open(dataclasses.replace(identity, server_port=proxy.port), "alice")
    try:
        await alice.wait_online()
        await alice.client.refresh_groups()  # the login's own requests are answered by now
        proxy.drop_downstream = True  # the server's replies are lost from now on
        queued = await alice.client.send_message(bruno.id, False, "only once, please")
        await bruno.log.wait(lambda: bruno.texts(alice.id) == ["only once, please"])
        assert status_of(alice.store, queued.local_id) == "queued"  # no `sent` came

        proxy.cut()
        proxy.drop_downstream = False
        await alice.log.wait(lambda: bool(alice.log.of(MessageSent)))
        assert alice.log.of(MessageSent)[0].message.local_id == queued.local_id
        await alice.log.wait(lambda: status_of(alice.store, queued.local_id) == "delivered")
        await settle(alice, bruno)  # a second copy would have been delivered by now
        assert bruno.texts(alice.id) == ["only once, please"]
        assert len([m for e in bruno.log.of(MessagesReceived) for m in e.messages]) == 1
        assert alice.store.message_count(bruno.id) == 1
    finally:
        await proxy.close()


async def test_a_redelivered_message_is_not_shown_twice(
    server: RunningServer, desktops: Desktops
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    alice = await desktops.user(server.port, "Alice")
    identity = await register_client("127.0.0.1", server.port, "Bruno")
    bruno = desktops.open(dataclasses.replace(identity, server_port=proxy.port), "bruno")
    try:
        await bruno.wait_online()
        await bruno.client.refresh_groups()
        proxy.drop_upstream = True  # Bruno's acks never reach the server
        await alice.client.send_message(bruno.id, False, "hello once")
        await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))
        assert bruno.texts(alice.id) == ["hello once"]

        proxy.cut()
        proxy.drop_upstream = False
        online_before = bruno.log.states.count(ConnectionState.ONLINE)
        await bruno.log.wait(lambda: bruno.log.states.count(ConnectionState.ONLINE) > online_before)
        # The backlog brings it again; this time the ack arrives, so Alice sees delivered.
        await alice.log.wait(
            lambda: [m.status for m in alice.store.messages_slice(bruno.id, 0, 10)] == ["delivered"]
        )
        assert bruno.texts(alice.id) == ["hello once"]
        assert len(bruno.log.of(MessagesReceived)) == 1
    finally:
        await proxy.close()


async def test_a_backlog_of_2000_messages_arrives_in_order_with_progress(
    server: RunningServer, desktops: Desktops
) -> None:
    bruno = await desktops.user(server.port, "Bruno", start=False)
    sender, _ = await server.user("Alice")
    futures = []
    for n in range(2000):
        frame, future = sender.new_request(protocol.Send, key=f"k{n}", to=bruno.id, text=f"m{n}")
        sender.send_frame(frame)
        futures.append(future)
    replies = await asyncio.wait_for(asyncio.gather(*futures), 20)
    assert all(isinstance(r, protocol.Sent) for r in replies)
    alice_id = sender.client_id
    assert alice_id is not None

    bruno.client.start()
    await bruno.log.wait(lambda: bruno.store.message_count(alice_id) == 2000, timeout=30)
    await settle(bruno)  # the events follow the commits
    assert bruno.texts(alice_id) == [f"m{n}" for n in range(2000)]
    received = [m for e in bruno.log.of(MessagesReceived) for m in e.messages]
    assert [m.text for m in received] == [f"m{n}" for n in range(2000)]
    seqs = [m.seq for m in received]
    assert all(a is not None and b is not None and a < b for a, b in pairwise(seqs))
    progress = bruno.log.of(BacklogProgress)
    assert progress[0] == BacklogProgress(0, 2000)
    assert progress[-1] == BacklogProgress(2000, 2000)
    assert all(a.received <= b.received for a, b in pairwise(progress))
    assert len(progress) > 2  # reported as it comes, not only at the end
    # Every message was acknowledged: nothing is pending on the server any more.
    await bruno.client.stop()
    await eventually(lambda: bruno.client.state == ConnectionState.OFFLINE)
    bruno.client.start()
    await bruno.wait_online()
    await settle(bruno)  # the login's backlog, if any, is in
    assert bruno.store.message_count(alice_id) == 2000
    assert len([m for e in bruno.log.of(MessagesReceived) for m in e.messages]) == 2000


async def test_a_read_confirmation_reaches_an_offline_sender_later(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    queued = await alice.client.send_message(bruno.id, False, "read me later")
    await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))
    await alice.log.wait(lambda: status_of(alice.store, queued.local_id) == "delivered")
    await alice.client.stop()

    seq = bruno.store.latest_seq(alice.id)
    assert seq is not None
    await bruno.client.confirm_read(alice.id, False, seq)

    alice.client.start()
    read = MessageStatusChanged(bruno.id, (queued.local_id,), "read")
    await alice.log.wait(lambda: read in alice.log.events)  # it follows the commit
    assert status_of(alice.store, queued.local_id) == "read"

    # Receipts are not pending events: the next login has no backlog, changes nothing.
    await alice.client.stop()
    backlogs = len(alice.log.of(BacklogProgress))
    alice.client.start()
    await alice.wait_online()
    await settle(alice)  # the login's receipts and backlog, if any, are in
    assert len(alice.log.of(BacklogProgress)) == backlogs  # logged_in said pending=0
    assert alice.log.of(MessageStatusChanged)[-1] == read


async def test_a_read_marker_set_offline_is_sent_after_login(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    queued = await alice.client.send_message(bruno.id, False, "hi")
    await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))
    await bruno.client.stop()
    seq = bruno.store.latest_seq(alice.id)
    assert seq is not None
    await bruno.client.confirm_read(alice.id, False, seq)  # offline: does not raise
    assert bruno.store.unconfirmed_read_markers() == [(alice.id, seq)]

    bruno.client.start()
    await alice.log.wait(lambda: status_of(alice.store, queued.local_id) == "read")
    await eventually(lambda: bruno.store.unconfirmed_read_markers() == [])


async def test_a_group_of_three_with_one_member_offline(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla", start=False)
    await bruno.add_contacts(server.port, alice)
    await carla.add_contacts(server.port, alice)

    group = await alice.client.create_group("Família", [bruno.id, carla.id])
    assert group.name == "Família" and not group.left
    assert {m.client_id for m in group.members} == {alice.id, bruno.id, carla.id}
    assert alice.store.group(group.group_id) == group
    await bruno.log.wait(lambda: bruno.store.group(group.group_id) is not None)

    await alice.client.send_message(group.group_id, True, "Oi família!")
    await alice.log.wait(lambda: bool(alice.log.of(MessageSent)))
    await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))  # after the commit
    assert bruno.texts(group.group_id) == ["Oi família!"]
    [received] = bruno.log.of(MessagesReceived)[0].messages
    assert received.is_group and received.sender == alice.id

    carla.client.start()
    await carla.log.wait(lambda: bool(carla.log.of(MessagesReceived)))  # after the commit
    assert carla.texts(group.group_id) == ["Oi família!"]
    stored = carla.store.group(group.group_id)
    assert stored is not None and not stored.left and stored.name == "Família"
    assert any(group.group_id in e.conversations for e in carla.log.of(ConversationsChanged))


async def test_group_membership_changes_are_stored(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla")
    for member in (bruno, carla):
        await member.add_contacts(server.port, alice)
    group = await alice.client.create_group("Trio", [bruno.id])

    added = await alice.client.add_member(group.group_id, carla.id)
    assert carla.id in {m.client_id for m in added.members}
    await carla.log.wait(lambda: carla.store.group(group.group_id) is not None)

    removed = await alice.client.remove_member(group.group_id, bruno.id)
    assert bruno.id not in {m.client_id for m in removed.members}
    await bruno.log.wait(lambda: getattr(bruno.store.group(group.group_id), "left", False))

    await carla.client.leave_group(group.group_id)
    left = carla.store.group(group.group_id)
    assert left is not None and left.left
    with pytest.raises(RequestError) as refused:
        await bruno.client.add_member(group.group_id, bruno.id)
    assert refused.value.code == protocol.ErrorCode.NOT_A_MEMBER

    groups = await alice.client.refresh_groups()
    assert [g.group_id for g in groups if not g.left] == [group.group_id]


async def test_a_refused_message_is_marked_failed_and_does_not_jam_the_outbox(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla")
    await carla.add_contacts(server.port, bruno)
    group = await bruno.client.create_group("Not Alice's", [carla.id])

    nobody = await alice.client.send_message("ZZZZ-ZZZZ", False, "to nobody")
    outsider = await alice.client.send_message(group.group_id, True, "not a member")
    fine = await alice.client.send_message(bruno.id, False, "this one goes")
    await alice.log.wait(lambda: len(alice.log.of(MessageFailed)) == 2)
    failed = {e.local_id: e.code for e in alice.log.of(MessageFailed)}
    assert failed == {
        nobody.local_id: protocol.ErrorCode.UNKNOWN_CLIENT,
        outsider.local_id: protocol.ErrorCode.NOT_A_MEMBER,
    }
    assert alice.client.failed_messages() == failed
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["this one goes"])
    await alice.log.wait(lambda: status_of(alice.store, fine.local_id) != "queued")
    # Kept on disk as failed (the UI shows them so), out of the outbox: not sent again.
    assert alice.store.outbox() == []
    shown = [alice.store.message(local_id) for local_id in failed]
    assert {m.local_id: m.failure for m in shown if m is not None} == failed
    await alice.client.send_message(bruno.id, False, "and the next")
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["this one goes", "and the next"])
    await settle(alice)  # the refusals are recorded and reported
    assert len(alice.log.of(MessageFailed)) == 2


async def test_a_message_the_recipient_has_no_room_for_waits_and_is_sent_later(
    server_factory: Callable[..., Awaitable[RunningServer]], desktops: Desktops
) -> None:
    """``recipient_full`` is temporary: the message stays queued (not failed), its
    conversation waits with backoff while the others go on, and once the recipient has
    caught up it is sent, in order."""
    server = await server_factory(max_pending_per_client=2)
    alice = await desktops.user(server.port, "Alice", send_retry_base=0.05, send_retry_cap=0.2)
    carla = await desktops.user(server.port, "Carla")
    bruno_identity = await desktops.register(server.port, "Bruno")  # offline for now
    texts = ["one", "two", "three", "four"]
    for sent, text in enumerate(texts[:2], start=1):  # one at a time: each is stored
        await alice.client.send_message(bruno_identity.client_id, False, text)
        await alice.log.wait(lambda n=sent: len(alice.log.of(MessageSent)) == n)
    for text in texts[2:]:
        await alice.client.send_message(bruno_identity.client_id, False, text)
    await eventually(lambda: alice.client._held.get(bruno_identity.client_id, (0, 0))[1] >= 2)
    await alice.client.send_message(carla.id, False, "not held up")
    await carla.log.wait(lambda: carla.texts(alice.id) == ["not held up"])
    # Refused and tried again at least twice, still queued: not failed.
    assert await server.pending(bruno_identity.client_id) == 2
    assert [m.text for m in alice.store.outbox()] == ["three", "four"]
    assert alice.log.of(MessageFailed) == []

    bruno = desktops.open(bruno_identity, "bruno")
    await bruno.log.wait(lambda: bruno.texts(alice.id) == texts)
    await alice.log.wait(lambda: alice.store.outbox() == [])
    assert alice.log.of(MessageFailed) == []
    seqs = [m.seq for m in bruno.store.messages_slice(alice.id, 0, 10)]
    assert seqs == sorted(seqs)


async def test_quota_and_full_disk_refusals_keep_the_message_queued(
    server_factory: Callable[..., Awaitable[RunningServer]], desktops: Desktops
) -> None:
    """``quota_exceeded`` (the sender's pending messages) is temporary too; a permanent
    refusal (``unknown_client``) still fails at once."""
    server = await server_factory(max_pending_per_sender=1)
    alice = await desktops.user(server.port, "Alice", send_retry_base=0.05, send_retry_cap=0.2)
    bruno_identity = await desktops.register(server.port, "Bruno")
    carla_identity = await desktops.register(server.port, "Carla")
    await alice.client.send_message(bruno_identity.client_id, False, "for Bruno")
    await alice.log.wait(lambda: len(alice.log.of(MessageSent)) == 1)
    await alice.client.send_message(carla_identity.client_id, False, "for Carla")
    nobody = await alice.client.send_message("ZZZZ-ZZZZ", False, "to nobody")
    await alice.log.wait(lambda: len(alice.log.of(MessageFailed)) == 1)
    assert [e.local_id for e in alice.log.of(MessageFailed)] == [nobody.local_id]
    await eventually(lambda: alice.client._held.get(carla_identity.client_id, (0, 0))[1] >= 2)
    assert [m.text for m in alice.store.outbox()] == ["for Carla"]

    bruno = desktops.open(bruno_identity, "bruno")  # Bruno's message leaves the server
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["for Bruno"])
    carla = desktops.open(carla_identity, "carla")
    await carla.log.wait(lambda: carla.texts(alice.id) == ["for Carla"])
    assert len(alice.log.of(MessageFailed)) == 1


async def test_a_message_refused_after_removal_stays_failed_until_retried(
    server: RunningServer, desktops: Desktops
) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla")
    identity = await desktops.register(server.port, "Alice")
    alice = desktops.open(identity, "alice")
    await alice.wait_online()
    await alice.add_contacts(server.port, bruno)
    await carla.add_contacts(server.port, bruno)
    group = await bruno.client.create_group("Trio", [alice.id, carla.id])
    await alice.log.wait(lambda: alice.store.group(group.group_id) is not None)
    await bruno.client.remove_member(group.group_id, alice.id)
    await alice.log.wait(lambda: getattr(alice.store.group(group.group_id), "left", False))

    refused = await alice.client.send_message(group.group_id, True, "am I still here?")
    await alice.log.wait(lambda: bool(alice.log.of(MessageFailed)))
    [failed] = alice.log.of(MessageFailed)
    assert (failed.local_id, failed.code, failed.conversation) == (
        refused.local_id,
        protocol.ErrorCode.NOT_A_MEMBER,
        group.group_id,
    )

    # After a restart the failure is remembered: not sent again, no new warning.
    await alice.client.stop()
    alice.store.close()
    alice = desktops.open(identity, "alice")
    await alice.wait_online()
    assert alice.client.failed_messages() == {refused.local_id: protocol.ErrorCode.NOT_A_MEMBER}
    await alice.client.send_message(bruno.id, False, "sent after the failed one")
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["sent after the failed one"])
    assert alice.log.of(MessageFailed) == []
    stored = alice.store.message(refused.local_id)
    assert stored is not None and (stored.status, stored.failure) == ("queued", "not_a_member")

    # Re-added, the user retries: it is stored once, with its original key.
    await bruno.client.add_member(group.group_id, alice.id)
    await alice.log.wait(lambda: not getattr(alice.store.group(group.group_id), "left", True))
    assert await alice.client.retry_message(refused.local_id) is True
    assert [e.message.local_id for e in alice.log.of(MessageRetried)] == [refused.local_id]
    assert alice.log.of(MessageRetried)[0].message.failure is None
    await alice.log.wait(lambda: status_of(alice.store, refused.local_id) != "queued")
    await carla.log.wait(lambda: "am I still here?" in carla.texts(group.group_id))
    assert await alice.client.retry_message(refused.local_id) is False  # nothing to retry
    assert alice.client.failed_messages() == {}
    await alice.client.send_message(group.group_id, True, "and once more")
    await carla.log.wait(lambda: "and once more" in carla.texts(group.group_id))
    await settle(alice)
    assert carla.texts(group.group_id) == ["am I still here?", "and once more"]
    assert [e.message.local_id for e in alice.log.of(MessageSent)].count(refused.local_id) == 1


async def test_an_unsent_message_can_be_deleted_but_a_sent_one_cannot(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    nobody = await alice.client.send_message("ZZZZ-ZZZZ", False, "to nobody")
    fine = await alice.client.send_message(bruno.id, False, "to Bruno")
    await alice.log.wait(lambda: bool(alice.log.of(MessageFailed)))
    await alice.log.wait(lambda: status_of(alice.store, fine.local_id) != "queued")

    assert await alice.client.delete_message(fine.local_id) is False
    assert await alice.client.delete_message(nobody.local_id) is True
    assert alice.log.of(MessageDeleted) == [MessageDeleted("ZZZZ-ZZZZ", nobody.local_id)]
    assert alice.store.message(nobody.local_id) is None
    assert alice.client.failed_messages() == {}
    assert await alice.client.delete_message(nobody.local_id) is False
    assert await alice.client.retry_message(nobody.local_id) is False

    await alice.client.stop()  # offline, a queued message can be taken back too
    queued = await alice.client.send_message(bruno.id, False, "never mind")
    assert await alice.client.delete_message(queued.local_id) is True
    alice.client.start()
    await alice.wait_online()
    await alice.client.send_message(bruno.id, False, "last")
    await bruno.log.wait(lambda: bruno.texts(alice.id) == ["to Bruno", "last"])


async def test_contacts_are_looked_up_and_added_by_id(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    found = await alice.client.lookup(bruno.id)
    assert (found.client_id, found.display_name) == (bruno.id, "Bruno")
    assert alice.store.contact(bruno.id) is None  # lookup stores nothing

    with pytest.raises(ValueError):
        await alice.client.add_contact(alice.id)
    with pytest.raises(RequestError) as unknown:
        await alice.client.add_contact("ZZZZ-ZZZZ")
    assert unknown.value.code == protocol.ErrorCode.UNKNOWN_CLIENT
    with pytest.raises(ValueError):
        await alice.client.lookup("not an id")

    await alice.client.add_contact(bruno.id)
    assert [c.client_id for c in alice.store.contacts()] == [bruno.id]

    await alice.client.stop()
    with pytest.raises(NotConnectedError) as offline:
        await alice.client.lookup(bruno.id)
    assert offline.value.code == "not_connected"
    with pytest.raises(ValueError):
        await alice.client.send_message(bruno.id, False, "   ")


async def test_contacts_are_shared_with_the_server_once_not_at_every_login(
    server: RunningServer, desktops: Desktops
) -> None:
    """Contacts added offline reach the server at the next login; a login after that
    sends no ``add_contact`` for contacts the server already knows."""
    proxy = TcpProxy(server.port)
    await proxy.start()
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla")
    identity = await register_client("127.0.0.1", server.port, "Alice")
    via_proxy = dataclasses.replace(identity, server_port=proxy.port)
    try:
        first = desktops.open(via_proxy, "alice", start=False)
        first.store.add_contact(bruno.id, "Bruno")  # added while offline
        first.store.add_contact("ZZZZ-ZZZZ", "Gone")  # no longer on the server
        first.client.start()
        await first.wait_online()
        await eventually(lambda: first.store.unshared_contacts() == [])
        shared = {frame.client_id for frame in proxy.sent_by_client(protocol.AddContact)}
        assert shared == {bruno.id, "ZZZZ-ZZZZ"}
        await first.client.add_contact(carla.id)  # online: the server records it at once
        assert first.store.unshared_contacts() == []
        # Bruno may now put Alice in a group: the server knows her as his contact.
        await bruno.client.create_group("Hike", [identity.client_id])
        await first.client.stop()
        first.store.close()

        proxy.client_frames.clear()
        again = desktops.open(via_proxy, "alice")  # the next start, on the same history
        await again.wait_online()
        await again.client.refresh_groups()
        await settle(again)
        assert [f.client_id for f in proxy.sent_by_client(protocol.AddContact)] == []
        assert [g.name for g in again.store.groups()] == ["Hike"]
    finally:
        await proxy.close()


def test_typed_ids_are_normalised() -> None:
    assert normalize_client_id(" k7qm 4xpa ") == "K7QM-4XPA"
    assert normalize_client_id("K7QM-4XPA") == "K7QM-4XPA"
    assert normalize_client_id("b8nz2fhc") == "B8NZ-2FHC"
    assert normalize_client_id("1OIL-0000") == "1011-0000"
    for bad in ("", "K7QM-4XP", "K7QM-4XPAA", "K7QM-4XPU", "G-K7QM-4XPA"):
        with pytest.raises(ValueError):
            normalize_client_id(bad)


def test_a_failing_listener_does_not_stop_the_others() -> None:
    signal: Signal[int] = Signal()
    seen: list[int] = []

    def broken(value: int) -> None:
        raise RuntimeError("a broken widget")

    signal.connect(broken)
    signal.connect(seen.append)
    signal.emit(1)
    signal.disconnect(broken)
    signal.disconnect(broken)  # not connected any more: ignored
    signal.emit(2)
    assert seen == [1, 2]


async def test_a_failing_listener_does_not_break_the_client(
    server: RunningServer, desktops: Desktops
) -> None:
    identity = await register_client("127.0.0.1", server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    store = ClientStore(desktops.root / "alice")
    desktops.stores.append(store)
    client = MessengerClient(store, identity, backoff_base=0.05, backoff_cap=0.2)

    def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    log = EventLog()
    client.events.connect(broken)
    client.events.connect(log)
    client.start()
    try:
        await log.wait(lambda: client.state == ConnectionState.ONLINE)
        await client.send_message(bruno.id, False, "still works")
        await log.wait(lambda: bool(log.of(MessageSent)))
        await bruno.log.wait(lambda: bruno.texts(identity.client_id) == ["still works"])
        assert log.of(StateChanged)[0].state == ConnectionState.CONNECTING
    finally:
        await client.stop()
