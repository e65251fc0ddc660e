"""End to end: real app instances driven through their widgets, a real server on
127.0.0.1, everything on one qasync loop (see ``tests/app_harness.py``)."""

from __future__ import annotations

import asyncio

from tests.app_harness import Scenario, scenario, wait_until

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
