"""End to end: a message the server refuses for good, as the user sees and handles it, with
real app instances driven through their widgets and a real server on 127.0.0.1 (see
``tests/app_harness.py``)."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QMessageBox

from tests.app_harness import AppUnderTest, Scenario, registered, scenario, wait_until

__all__ = ["scenario"]


def failure_of(app: AppUnderTest, conversation: str, text: str) -> str | None:
    [message] = [m for m in app.messages(conversation) if m.text == text]
    return message.failure


def shown_failure(app: AppUnderTest, text: str) -> str | None:
    """The failure of the bubble showing ``text`` in the open chat (what gets painted)."""
    model = app.window.message_model
    for row in range(model.rowCount()):
        message = model.message(row)
        if message is not None and message.text == text:
            return message.failure
    raise AssertionError(f"no bubble shows {text!r}")


def choose(app: AppUnderTest, text: str, action: str) -> None:
    """Right-click the bubble showing ``text`` and choose ``action`` in the menu."""
    view = app.window.chat_view
    model = app.window.message_model
    [row] = [r for r in range(model.rowCount()) if getattr(model.message(r), "text", "") == text]
    menu = QMenu(view)
    view.add_failure_actions(menu, model.index(row, 0))
    [chosen] = [a for a in menu.actions() if a.text() == action]
    chosen.trigger()


def warning_boxes(app: AppUnderTest) -> list[QMessageBox]:
    return [box for box in app.window.findChildren(QMessageBox) if box.isVisible()]


def test_a_message_refused_after_removal_is_shown_failed_then_retried_or_deleted(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        group = await bob.client.create_group("Trip", [alice.own_id])
        await wait_until(lambda: alice.store.group(group.group_id) is not None, 5, "the group")

        # Alice writes while offline; meanwhile Bob removes her from the group.
        alice.open_chat(group.group_id, True)
        alice.activate()
        await alice.client.stop()
        alice.type_and_send("Who brings the tent?")
        alice.type_and_send("And the stove?")
        await wait_until(lambda: "And the stove?" in alice.shown_texts(), 5, "queued bubbles")
        await bob.client.remove_member(group.group_id, alice.own_id)
        alice.controller.reconnect_now()
        await alice.wait_online()

        await wait_until(
            lambda: shown_failure(alice, "And the stove?") == "not_a_member", 5, "failed bubbles"
        )
        assert shown_failure(alice, "Who brings the tent?") == "not_a_member"
        assert "Message not sent" in alice.window.statusBar().currentMessage()
        assert warning_boxes(alice) == []  # the bubble says it, no modal box

        # Restarted, the app remembers: shown failed, not sent again, no new complaint.
        await alice.quit()
        alice = scenario.app("alice", server)
        alice.start()
        await alice.wait_online()
        alice.open_chat(bob.own_id)
        alice.type_and_send("See you Saturday")
        await wait_until(
            lambda: [m.text for m in bob.messages(alice.own_id)] == ["See you Saturday"],
            5,
            "a later message to arrive first",
        )
        assert bob.messages(group.group_id) == []
        assert "Message not sent" not in alice.window.statusBar().currentMessage()
        alice.open_chat(group.group_id, True)
        assert shown_failure(alice, "Who brings the tent?") == "not_a_member"

        # One is deleted; after Bob adds her back, the other is retried and arrives once.
        choose(alice, "And the stove?", "Delete")
        await wait_until(lambda: "And the stove?" not in alice.shown_texts(), 5, "the bubble to go")
        assert [m.text for m in alice.messages(group.group_id)] == ["Who brings the tent?"]
        await bob.client.add_member(group.group_id, alice.own_id)
        await wait_until(
            lambda: not getattr(alice.store.group(group.group_id), "left", True), 5, "re-added"
        )
        choose(alice, "Who brings the tent?", "Retry")
        await wait_until(
            lambda: [m.text for m in bob.messages(group.group_id)] == ["Who brings the tent?"],
            5,
            "bob to receive the retried message",
        )
        await wait_until(
            lambda: alice.status_of(group.group_id, "Who brings the tent?") != "queued",
            5,
            "the tick",
        )
        assert shown_failure(alice, "Who brings the tent?") is None
        assert failure_of(alice, group.group_id, "Who brings the tent?") is None
        await alice.settle()  # a duplicate would have been delivered before bob's pong
        await bob.settle()
        assert [m.text for m in bob.messages(group.group_id)] == ["Who brings the tent?"]
        assert warning_boxes(alice) == []

    scenario.run(run)
