"""Conversation features end to end (protocol section 12): replies, forwards, mentions,
edits, deletions, reactions, typing, presence and group settings, through a real server on
127.0.0.1 and real clients, with the offline member, the reconnect, the non-member and the
stranger."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from messenger_server import protocol
from messenger_server.protocol import ErrorCode
from messenger_server.service import conversation as conversation_module
from tests.conftest import RunningServer
from tests.wire import Identity, WireClient

pytestmark = pytest.mark.timeout(30)

Entry = protocol.Message | protocol.Edited | protocol.Deleted | protocol.Reacted


async def offline_user(server: RunningServer, name: str, *contacts: Identity) -> Identity:
    """A registered client that is not connected (it added ``contacts`` first)."""
    client = await server.connect()
    identity = await client.register(name)
    await client.close()
    if contacts:
        await server.introduce(identity, *contacts)
    return identity


async def make_group(
    creator: WireClient, creator_id: Identity, *members: tuple[WireClient | None, Identity]
) -> str:
    """A group of ``creator`` and ``members`` (each has added the creator as a contact);
    every online member has stored and acknowledged its ``created`` update."""
    for client, _ in members:
        if client is not None:
            await client.add_contacts(creator_id.client_id)
    reply = await creator.request(
        protocol.CreateGroup, name="Família", members=[i.client_id for _, i in members]
    )
    assert isinstance(reply, protocol.GroupReply), reply
    for client in [creator, *(c for c, _ in members if c is not None)]:
        update = await client.next_event(protocol.GroupUpdate)
        client.ack([update.event_id])
    return reply.group.group_id


async def post(client: WireClient, kind: type, **fields: object) -> protocol.ServerFrame:
    """A request; those that take a key (``send``, ``edit``, ``delete``, ``react``) get a
    fresh one."""
    if "key" in kind.__struct_fields__:
        fields = {"key": f"k{client.next_id}", **fields}
    return await client.request(kind, **fields)


async def sent(client: WireClient, kind: type, **fields: object) -> protocol.Sent:
    reply = await post(client, kind, **fields)
    assert isinstance(reply, protocol.Sent), reply
    return reply


async def refused(client: WireClient, kind: type, **fields: object) -> str:
    reply = await post(client, kind, **fields)
    assert isinstance(reply, protocol.Error), reply
    return reply.code


async def login(server: RunningServer, identity: Identity) -> WireClient:
    client = await server.connect()
    reply = await client.login(identity)
    assert isinstance(reply, protocol.LoggedIn), reply
    return client


def shapes(entries: list[Entry]) -> list[tuple[str, object]]:
    """(event type, what it says) of each entry."""
    shown: list[tuple[str, object]] = []
    for entry in entries:
        if isinstance(entry, protocol.Message):
            shown.append(("message", entry.text))
        elif isinstance(entry, protocol.Edited):
            shown.append(("edited", (entry.target, entry.text)))
        elif isinstance(entry, protocol.Deleted):
            shown.append(("deleted", entry.target))
        else:
            shown.append(("reacted", (entry.target, entry.emoji, entry.on)))
    return shown


# --- reply, forward, mentions ------------------------------------------------------------------


async def test_a_reply_quotes_its_message_live_and_for_the_offline_member(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    question = await sent(ana, protocol.Send, text="Pizza hoje?", group=group)
    await bruno.entries(1)

    quote = protocol.ReplyTo(question.seq, ana_id.client_id)
    await sent(bruno, protocol.Send, text="Sim!", group=group, reply_to=quote)
    [answer] = await ana.entries(1)
    assert isinstance(answer, protocol.Message) and answer.reply_to == quote

    carla = await login(server, carla_id)
    first, second = await carla.entries(2)
    assert isinstance(second, protocol.Message)
    assert (first.seq, second.reply_to) == (question.seq, quote)


async def test_a_reply_naming_the_wrong_author_is_refused_and_an_old_one_is_taken(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    hello = await sent(ana, protocol.Send, text="oi", to=bruno_id.client_id)
    wrong = protocol.ReplyTo(hello.seq, bruno_id.client_id)
    code = await refused(bruno, protocol.Send, text="?", to=ana_id.client_id, reply_to=wrong)
    assert code == ErrorCode.UNKNOWN_MESSAGE
    # Older than the server remembers: taken as is, for the clients to resolve.
    ancient = protocol.ReplyTo(10**12, ana_id.client_id)
    await sent(bruno, protocol.Send, text="!", to=ana_id.client_id, reply_to=ancient)


async def test_a_forward_says_who_wrote_it(server: RunningServer) -> None:
    ana, _ = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    origin = protocol.Forwarded("Carla", None)
    await sent(ana, protocol.Send, text="olha isso", to=bruno_id.client_id, forwarded_from=origin)
    [message] = await bruno.entries(1)
    assert isinstance(message, protocol.Message) and message.forwarded_from == origin


async def test_mentions_name_members_of_the_group_only(server: RunningServer) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    _, stranger = await server.user("Zé")
    group = await make_group(ana, ana_id, (bruno, bruno_id))
    code = await refused(ana, protocol.Send, text="@Zé", group=group, mentions=[stranger.client_id])
    assert code == ErrorCode.NOT_A_MEMBER
    await sent(ana, protocol.Send, text="@Bruno", group=group, mentions=[bruno_id.client_id] * 2)
    [message] = await bruno.entries(1)
    assert isinstance(message, protocol.Message) and message.mentions == [bruno_id.client_id]


# --- edit ----------------------------------------------------------------------------------------


async def test_the_author_edits_and_everyone_sees_it_in_order_the_offline_member_too(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    typo = await sent(ana, protocol.Send, text="Chego às 9", group=group)
    await sent(ana, protocol.Send, text="Até já", group=group)
    edit = await sent(ana, protocol.Edit, target=typo.seq, text="Chego às 8", group=group)
    assert edit.seq > typo.seq

    live = await bruno.entries(3)
    assert shapes(live) == [
        ("message", "Chego às 9"),
        ("message", "Até já"),
        ("edited", (typo.seq, "Chego às 8")),
    ]
    assert isinstance(live[2], protocol.Edited) and live[2].sender == ana_id.client_id

    carla = await login(server, carla_id)
    assert shapes(await carla.entries(3)) == shapes(live)
    await carla.next_event(protocol.Synced)


async def test_nobody_edits_someone_elses_message(server: RunningServer) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    mine = await sent(ana, protocol.Send, text="meu", to=bruno_id.client_id)
    code = await refused(bruno, protocol.Edit, target=mine.seq, text="seu", to=ana_id.client_id)
    assert code == ErrorCode.NOT_AUTHOR
    reaction = await sent(bruno, protocol.React, target=mine.seq, emoji="👍", to=ana_id.client_id)
    code = await refused(bruno, protocol.Edit, target=reaction.seq, text="x", to=ana_id.client_id)
    assert code == ErrorCode.UNKNOWN_MESSAGE  # an entry is not a message


async def test_an_edit_after_the_window_is_refused(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, _ = await server.user("Ana")
    _, bruno_id = await server.user("Bruno")
    old = await sent(ana, protocol.Send, text="ontem", to=bruno_id.client_id)
    later = old.ts + 48 * 3_600_000 + 1
    monkeypatch.setattr(conversation_module, "now_ms", lambda: later)
    code = await refused(ana, protocol.Edit, target=old.seq, text="hoje", to=bruno_id.client_id)
    assert code == ErrorCode.EDIT_EXPIRED


async def test_an_edit_sent_again_with_its_key_is_stored_once(server: RunningServer) -> None:
    ana, _ = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    message = await sent(ana, protocol.Send, text="a", to=bruno_id.client_id)
    fields = {"key": "edit-1", "target": message.seq, "text": "b", "to": bruno_id.client_id}
    first = await ana.request(protocol.Edit, **fields)
    again = await ana.request(protocol.Edit, **fields)
    assert isinstance(first, protocol.Sent) and isinstance(again, protocol.Sent)
    assert again.duplicate and (again.message_id, again.seq) == (first.message_id, first.seq)
    assert shapes(await bruno.entries(2)) == [("message", "a"), ("edited", (message.seq, "b"))]
    await bruno.no_event(protocol.Edited)


async def test_an_unacknowledged_edit_comes_again_after_a_reconnect_and_a_restart(
    server: RunningServer,
) -> None:
    ana, _ = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    message = await sent(ana, protocol.Send, text="a", to=bruno_id.client_id)
    await bruno.entries(1)
    edit = await sent(ana, protocol.Edit, target=message.seq, text="b", to=bruno_id.client_id)
    [unacked] = await bruno.entries(1, ack=False)
    await bruno.close()
    await server.close_clients()
    await server.stop()
    await server.start()
    bruno = await login(server, bruno_id)
    [again] = await bruno.entries(1)
    assert again == unacked and again.message_id == edit.message_id


# --- delete --------------------------------------------------------------------------------------


async def test_deleting_stops_delivery_to_whoever_has_not_received_it(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    oops = await sent(ana, protocol.Send, text="mensagem errada", group=group)
    await sent(ana, protocol.Edit, target=oops.seq, text="ainda errada", group=group)
    await sent(bruno, protocol.React, target=oops.seq, emoji="😂", group=group)
    await sent(ana, protocol.Send, text="esta fica", group=group)
    await sent(ana, protocol.Delete, target=oops.seq, group=group)
    assert shapes(await bruno.entries(4)) == [
        ("message", "mensagem errada"),
        ("edited", (oops.seq, "ainda errada")),
        ("message", "esta fica"),
        ("deleted", oops.seq),
    ]

    carla = await login(server, carla_id)
    assert shapes(await carla.entries(2)) == [("message", "esta fica"), ("deleted", oops.seq)]
    await carla.next_event(protocol.Synced)
    await carla.no_event(protocol.Message)


async def test_an_admin_deletes_any_group_message_and_a_member_only_its_own(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla, carla_id = await server.user("Carla")
    group = await make_group(ana, ana_id, (bruno, bruno_id), (carla, carla_id))
    by_bruno = await sent(bruno, protocol.Send, text="spam", group=group)
    by_carla = await sent(carla, protocol.Send, text="oi", group=group)
    assert await refused(carla, protocol.Delete, target=by_bruno.seq, group=group) == (
        ErrorCode.NOT_AUTHOR
    )
    await sent(ana, protocol.Delete, target=by_bruno.seq, group=group)  # the admin
    await sent(carla, protocol.Delete, target=by_carla.seq, group=group)  # her own
    deleted = [e for e in await bruno.entries(3) if isinstance(e, protocol.Deleted)]
    assert [(d.sender, d.target) for d in deleted] == [
        (ana_id.client_id, by_bruno.seq),
        (carla_id.client_id, by_carla.seq),
    ]


async def test_a_deleted_message_is_not_edited_reacted_to_or_deleted_again(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    message = await sent(ana, protocol.Send, text="x", to=bruno_id.client_id)
    code = await refused(bruno, protocol.Delete, target=message.seq, to=ana_id.client_id)
    assert code == ErrorCode.NOT_AUTHOR  # in a direct chat, only the author
    await sent(ana, protocol.Delete, target=message.seq, to=bruno_id.client_id)
    peer = bruno_id.client_id
    for kind, fields in [
        (protocol.Edit, {"text": "y", "to": peer}),
        (protocol.Delete, {"to": peer}),
    ]:
        assert await refused(ana, kind, target=message.seq, **fields) == ErrorCode.MESSAGE_DELETED
    code = await refused(bruno, protocol.React, target=message.seq, emoji="👍", to=ana_id.client_id)
    assert code == ErrorCode.MESSAGE_DELETED


# --- reactions -----------------------------------------------------------------------------------


async def test_reactions_replace_and_come_back_in_order_for_the_offline_member(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    photo = await sent(ana, protocol.Send, text="foto da praia", group=group)
    await bruno.entries(1)
    for emoji, on in [("👍", True), ("❤️", True), ("❤️", False)]:
        await sent(bruno, protocol.React, target=photo.seq, emoji=emoji, on=on, group=group)
    live = await ana.entries(3)
    assert shapes(live) == [
        ("reacted", (photo.seq, "👍", True)),
        ("reacted", (photo.seq, "❤️", True)),
        ("reacted", (photo.seq, "❤️", False)),
    ]
    assert all(isinstance(e, protocol.Reacted) and e.sender == bruno_id.client_id for e in live)

    carla = await login(server, carla_id)
    assert shapes(await carla.entries(4)) == [("message", "foto da praia"), *shapes(live)]


async def test_an_older_client_that_ignores_entries_acknowledges_them_with_the_next_message(
    server: RunningServer,
) -> None:
    """Acks are cumulative: a client that does not know ``reacted`` skips it, and its
    ``ack`` of the next message covers it."""
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    mine = await sent(bruno, protocol.Send, text="oi", to=ana_id.client_id)
    await ana.entries(1)
    await sent(ana, protocol.React, target=mine.seq, emoji="👍", to=bruno_id.client_id)
    await sent(ana, protocol.Send, text="tudo bem?", to=bruno_id.client_id)
    messages = await bruno.messages(1)  # acknowledges the message only
    assert [m.text for m in messages] == ["tudo bem?"]
    await bruno.request(protocol.Ping)
    assert await server.pending(bruno_id.client_id) == 0


# --- isolation -----------------------------------------------------------------------------------


async def test_a_non_member_cannot_edit_delete_react_or_type_into_a_group(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    intruder, _ = await server.user("Zé")
    group = await make_group(ana, ana_id, (bruno, bruno_id))
    message = await sent(ana, protocol.Send, text="só nós", group=group)
    await bruno.entries(1)
    for kind, fields in [
        (protocol.Edit, {"text": "hack"}),
        (protocol.Delete, {}),
        (protocol.React, {"emoji": "💩"}),
    ]:
        code = await refused(intruder, kind, target=message.seq, group=group, **fields)
        assert code == ErrorCode.NOT_A_MEMBER
    intruder.typing(group=group)
    await intruder.request(protocol.Ping)
    await bruno.no_event(protocol.PeerTyping)
    await ana.no_event(protocol.PeerTyping, within=0.05)


async def test_a_stranger_gets_no_typing_and_no_presence(server: RunningServer) -> None:
    ana, ana_id = await server.user("Ana")
    stranger, stranger_id = await server.user("Zé")
    for client in (ana, stranger):
        reply = await client.request(protocol.SetPrivacy, presence="chats")
        assert isinstance(reply, protocol.Privacy)
    stranger.typing(to=ana_id.client_id)  # no conversation between them
    ana.typing(to=stranger_id.client_id)
    presences = await stranger.request(protocol.GetPresence, client_ids=[ana_id.client_id])
    assert isinstance(presences, protocol.Presences) and presences.presences == []
    await ana.close()
    await stranger.no_event((protocol.PeerTyping, protocol.Presence))
    ana = await login(server, ana_id)
    await stranger.no_event(protocol.Presence)
    await ana.no_event(protocol.PeerTyping, within=0.05)


# --- typing --------------------------------------------------------------------------------------


async def test_typing_reaches_online_members_at_most_every_few_seconds_and_is_never_stored(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    ana.typing(group=group)
    ana.typing(group=group)  # within the throttle: dropped
    on = await bruno.next_event(protocol.PeerTyping)
    assert (on.sender, on.group, on.on) == (ana_id.client_id, group, True)
    ana.typing(group=group, on=False)
    off = await bruno.next_event(protocol.PeerTyping)
    assert not off.on
    ana.typing(group=group, on=False)  # nothing to end: dropped
    ana.typing(group=group)  # within 3 s of the last "on", an "off" between or not: dropped
    await bruno.no_event(protocol.PeerTyping)
    monkeypatch.setattr(protocol, "TYPING_THROTTLE_SECONDS", 0.0)
    ana.typing(group=group)
    assert (await bruno.next_event(protocol.PeerTyping)).on
    await bruno.no_event(protocol.PeerTyping)
    await ana.no_event(protocol.PeerTyping, within=0.05)  # not to the typist

    assert await server.pending(carla_id.client_id) == 1  # the group's creation only
    carla = await login(server, carla_id)
    await carla.next_event(protocol.Synced)
    await carla.no_event(protocol.PeerTyping)


async def test_typing_in_a_direct_chat_once_a_message_was_sent(server: RunningServer) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    await sent(ana, protocol.Send, text="oi", to=bruno_id.client_id)
    await bruno.entries(1)
    bruno.typing(to=ana_id.client_id)
    event = await ana.next_event(protocol.PeerTyping)
    assert (event.sender, event.group, event.on) == (bruno_id.client_id, None, True)


# --- presence ------------------------------------------------------------------------------------


async def show_presence(
    first: WireClient, first_id: Identity, second: WireClient, second_id: Identity
) -> None:
    """Both show their presence: the first, already showing, hears that the second is
    online. The second may hear that the first is online too (the first's announcement
    is sent to whoever may see it when it goes out, which the second may be by then):
    true, and taken here, so that what a test waits for next is what it expects."""
    for client in (first, second):
        reply = await client.request(protocol.SetPrivacy, presence="chats")
        assert isinstance(reply, protocol.Privacy) and reply.presence == "chats"
    shown = await first.next_event(protocol.Presence)
    assert (shown.client_id, shown.online, shown.last_seen) == (second_id.client_id, True, None)
    with contextlib.suppress(TimeoutError):
        early = await second.next_event(protocol.Presence, timeout=0.5)
        assert (early.client_id, early.online, early.last_seen) == (first_id.client_id, True, None)


async def test_presence_is_private_by_default(server: RunningServer) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    await ana.add_contacts(bruno_id.client_id)
    await bruno.add_contacts(ana_id.client_id)
    reply = await ana.request(protocol.SetPrivacy)
    assert isinstance(reply, protocol.Privacy) and reply.presence == "nobody"
    reply = await ana.request(protocol.GetPresence, client_ids=[bruno_id.client_id])
    assert isinstance(reply, protocol.Presences) and reply.presences == []
    await bruno.close()
    await ana.no_event(protocol.Presence)


async def test_mutual_contacts_who_show_presence_see_online_and_last_seen(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    await ana.add_contacts(bruno_id.client_id)
    await bruno.add_contacts(ana_id.client_id)
    await show_presence(ana, ana_id, bruno, bruno_id)
    await bruno.no_event(protocol.Presence)
    reply = await ana.request(protocol.GetPresence, client_ids=[bruno_id.client_id, "ZZZZ-ZZZZ"])
    assert isinstance(reply, protocol.Presences)
    assert reply.presences == [protocol.PresenceInfo(bruno_id.client_id, True, None)]

    await bruno.close()
    gone = await ana.next_event(protocol.Presence)
    assert (gone.client_id, gone.online) == (bruno_id.client_id, False)
    assert gone.last_seen is not None
    bruno = await login(server, bruno_id)
    back = await ana.next_event(protocol.Presence)
    assert (back.client_id, back.online, back.last_seen) == (bruno_id.client_id, True, None)

    # Last seen is stored: it survives a restart.
    await bruno.close()
    await ana.next_event(protocol.Presence)
    await server.close_clients()
    await server.stop()
    await server.start()
    ana = await login(server, ana_id)
    reply = await ana.request(protocol.GetPresence, client_ids=[bruno_id.client_id])
    assert isinstance(reply, protocol.Presences)
    [bruno_now] = reply.presences
    assert not bruno_now.online and bruno_now.last_seen is not None
    assert bruno_now.last_seen >= gone.last_seen


async def test_group_members_see_each_other_and_hiding_is_announced(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    await make_group(ana, ana_id, (bruno, bruno_id))
    await show_presence(ana, ana_id, bruno, bruno_id)
    reply = await bruno.request(protocol.GetPresence, client_ids=[ana_id.client_id])
    assert isinstance(reply, protocol.Presences) and [p.online for p in reply.presences] == [True]
    reply = await bruno.request(protocol.SetPrivacy, presence="nobody")
    assert isinstance(reply, protocol.Privacy) and reply.presence == "nobody"
    hidden = await ana.next_event(protocol.Presence)
    assert (hidden.client_id, hidden.online, hidden.last_seen) == (bruno_id.client_id, False, None)
    # Who shows nobody sees nobody.
    reply = await bruno.request(protocol.GetPresence, client_ids=[ana_id.client_id])
    assert isinstance(reply, protocol.Presences) and reply.presences == []
    await ana.close()
    await bruno.no_event(protocol.Presence)


# --- groups: rename, describe, admins, delete ----------------------------------------------------


async def test_an_admin_renames_and_describes_the_group_and_the_offline_member_learns_it(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    assert await refused(bruno, protocol.UpdateGroup, group=group, name="Meu") == (
        ErrorCode.NOT_ADMIN
    )
    reply = await ana.request(
        protocol.UpdateGroup, group=group, name=" Família Lima ", description="Só a família"
    )
    assert isinstance(reply, protocol.GroupReply)
    assert (reply.group.name, reply.group.description) == ("Família Lima", "Só a família")
    update = await bruno.next_event(protocol.GroupUpdate)
    assert (update.change, update.actor, update.group.name) == (
        "updated", ana_id.client_id, "Família Lima",
    )  # fmt: skip
    bruno.ack([update.event_id])

    carla = await login(server, carla_id)
    changes = [await carla.next_event(protocol.GroupUpdate) for _ in range(2)]
    assert [c.change for c in changes] == ["created", "updated"]
    assert changes[-1].group.description == "Só a família"
    listed = await carla.request(protocol.ListGroups)
    assert isinstance(listed, protocol.Groups)
    assert [g.description for g in listed.groups] == ["Só a família"]


async def test_admins_promote_and_demote_and_a_group_keeps_an_admin(
    server: RunningServer,
) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    group = await make_group(ana, ana_id, (bruno, bruno_id))
    fields = {"group": group, "client_id": ana_id.client_id, "admin": False}
    assert await refused(bruno, protocol.SetAdmin, **fields) == ErrorCode.NOT_ADMIN
    assert await refused(ana, protocol.SetAdmin, **fields) == ErrorCode.LAST_ADMIN

    reply = await ana.request(
        protocol.SetAdmin, group=group, client_id=bruno_id.client_id, admin=True
    )
    assert isinstance(reply, protocol.GroupReply)
    assert all(m.admin for m in reply.group.members)
    promoted = await bruno.next_event(protocol.GroupUpdate)
    assert (promoted.change, promoted.subject) == ("promoted", bruno_id.client_id)
    reply = await bruno.request(protocol.SetAdmin, **fields)  # now he may, and Ana may go
    assert isinstance(reply, protocol.GroupReply)
    assert (await ana.next_event(protocol.GroupUpdate)).change == "promoted"
    demoted = await ana.next_event(protocol.GroupUpdate)
    assert (demoted.change, demoted.actor, demoted.subject) == (
        "demoted", bruno_id.client_id, ana_id.client_id,
    )  # fmt: skip
    assert [m.client_id for m in demoted.group.members if m.admin] == [bruno_id.client_id]


async def test_an_admin_deletes_the_group_for_everyone(server: RunningServer) -> None:
    ana, ana_id = await server.user("Ana")
    bruno, bruno_id = await server.user("Bruno")
    carla_id = await offline_user(server, "Carla", ana_id)
    group = await make_group(ana, ana_id, (bruno, bruno_id), (None, carla_id))
    await sent(bruno, protocol.Send, text="antes do fim", group=group)
    assert await refused(bruno, protocol.DeleteGroup, group=group) == ErrorCode.NOT_ADMIN
    assert isinstance(await ana.request(protocol.DeleteGroup, group=group), protocol.Ok)
    deleted = await bruno.next_event(protocol.GroupUpdate)
    assert (deleted.change, deleted.group.members) == ("deleted", [])
    assert await refused(bruno, protocol.Send, text="?", group=group) == ErrorCode.NOT_A_MEMBER

    carla = await login(server, carla_id)  # the message sent before still reaches her
    changes = [await carla.next_event(protocol.GroupUpdate) for _ in range(2)]
    assert [c.change for c in changes] == ["created", "deleted"]
    [message] = await carla.entries(1)
    assert isinstance(message, protocol.Message) and message.text == "antes do fim"


# --- every new request is rate-limited like the others ------------------------------------------


@pytest.mark.parametrize("kind", ["typing", "get_presence", "react"])
async def test_new_requests_take_from_the_rate_limit_like_the_others(
    server_factory: Callable[..., Awaitable[RunningServer]], kind: str
) -> None:
    server = await server_factory(rate_limit=50, rate_burst=5)
    ana, _ = await server.user("Ana")
    _, bruno_id = await server.user("Bruno")
    message = await sent(ana, protocol.Send, text="oi", to=bruno_id.client_id)
    await asyncio.sleep(0.2)  # the bucket refills
    loop = asyncio.get_running_loop()
    started = loop.time()
    replies = []
    for n in range(30):
        if kind == "typing":
            ana.session.send_typing(to=bruno_id.client_id, on=n % 2 == 0)
        elif kind == "get_presence":
            replies.append(ana.new_request(protocol.GetPresence, client_ids=[bruno_id.client_id]))
        else:
            replies.append(
                ana.new_request(
                    protocol.React, key=f"r{n}", target=message.seq, emoji="👍",
                    to=bruno_id.client_id,
                )
            )  # fmt: skip
    ana.flush()
    await ana.request(protocol.Ping)
    assert loop.time() - started >= (31 - 5) / 50 * 0.8  # paced by the bucket, not refused
    for _, future in replies:
        assert not isinstance(await future, protocol.Error)
