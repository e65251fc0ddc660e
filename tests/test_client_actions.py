"""Replies, forwards, edits, deletions and reactions through the client core, against a
real server, with two or three real clients (protocol section 12)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from messenger_gui.client import register_client
from messenger_gui.events import ActionFailed, MessageSent, MessagesReceived, MessagesUpdated
from messenger_gui.storage import ClientStore, StoredMessage
from messenger_server import protocol
from messenger_server.service import conversation as conversation_module
from tests.client_support import Desktops, User, settle
from tests.conftest import RunningServer


@pytest.fixture
async def desktops(tmp_path: Path) -> AsyncIterator[Desktops]:
    opened = Desktops(tmp_path / "desktops")
    yield opened
    await opened.close()


def history(user: User, conversation: str) -> list[StoredMessage]:
    return user.store.messages_slice(conversation, 0, 100_000)


def by_text(user: User, conversation: str, text: str) -> StoredMessage:
    [found] = [m for m in history(user, conversation) if m.text == text]
    return found


async def sent(user: User, message: StoredMessage) -> StoredMessage:
    """``message`` once the server has stored it (it has a ``seq``)."""
    await user.log.wait(
        lambda: any(e.message.local_id == message.local_id for e in user.log.of(MessageSent))
    )
    stored = user.store.message(message.local_id)
    assert stored is not None and stored.seq is not None
    return stored


async def flushed(*users: User) -> None:
    """Every queued message and action of ``users`` answered by the server, then whatever
    the server sent them before that stored (``settle``): the others have it."""
    for user in users:
        await user.log.wait(lambda u=user: not u.store.outbox() and not u.store.outbox_entries())  # type: ignore[misc]
    await settle(*users)


async def group_of_three(
    server: RunningServer, desktops: Desktops, *, carla_online: bool
) -> tuple[User, User, User, str]:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla", start=carla_online)
    await bruno.add_contacts(server.port, ana)
    await carla.add_contacts(server.port, ana)
    group = await ana.client.create_group("Viagem", [bruno.id, carla.id])
    await bruno.log.wait(lambda: bruno.store.group(group.group_id) is not None)
    return ana, bruno, carla, group.group_id


async def test_reply_edit_and_reaction_reach_the_group_and_the_offline_member_at_login(
    server: RunningServer, desktops: Desktops
) -> None:
    ana, bruno, carla, group = await group_of_three(server, desktops, carla_online=False)
    question = await sent(ana, await ana.client.send_message(group, True, "Vamos sábado às 9?"))
    await bruno.log.wait(lambda: bool(bruno.log.of(MessagesReceived)))
    theirs = by_text(bruno, group, "Vamos sábado às 9?")

    answer = await bruno.client.send_message(
        group, True, "Pode ser às 10?", reply_to=theirs.local_id
    )
    assert answer.quote is not None and answer.quote.local_id == theirs.local_id
    await sent(bruno, answer)
    await ana.log.wait(lambda: bool(ana.log.of(MessagesReceived)))
    reply = history(ana, group)[1]
    assert reply.quote is not None
    assert (reply.quote.local_id, reply.quote.outgoing) == (question.local_id, True)
    assert reply.quote.text == "Vamos sábado às 9?"
    assert [e.messages[0].quote for e in ana.log.of(MessagesReceived)][-1] == reply.quote

    edited = await ana.client.edit_message(question.local_id, "Vamos sábado às 10?")
    assert edited.edited and edited.text == "Vamos sábado às 10?"
    assert await bruno.client.react(theirs.local_id, "👍") is not None
    await bruno.log.wait(lambda: bruno.store.message(theirs.local_id).edited)  # type: ignore[union-attr]
    await ana.log.wait(lambda: bool(ana.store.message(question.local_id).reactions))  # type: ignore[union-attr]
    updates = [e for e in bruno.log.of(MessagesUpdated) if e.conversation == group]
    assert updates[-1].local_ids == (theirs.local_id,)
    [reaction] = ana.store.message(question.local_id).reactions  # type: ignore[union-attr]
    assert (reaction.member, reaction.name, reaction.emoji) == (bruno.id, "Bruno", "👍")
    # Search finds the current text only; the quote of the reply shows it too.
    found = {h.local_id for h in bruno.store.search("às 10", conversation=group)}
    assert found == {theirs.local_id, by_text(bruno, group, "Pode ser às 10?").local_id}
    assert bruno.store.search("às 9") == []

    carla.client.start()
    await carla.log.wait(lambda: len(history(carla, group)) == 2)
    await carla.log.wait(lambda: bool(history(carla, group)[0].reactions))
    [first, second] = history(carla, group)
    assert (first.text, first.edited) == ("Vamos sábado às 10?", True)
    assert [(r.name, r.emoji) for r in first.reactions] == [("Bruno", "👍")]
    assert second.quote is not None and second.quote.local_id == first.local_id
    assert ana.store.outbox_entries() == [] and bruno.store.outbox_entries() == []
    exported = json.loads(carla.store.export_conversation(group, "json"))
    assert exported[0]["text"] == "Vamos sábado às 10?" and exported[0]["edited"] is True
    assert exported[1]["reply_to"] == {"seq": first.seq, "sender": ana.id}


async def test_a_deletion_leaves_a_placeholder_and_the_offline_member_never_sees_it(
    server: RunningServer, desktops: Desktops
) -> None:
    ana, bruno, carla, group = await group_of_three(server, desktops, carla_online=False)
    oops = await sent(bruno, await bruno.client.send_message(group, True, "Mensagem errada"))
    await ana.log.wait(lambda: len(history(ana, group)) == 1)
    await bruno.client.react(oops.local_id, "😂")
    await flushed(bruno, ana)
    reply = await ana.client.send_message(
        group, True, "O quê?", reply_to=history(ana, group)[0].local_id
    )
    await sent(ana, reply)

    assert bruno.client.may_delete_for_everyone(oops)
    gone = await bruno.client.delete_for_everyone(oops.local_id)
    assert (gone.deleted, gone.text, gone.reactions) == ("everyone", "", ())
    await ana.log.wait(lambda: history(ana, group)[0].deleted == "everyone")
    [placeholder, answer] = history(ana, group)
    assert placeholder.text == "" and placeholder.reactions == ()
    assert answer.quote is not None and answer.quote.deleted and answer.quote.text is None
    assert ana.store.search("errada") == [] and bruno.store.search("errada") == []
    page = ana.store.export_conversation(group, "html")
    assert "Message deleted" in page and "errada" not in page

    carla.client.start()
    await carla.log.wait(lambda: bool(carla.log.of(MessagesReceived)))
    await settle(carla)  # the rest of the backlog, if any, is the deletion
    # Withdrawn before it reached her: only the reply, quoting a message she never had.
    [only] = history(carla, group)
    assert only.text == "O quê?" and only.quote is not None and only.quote.local_id is None
    # Deleting again is refused by the client; a second delete cannot be queued.
    with pytest.raises(ValueError):
        await bruno.client.delete_for_everyone(oops.local_id)


async def test_an_admin_deletes_a_member_message_but_a_member_cannot_delete_the_admins(
    server: RunningServer, desktops: Desktops
) -> None:
    ana, bruno, _, group = await group_of_three(server, desktops, carla_online=True)
    mine = await sent(ana, await ana.client.send_message(group, True, "do admin"))
    theirs = await sent(bruno, await bruno.client.send_message(group, True, "do membro"))
    await settle(ana, bruno)
    assert not bruno.client.may_delete_for_everyone(by_text(bruno, group, "do admin"))
    at_ana = by_text(ana, group, "do membro")
    assert ana.client.may_delete_for_everyone(at_ana)
    await ana.client.delete_for_everyone(at_ana.local_id)
    await bruno.log.wait(lambda: bruno.store.message(theirs.local_id).deleted == "everyone")  # type: ignore[union-attr]
    assert mine.deleted is None


async def test_delete_for_me_changes_nothing_for_the_others(
    server: RunningServer, desktops: Desktops
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    message = await sent(ana, await ana.client.send_message(bruno.id, False, "segredo"))
    await settle(bruno)
    theirs = by_text(bruno, ana.id, "segredo")
    assert await bruno.client.delete_for_me(theirs.local_id)
    assert bruno.store.message(theirs.local_id).deleted == "me"  # type: ignore[union-attr]
    assert bruno.store.search("segredo") == []
    assert bruno.log.of(MessagesUpdated)[-1] == MessagesUpdated(ana.id, (theirs.local_id,))
    await settle(ana, bruno)
    assert ana.store.message(message.local_id).deleted is None  # type: ignore[union-attr]
    assert ana.store.outbox_entries() == [] and bruno.store.outbox_entries() == []


async def test_reactions_replace_and_toggle_off_one_per_member(
    server: RunningServer, desktops: Desktops
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    message = await sent(ana, await ana.client.send_message(bruno.id, False, "oi"))
    await settle(bruno)
    theirs = by_text(bruno, ana.id, "oi")

    def at_ana() -> list[str]:
        stored = ana.store.message(message.local_id)
        assert stored is not None
        return [r.emoji for r in stored.reactions]

    await bruno.client.react(theirs.local_id, "❤️")
    await bruno.client.react(theirs.local_id, "🇧🇷")  # replaces the heart
    await bruno.client.react(theirs.local_id, "❤️", on=False)  # not the current one: nothing
    await ana.client.react(message.local_id, "👍")  # one may react to one's own message
    await flushed(bruno, ana)
    assert sorted(at_ana()) == sorted(["🇧🇷", "👍"])
    await bruno.client.react(theirs.local_id, "🇧🇷", on=False)
    await flushed(bruno, ana)
    assert at_ana() == ["👍"]
    assert [r.emoji for r in bruno.store.message(theirs.local_id).reactions] == ["👍"]  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        await bruno.client.react(theirs.local_id, "ab")


async def test_actions_made_offline_survive_a_restart_and_are_sent_once(
    server: RunningServer, desktops: Desktops
) -> None:
    bruno = await desktops.user(server.port, "Bruno")
    identity = await register_client("127.0.0.1", server.port, "Ana")
    first = desktops.open(identity, "ana")
    await first.wait_online()
    one = await sent(first, await first.client.send_message(bruno.id, False, "um"))
    two = await sent(first, await first.client.send_message(bruno.id, False, "dois"))
    await first.client.stop()

    await first.client.edit_message(one.local_id, "um!")
    await first.client.react(one.local_id, "🙏")
    await first.client.delete_for_everyone(two.local_id)
    assert [e.kind for e in first.store.outbox_entries()] == ["edit", "react", "delete"]
    first.store.close()

    again = desktops.open(identity, "ana")  # a new store on the same directory
    await again.wait_online()
    await flushed(again, bruno)
    await bruno.log.wait(
        lambda: [m.text for m in history(bruno, identity.client_id)] == ["um!", ""]
    )
    [edited, deleted] = history(bruno, identity.client_id)
    assert edited.edited and [r.emoji for r in edited.reactions] == ["🙏"]
    assert deleted.deleted == "everyone"
    assert again.store.outbox_entries() == []
    # Sent once: after one more login nothing new reaches Bruno.
    changes = len(bruno.log.of(MessagesUpdated))
    await again.client.stop()
    again.client.start()
    await again.wait_online()
    await flushed(again, bruno)
    assert len(bruno.log.of(MessagesUpdated)) == changes


async def test_an_edit_after_the_servers_window_is_refused_and_the_old_text_comes_back(
    server: RunningServer, desktops: Desktops, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    old = await sent(ana, await ana.client.send_message(bruno.id, False, "ontem"))
    later = old.ts + 48 * 3_600_000 + 1
    monkeypatch.setattr(conversation_module, "now_ms", lambda: later)
    await ana.client.edit_message(old.local_id, "hoje")
    await ana.log.wait(lambda: bool(ana.log.of(ActionFailed)))
    [failed] = ana.log.of(ActionFailed)
    assert (failed.local_id, failed.kind, failed.code) == (old.local_id, "edit", "edit_expired")
    restored = ana.store.message(old.local_id)
    assert restored is not None and (restored.text, restored.edited) == ("ontem", False)
    assert ana.store.outbox_entries() == []
    assert ana.log.of(MessagesUpdated)[-1].local_ids == (old.local_id,)


async def test_a_forward_names_the_original_author(
    server: RunningServer, desktops: Desktops
) -> None:
    ana = await desktops.user(server.port, "Ana")
    bruno = await desktops.user(server.port, "Bruno")
    carla = await desktops.user(server.port, "Carla")
    await sent(carla, await carla.client.send_message(ana.id, False, "Olha isso"))
    await settle(ana)
    original = by_text(ana, carla.id, "Olha isso")
    forward = await ana.client.send_message(bruno.id, False, original.text, forwarded_from=original)
    assert (forward.forwarded_name, forward.forwarded_sender) == ("Carla", carla.id)
    await sent(ana, forward)
    await settle(bruno)
    got = by_text(bruno, ana.id, "Olha isso")
    assert (got.forwarded_name, got.forwarded_sender) == ("Carla", carla.id)
    # Forwarding the forward still names Carla.
    again = await bruno.client.send_message(carla.id, False, got.text, forwarded_from=got)
    assert again.forwarded_name == "Carla"


def test_entries_apply_once_in_seq_order_even_when_redelivered() -> None:
    store = ClientStore(None)
    peer = "K7QM-4XPA"
    message = protocol.Message(
        message_id=1, seq=1, ts=1, sender=peer, sender_name="Ana", text="a", to="B8NZ-2FHC"
    )

    def edited(seq: int, text: str) -> protocol.Edited:
        return protocol.Edited(
            message_id=seq, seq=seq, ts=seq, sender=peer, sender_name="Ana", target=1, text=text
        )

    def reacted(seq: int, emoji: str, on: bool) -> protocol.Reacted:
        return protocol.Reacted(
            message_id=seq,
            seq=seq,
            ts=seq,
            sender=peer,
            sender_name="Ana",
            target=1,
            emoji=emoji,
            on=on,
        )

    from messenger_gui.storage import Chunk

    saved = store.save_chunk(
        Chunk(messages=[message], entries=[edited(2, "b"), reacted(3, "👍", True)]), me="B8NZ-2FHC"
    )
    [stored] = saved.received
    assert saved.updated == [(peer, stored.local_id)]
    store.save_chunk(Chunk(entries=[reacted(4, "👍", False), edited(5, "c")]), me="B8NZ-2FHC")
    # A redelivery of the older entries changes nothing.
    again = store.save_chunk(
        Chunk(entries=[edited(2, "b"), reacted(3, "👍", True)]), me="B8NZ-2FHC"
    )
    assert again.updated == []
    current = store.message(stored.local_id)
    assert current is not None and (current.text, current.reactions) == ("c", ())
    # An entry for a message this history does not have is fine.
    orphan = protocol.Deleted(message_id=9, seq=9, ts=9, sender=peer, sender_name="Ana", target=7)
    assert store.save_chunk(Chunk(entries=[orphan]), me="B8NZ-2FHC").updated == []
    store.close()
