"""End to end: real app instances driven through their widgets, a real server on
127.0.0.1, everything on one qasync loop (see ``tests/app_harness.py``)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt

from messenger_gui.events import ConnectionState
from tests.app_harness import Scenario, registered, scenario, wait_until

__all__ = ["scenario"]


def test_register_add_contact_send_and_ticks_go_sent_delivered_read(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice = scenario.app("alice", server)
        bob = scenario.app("bob", server)
        alice_id = await alice.register("Alice")
        bob_id = await bob.register("Bob")
        assert alice_id != bob_id
        await alice.add_contact(bob_id, "Bob")
        assert alice.window.current_conversation() == (bob_id, False)

        alice.activate()
        alice.type_and_send("Hello Bob!")
        await wait_until(lambda: "Hello Bob!" in alice.shown_texts(), 5, "the bubble")
        await wait_until(
            lambda: alice.status_of(bob_id, "Hello Bob!") == "delivered", 5, "delivered"
        )
        await wait_until(lambda: bob.store.total_unread() == 1, 5, "bob's unread count")

        bob.open_chat(alice_id)  # shown, but Alice's window has the focus: not read yet
        await asyncio.sleep(0.3)
        assert alice.status_of(bob_id, "Hello Bob!") == "delivered"
        bob.activate()
        await wait_until(lambda: alice.status_of(bob_id, "Hello Bob!") == "read", 5, "read")
        assert bob.store.total_unread() == 0

    scenario.run(run)


def test_message_to_offline_peer_arrives_when_its_app_starts(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        bob_id = bob.own_id
        await bob.quit()
        alice.open_chat(bob_id)
        alice.activate()
        alice.type_and_send("Are you there?")
        alice.type_and_send("Call me")
        await wait_until(lambda: alice.status_of(bob_id, "Call me") == "sent", 5, "sent")

        bob_again = scenario.app("bob", server)  # the same profile: Bob starts the app
        bob_again.start()
        await bob_again.wait_online()
        await wait_until(lambda: bob_again.store.total_unread() == 2, 5, "the backlog")
        texts = [m.text for m in bob_again.messages(alice.own_id)]
        assert texts == ["Are you there?", "Call me"]
        await wait_until(lambda: alice.status_of(bob_id, "Call me") == "delivered", 5, "delivered")
        assert bob_again.controller.tray is not None

    scenario.run(run)


def test_message_typed_while_server_is_down_is_sent_once_it_returns(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        await server.stop()
        await wait_until(
            lambda: alice.controller.state == ConnectionState.WAITING, 5, "alice offline"
        )
        assert "Offline" in alice.window.connection_label.text()
        retry = alice.controller.retry_button
        assert retry is not None and retry.isVisibleTo(alice.window)

        alice.open_chat(bob.own_id)
        alice.type_and_send("Written offline")
        await wait_until(lambda: "Written offline" in alice.shown_texts(), 5, "queued bubble")
        assert alice.status_of(bob.own_id, "Written offline") == "queued"

        await server.start()
        alice.qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)  # "Retry now"
        bob.controller.reconnect_now()
        await alice.wait_online()
        await wait_until(
            lambda: [m.text for m in bob.messages(alice.own_id)] == ["Written offline"],
            10,
            "bob to receive it",
        )
        await wait_until(
            lambda: alice.status_of(bob.own_id, "Written offline") == "delivered", 5, "ticks"
        )
        await asyncio.sleep(0.3)  # a duplicate would have arrived by now
        assert [m.text for m in bob.messages(alice.own_id)] == ["Written offline"]
        assert not retry.isVisibleTo(alice.window)

    scenario.run(run)
