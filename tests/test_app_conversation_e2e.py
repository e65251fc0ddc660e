"""End to end, around the conversation: typing, presence, mute, pin, archive and group
settings, with real app instances driven through their widgets and a real server on
127.0.0.1, everything on one qasync loop (see ``tests/app_harness.py``)."""

from __future__ import annotations

import asyncio

from messenger_server import protocol
from tests.app_harness import AppUnderTest, Scenario, registered, scenario, wait_until

__all__ = ["scenario"]


async def _settled(*apps: AppUnderTest) -> None:
    """Every app's ``ping`` answered, in order: what one sent before has been handled
    by the server, and what the server forwarded to the next has been read."""
    for app in apps:
        await app.settle()


def test_typing_in_a_direct_chat_shows_to_the_peer_and_stops(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        alice.open_chat(bob.own_id)
        alice.activate()
        alice.type_and_send("Hi Bob")  # typing goes only where a conversation exists
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 1, 5, "the first message")
        bob.open_chat(alice.own_id)

        alice.qtbot.keyClicks(alice.window.composer.input, "Are you")
        await wait_until(
            lambda: bob.window.typing_shown(alice.own_id) == "Alice is typing…", 5, "typing"
        )
        assert bob.window.header_subtitle.text() == "Alice is typing…"
        assert bob.client.typing_in(alice.own_id) == [alice.own_id]
        # An "on" lasts 6 s unless renewed.
        later = asyncio.get_running_loop().time() + protocol.TYPING_EXPIRY_SECONDS
        assert bob.client.typing_in(alice.own_id, now=later) == []

        alice.window.composer.input.clear()  # emptied: "off"
        await wait_until(lambda: bob.window.typing_shown(alice.own_id) == "", 5, "typing off")
        assert bob.window.header_subtitle.text() != "Alice is typing…"

    scenario.run(run)


def test_typing_in_a_group_names_the_typists_and_never_reaches_strangers(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carol = await registered(scenario, server, "Alice", "Bob", "Carol")
        dave = scenario.app("dave", server)
        await dave.register("Dave")  # knows everyone's ID, shares no chat with anyone
        group = await alice.client.create_group("Trip", [bob.own_id, carol.own_id])
        for person in (bob, carol):
            await wait_until(
                lambda p=person: p.store.group(group.group_id) is not None,  # type: ignore[misc]
                5,
                "the group",
            )
        alice.open_chat(group.group_id, True)
        for person in (bob, carol):
            person.open_chat(group.group_id, True)
            person.qtbot.keyClicks(person.window.composer.input, "Sure")
        await wait_until(
            lambda: (
                alice.window.typing_shown(group.group_id)
                in (
                    "Bob and Carol are typing…",
                    "Carol and Bob are typing…",
                )
            ),
            5,
            "two typing",
        )
        assert alice.window.header_subtitle.text() == alice.window.typing_shown(group.group_id)
        assert bob.window.typing_shown(group.group_id) == "Carol is typing…"

        # A stranger's typing, to the group or to Alice, is dropped by the server.
        dave.client.draft_edited(group.group_id, True)
        dave.client.draft_edited(alice.own_id, False)
        await _settled(dave, alice)
        assert dave.own_id not in alice.client.typing_in(group.group_id)
        assert alice.client.typing_in(dave.own_id) == []
        assert alice.window.typing_shown(dave.own_id) == ""
        # And a member's typing never reaches the stranger.
        assert dave.client.typing_in(group.group_id) == []

        # Carol's message ends her typing at once.
        carol.activate()
        carol.qtbot.keyClick(carol.window.composer.input, "\r")
        await wait_until(
            lambda: alice.window.typing_shown(group.group_id) == "Bob is typing…",
            5,
            "carol's typing to end with her message",
        )

    scenario.run(run)
