"""Protocol 2's receipts in the client core, against a real server: ticks come from the
other participants' markers, ``receipts_since`` carries over restarts, ``synced`` ends the
backlog and acknowledgements are cumulative."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from messenger_gui.events import (
    BacklogProgress,
    MessageSent,
    MessagesReceived,
    MessageStatusChanged,
)
from messenger_gui.storage import ClientStore, GroupReceipts, PeerMarker
from messenger_server import protocol
from tests.client_support import Desktops, TcpProxy, User, eventually
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


def seq_of(store: ClientStore, local_id: int) -> int:
    message = store.message(local_id)
    assert message is not None and message.seq is not None
    return message.seq


async def send_all(user: User, conversation: str, is_group: bool, *texts: str) -> list[int]:
    """Send ``texts`` and wait until the server has stored each; their local ids."""
    ids = [(await user.client.send_message(conversation, is_group, t)).local_id for t in texts]
    await user.log.wait(lambda: all(status_of(user.store, i) != "queued" for i in ids))
    return ids


async def read_all(user: User, conversation: str, is_group: bool, count: int) -> int:
    """Wait for ``count`` messages in ``conversation``, then read up to the newest."""
    await user.log.wait(lambda: user.store.message_count(conversation) >= count)
    seq = user.store.latest_seq(conversation)
    assert seq is not None
    await user.client.confirm_read(conversation, is_group, seq)
    return seq


async def test_direct_ticks_follow_the_peers_delivered_and_read_markers(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    first, second, third = await send_all(alice, bruno.id, False, "one", "two", "three")

    def delivered_ids() -> list[int]:
        events = alice.log.of(MessageStatusChanged)
        return sorted(i for e in events if e.status == "delivered" for i in e.local_ids)

    await alice.log.wait(lambda: delivered_ids() == [first, second, third])  # after the commit
    assert status_of(alice.store, third) == "delivered"
    delivered = [e for e in alice.log.of(MessageStatusChanged) if e.status == "delivered"]
    assert all(e.conversation == bruno.id for e in delivered)

    # Bruno has seen the first two only.
    await bruno.log.wait(lambda: bruno.store.message_count(alice.id) == 3)
    await bruno.client.confirm_read(alice.id, False, seq_of(alice.store, second))
    read = [MessageStatusChanged(bruno.id, (first, second), "read")]
    await alice.log.wait(
        lambda: [e for e in alice.log.of(MessageStatusChanged) if e.status == "read"] == read
    )
    assert [status_of(alice.store, i) for i in (first, second, third)] == [
        "read",
        "read",
        "delivered",
    ]
    assert alice.store.markers(bruno.id) == [
        PeerMarker(bruno.id, seq_of(alice.store, third), seq_of(alice.store, second))
    ]


async def test_group_ticks_need_every_member_and_count_k_of_n(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla", start=False)  # not received yet
    await bruno.add_contacts(server.port, alice)
    await carla.add_contacts(server.port, alice)
    group = (await alice.client.create_group("Trio", [bruno.id, carla.id])).group_id
    first, second = await send_all(alice, group, True, "Oi!", "Tudo bem?")
    one, two = seq_of(alice.store, first), seq_of(alice.store, second)

    def receipts(seq: int) -> GroupReceipts:
        return alice.store.group_receipts(group, seq, me=alice.id)

    await alice.log.wait(lambda: receipts(two).delivered == 1)
    assert receipts(one) == receipts(two) == GroupReceipts(delivered=1, read=0, members=2)
    await read_all(bruno, group, True, 2)
    await alice.log.wait(lambda: receipts(two).read == 1)
    assert receipts(two) == GroupReceipts(delivered=1, read=1, members=2)
    assert [status_of(alice.store, i) for i in (first, second)] == ["sent", "sent"]
    assert alice.log.of(MessageStatusChanged) == []  # one member is not a group

    carla.client.start()
    await alice.log.wait(lambda: bool(alice.log.of(MessageStatusChanged)))  # after the commit
    assert status_of(alice.store, second) == "delivered"
    assert receipts(two) == GroupReceipts(delivered=2, read=1, members=2)
    assert alice.log.of(MessageStatusChanged) == [
        MessageStatusChanged(group, (first, second), "delivered")
    ]

    await carla.log.wait(lambda: carla.store.message_count(group) == 2)
    await carla.client.confirm_read(group, True, one)  # Carla has seen the first only
    read_first = MessageStatusChanged(group, (first,), "read")
    await alice.log.wait(lambda: read_first in alice.log.events)
    assert status_of(alice.store, first) == "read"
    assert status_of(alice.store, second) == "delivered"
    assert receipts(one) == GroupReceipts(delivered=2, read=2, members=2)
    assert receipts(two) == GroupReceipts(delivered=2, read=1, members=2)
    assert alice.log.of(MessageStatusChanged)[-1] == MessageStatusChanged(group, (first,), "read")

    # Carla leaves: everyone left has read both.
    await carla.client.leave_group(group)
    await alice.log.wait(lambda: status_of(alice.store, second) == "read")
    assert receipts(two) == GroupReceipts(delivered=1, read=1, members=1)


async def test_receipts_that_come_before_the_sent_reply_give_its_ticks(
    server: RunningServer, desktops: Desktops
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    bruno = await desktops.user(server.port, "Bruno")
    identity = await desktops.register(server.port, "Alice")
    alice = desktops.open(dataclasses.replace(identity, server_port=proxy.port), "alice")
    try:
        await alice.wait_online()
        await alice.client.refresh_groups()  # the login's own requests are answered by now
        proxy.drop_downstream = True  # the `sent` reply and the live receipts are lost
        queued = await alice.client.send_message(bruno.id, False, "did you read it?")
        await read_all(bruno, alice.id, False, 1)
        assert status_of(alice.store, queued.local_id) == "queued"

        proxy.cut()
        proxy.drop_downstream = False
        # After login the receipts come first, then the outbox is sent again: its `sent`
        # (a duplicate) finds Bruno's markers already stored.
        await alice.log.wait(lambda: bool(alice.log.of(MessageSent)))
        [sent] = alice.log.of(MessageSent)
        assert (sent.message.local_id, sent.message.status) == (queued.local_id, "read")
        assert alice.log.of(MessageStatusChanged) == []
        assert alice.store.message_count(bruno.id) == 1
        assert bruno.texts(alice.id) == ["did you read it?"]
    finally:
        await proxy.close()


async def test_receipts_since_carries_over_a_restart(
    server: RunningServer, desktops: Desktops
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    bruno = await desktops.user(server.port, "Bruno")
    identity = dataclasses.replace(
        await desktops.register(server.port, "Alice"), server_port=proxy.port
    )
    alice = desktops.open(identity, "alice")
    try:
        await alice.wait_online()
        [sent] = await send_all(alice, bruno.id, False, "read me while I am away")
        await alice.log.wait(lambda: status_of(alice.store, sent) == "delivered")
        version = alice.store.receipts_version()
        assert version > 0
        await alice.client.stop()
        alice.store.close()

        await read_all(bruno, identity.client_id, False, 1)  # Alice's app is not running

        again = desktops.open(identity, "alice")  # a new store on the same directory
        await again.log.wait(lambda: status_of(again.store, sent) == "read")
        assert again.log.of(MessageStatusChanged) == [
            MessageStatusChanged(bruno.id, (sent,), "read")
        ]
        logins = proxy.sent_by_client(protocol.Login)
        assert [login.receipts_since for login in logins] == [0, version]
        assert again.store.receipts_version() > version

        # Nothing new: the next login starts from there and nothing changes.
        latest = again.store.receipts_version()
        await again.client.stop()
        again.client.start()
        await again.wait_online()
        await again.client.ping()  # the login's receipts, if any, are applied
        assert proxy.sent_by_client(protocol.Login)[-1].receipts_since == latest
        assert again.store.receipts_version() == latest
        assert len(again.log.of(MessageStatusChanged)) == 1
    finally:
        await proxy.close()


async def test_synced_ends_the_backlog_and_later_messages_are_live(
    server: RunningServer, desktops: Desktops
) -> None:
    alice = await desktops.user(server.port, "Alice")
    bruno = await desktops.user(server.port, "Bruno", start=False)
    await send_all(alice, bruno.id, False, "one", "two", "three")

    bruno.client.start()
    await bruno.log.wait(lambda: BacklogProgress(3, 3) in bruno.log.events)
    progress = bruno.log.of(BacklogProgress)
    assert progress[0] == BacklogProgress(0, 3) and progress[-1] == BacklogProgress(3, 3)
    assert [(m.text, e.backlog) for e in bruno.log.of(MessagesReceived) for m in e.messages] == [
        ("one", True),
        ("two", True),
        ("three", True),
    ]

    await send_all(alice, bruno.id, False, "live")
    await bruno.log.wait(lambda: bruno.store.message_count(alice.id) == 4)
    await bruno.client.ping()  # the events follow the commits
    assert bruno.log.of(MessagesReceived)[-1].backlog is False
    assert bruno.log.of(BacklogProgress)[-1] == BacklogProgress(3, 3)


async def test_acks_are_cumulative_and_nothing_comes_again_after_a_reconnect(
    server: RunningServer, desktops: Desktops
) -> None:
    proxy = TcpProxy(server.port)
    await proxy.start()
    alice = await desktops.user(server.port, "Alice")
    carla = await desktops.user(server.port, "Carla")
    identity = await desktops.register(server.port, "Bruno")
    bruno = desktops.open(dataclasses.replace(identity, server_port=proxy.port), "bruno")
    try:
        await bruno.wait_online()
        await bruno.add_contacts(server.port, alice)
        await bruno.client.stop()
        group = (await alice.client.create_group("Trio", [identity.client_id])).group_id
        await send_all(alice, identity.client_id, False, *(f"a{n}" for n in range(300)))
        await send_all(carla, identity.client_id, False, *(f"c{n}" for n in range(200)))
        await send_all(alice, group, True, *(f"g{n}" for n in range(100)))

        bruno.client.start()
        await bruno.log.wait(lambda: BacklogProgress(601, 601) in bruno.log.events)
        assert bruno.texts(alice.id) == [f"a{n}" for n in range(300)]
        assert bruno.texts(carla.id) == [f"c{n}" for n in range(200)]
        assert bruno.texts(group) == [f"g{n}" for n in range(100)]
        stored = {
            m.message_id
            for conversation in (alice.id, carla.id, group)
            for m in bruno.store.messages_slice(conversation, 0, 1000)
        }
        last = {
            bruno.store.messages_slice(conversation, 0, 1000)[-1].message_id
            for conversation in (alice.id, carla.id, group)
        }

        def acked_ids() -> list[int]:
            return [i for ack in proxy.sent_by_client(protocol.Ack) for i in ack.ids]

        await eventually(lambda: last <= set(acked_ids()))  # the last of each conversation
        acked = acked_ids()
        assert len(acked) < 100  # not one per message: one per conversation and chunk
        assert len(set(acked) - stored) == 1  # and the group update

        await bruno.client.stop()
        received = len(bruno.log.of(MessagesReceived))
        backlogs = len(bruno.log.of(BacklogProgress))
        bruno.client.start()
        await bruno.wait_online()
        await bruno.client.ping()  # the login's backlog, if any, is in
        assert len(bruno.log.of(BacklogProgress)) == backlogs  # logged_in said pending=0
        assert len(bruno.log.of(MessagesReceived)) == received
        assert bruno.store.message_count(alice.id) == 300
    finally:
        await proxy.close()
