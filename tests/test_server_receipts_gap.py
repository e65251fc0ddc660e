"""A server-side gap found while porting the desktop app to protocol 2, for the server's
engineers (the app cannot work around it): a member added to a group starts with a marker
at the end of the group's log (``SQLiteRepository``, ``AddMember``), which covers every
earlier message, under a fresh receipt version; but that marker is never pushed live
(``AddMember`` is not a ``MarkerMove``). A sender who then applies a live ``receipts`` event
with a higher version stores that version and asks for ``receipts_since`` it at the next
login, so it never hears of the new member's marker: for its earlier messages "delivered
to k of n" stays one short, and a message not yet delivered to everyone never turns
delivered, until the new member's marker moves past a message that sender sends later.

``protocol.Receipts`` promises that "every receipt change up to ``version`` that concerns
this client has been sent by the time this event is". Fix: push the starting marker of a new member
(as a ``receipts`` event) to the group's online members, like a marker move, or give it no
version of its own. Marked ``xfail(strict=True)``: it fails today; once fixed, drop the
mark (strict makes the fix visible)."""

from __future__ import annotations

import pytest

from messenger_server import protocol
from tests.conftest import RunningServer


@pytest.mark.xfail(strict=True, reason="a new member's starting marker is never pushed live")
async def test_a_new_members_starting_marker_reaches_a_sender_that_stored_a_later_version(
    server: RunningServer,
) -> None:
    alice, alice_identity = await server.user("Alice")
    bruno, bruno_identity = await server.user("Bruno")
    _dave, dave_identity = await server.user("Dave")
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
