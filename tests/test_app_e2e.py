"""End to end: real app instances driven through their widgets, a real server on
127.0.0.1, everything on one qasync loop (see ``tests/app_harness.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import trustme
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from messenger_gui.events import ConnectionState
from messenger_gui.storage import load_client_data
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

        shown = asyncio.Event()  # the view says what it shows (which would confirm reading)
        bob.window.chat_view.visible_range_changed.connect(shown.set)
        bob.open_chat(alice_id)  # shown, but Alice's window has the focus: not read yet
        await asyncio.wait_for(shown.wait(), 5)
        await bob.settle()
        await alice.settle()
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
        assert "Offline — retrying" in alice.window.connection_label.text()
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
        await alice.settle()  # every send of hers is answered, and each delivered...
        await bob.settle()  # ... before bob's pong: a duplicate would be here by now
        assert [m.text for m in bob.messages(alice.own_id)] == ["Written offline"]
        assert not retry.isVisibleTo(alice.window)

    scenario.run(run)


def test_group_of_three_created_in_the_dialog_reaches_everyone(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carol = await registered(scenario, server, "Alice", "Bob", "Carol")
        alice.window.new_group_requested.emit()
        dialog = alice.controller.new_group_dialog
        assert dialog is not None
        alice.qtbot.keyClicks(dialog.name_edit, "Weekend trip")
        dialog.set_checked(bob.own_id)
        dialog.set_checked(carol.own_id)
        alice.qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: alice.controller.new_group_dialog is None, 5, "the group")
        current = alice.window.current_conversation()
        assert current is not None and current[1]
        group_id = current[0]
        alice.activate()
        alice.type_and_send("Who brings the tent?")
        for person in (bob, carol):
            await wait_until(
                lambda p=person: (
                    [m.text for m in p.messages(group_id)]  # type: ignore[misc]
                    == ["Who brings the tent?"]
                ),
                5,
                "the group message",
            )
            group = person.store.group(group_id)
            assert group is not None and group.name == "Weekend trip"
        carol.open_chat(group_id, True)
        carol.type_and_send("I do")
        await wait_until(
            lambda: [m.text for m in bob.messages(group_id)] == ["Who brings the tent?", "I do"],
            5,
            "carol's reply at bob",
        )
        assert bob.messages(group_id)[1].sender_name == "Carol"

    scenario.run(run)


def test_group_info_admin_removes_a_member_and_a_member_leaves(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carol = await registered(scenario, server, "Alice", "Bob", "Carol")
        group = await alice.client.create_group("Book club", [bob.own_id])
        await wait_until(lambda: bob.store.group(group.group_id) is not None, 5, "bob's group")

        alice.window.group_info_requested.emit(group.group_id)
        info = alice.controller.group_info_dialog
        assert info is not None and info.is_admin
        info.select_contact_to_add(carol.own_id)
        alice.qtbot.mouseClick(info.add_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: carol.own_id in info.member_ids(), 5, "carol added")
        await wait_until(lambda: carol.store.group(group.group_id) is not None, 5, "carol told")
        info.select_member(bob.own_id)
        alice.qtbot.mouseClick(info.remove_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: bob.own_id not in info.member_ids(), 5, "bob removed")
        await wait_until(
            lambda: (g := bob.store.group(group.group_id)) is not None and g.left, 5, "bob told"
        )

        carol.window.group_info_requested.emit(group.group_id)
        carol_info = carol.controller.group_info_dialog
        assert carol_info is not None and not carol_info.is_admin
        assert not carol_info.admin_widgets.isVisibleTo(carol_info)
        carol.qtbot.mouseClick(carol_info.leave_button, Qt.MouseButton.LeftButton)
        box = carol_info.confirm_box
        assert box is not None
        leave = next(
            b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
        )
        carol.qtbot.mouseClick(leave, Qt.MouseButton.LeftButton)
        await wait_until(lambda: carol.controller.group_info_dialog is None, 5, "carol left")
        left = carol.store.group(group.group_id)
        assert left is not None and left.left
        await wait_until(
            lambda: (
                [m.client_id for m in alice.store.group_members(group.group_id)] == [alice.own_id]
            ),
            5,
            "alice to see carol leave",
        )

    scenario.run(run)


def test_history_survives_an_app_restart(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        alice.open_chat(bob.own_id)
        alice.type_and_send("First")
        alice.type_and_send("Second")
        await wait_until(lambda: alice.status_of(bob.own_id, "Second") == "delivered", 5, "sent")
        alice.window.resize(760, 520)
        await alice.quit()

        again = scenario.app("alice", server)
        again.start()
        await again.wait_online()
        assert again.own_id == alice.own_id
        again.open_chat(bob.own_id)
        assert again.shown_texts() == ["First", "Second"]
        assert again.store.contact(bob.own_id) is not None
        assert (again.window.width(), again.window.height()) == (760, 520)  # as it was left

    scenario.run(run)


def test_search_finds_part_of_a_word_and_jumps_to_the_message(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        texts = ["Good morning", "The reservation is for Friday"]
        texts += [f"Filler message number {i}" for i in range(40)]
        for text in texts:
            await bob.client.send_message(alice.own_id, False, text)
        await wait_until(lambda: len(alice.messages(bob.own_id)) == len(texts), 10, "messages")
        alice.open_chat(bob.own_id)  # opens at the newest messages
        view, model = alice.window.chat_view, alice.window.message_model

        def hit_visible(local_id: int) -> bool:
            row = model.row_of(local_id)
            return row is not None and view.visualRect(model.index(row, 0)).intersects(
                view.viewport().rect()
            )

        alice.activate()
        await wait_until(alice.window.isActiveWindow, 3, "alice's window to be active")
        alice.qtbot.keyClick(alice.window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        search = alice.controller.search_dialog
        assert search is not None
        alice.qtbot.keyClicks(search.query_edit, "reserv")
        await wait_until(lambda: search.results.count() == 1, 3, "the search result")
        hit = search.hits()[0]
        assert hit.text == "The reservation is for Friday"
        assert not hit_visible(hit.local_id)
        alice.qtbot.keyClick(search.query_edit, Qt.Key.Key_Return)
        await wait_until(lambda: alice.controller.search_dialog is None, 3, "the jump")
        assert alice.window.current_conversation() == (bob.own_id, False)
        await wait_until(lambda: hit_visible(hit.local_id), 3, "the message to be shown")

    scenario.run(run)


def test_register_over_tls_pins_the_certificate_and_connects(
    scenario: Scenario, tmp_path: Path
) -> None:
    authority = trustme.CA()  # not in the system store: the certificate is pinned on first use
    issued = authority.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.private_key_and_cert_chain_pem.write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))

    async def run() -> None:
        server = await scenario.start_server(tls_cert=cert, tls_key=key)
        app = scenario.app("maria", server)
        app.start()
        welcome = app.controller.welcome
        assert welcome is not None
        app.qtbot.keyClicks(welcome.name_edit, "Maria")
        welcome.tls_check.setChecked(True)
        app.qtbot.mouseClick(welcome.register_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: welcome.pages.currentIndex() == 1, 10, "registration")
        stored = load_client_data(app.profile)
        assert stored is not None and stored.use_tls and stored.tls_fingerprint
        assert stored.tls_fingerprint in welcome.fingerprint_label.text()
        app.qtbot.mouseClick(welcome.continue_button, Qt.MouseButton.LeftButton)
        await app.wait_online()

    scenario.run(run)


def test_offline_member_finds_the_group_and_its_messages_when_starting(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        await bob.quit()
        alice.window.new_group_requested.emit()
        dialog = alice.controller.new_group_dialog
        assert dialog is not None
        alice.qtbot.keyClicks(dialog.name_edit, "Book club")
        dialog.set_checked(bob.own_id)
        alice.qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: alice.controller.new_group_dialog is None, 5, "the group")
        current = alice.window.current_conversation()
        assert current is not None
        alice.type_and_send("First book: Dom Casmurro")

        bob_again = scenario.app("bob", server)
        bob_again.start()
        await bob_again.wait_online()
        await wait_until(
            lambda: bob_again.window.conversation_model.row_of(current[0]) is not None,
            5,
            "the group in bob's list",
        )
        await wait_until(
            lambda: (
                [m.text for m in bob_again.messages(current[0])] == ["First book: Dom Casmurro"]
            ),
            5,
            "the group message",
        )
        assert bob_again.store.total_unread() == 1

    scenario.run(run)


def test_register_on_an_invite_only_server_asks_for_the_code(scenario: Scenario) -> None:
    """Registration policy ``invite``: without a code the welcome dialog asks for one,
    a wrong code is refused with its own words, the right one registers."""

    async def run() -> None:
        server = await scenario.start_server(registration="invite")
        assert server.storage is not None
        await server.storage.create_invite("7KQM-4XPA-B8NZ", 1, 10**15, 0)  # as the CLI does
        ana = scenario.app("ana", server)
        ana.start()
        welcome = ana.controller.welcome
        assert welcome is not None
        ana.qtbot.keyClicks(welcome.name_edit, "Ana")
        ana.qtbot.keyClick(welcome.name_edit, Qt.Key.Key_Return)
        await wait_until(lambda: not welcome.busy, 10, "the server's answer")
        assert "invite code" in welcome.error_text
        assert welcome.invite_shown and welcome.focusWidget() is welcome.invite_edit

        ana.qtbot.keyClicks(welcome.invite_edit, "0000-0000-0000")
        ana.qtbot.keyClick(welcome.invite_edit, Qt.Key.Key_Return)
        await wait_until(lambda: not welcome.busy, 10, "the server's answer")
        assert "not valid" in welcome.error_text
        assert welcome.pages.currentIndex() == 0
        assert load_client_data(ana.profile) is None

        ana.qtbot.keyClicks(welcome.invite_edit, "7kqm 4xpa b8nz")  # replaces the wrong one
        ana.qtbot.keyClick(welcome.invite_edit, Qt.Key.Key_Return)
        await wait_until(lambda: welcome.pages.currentIndex() == 1, 10, "registered")
        identity = load_client_data(ana.profile)
        assert identity is not None and identity.client_id == welcome.id_label.text()
        ana.qtbot.mouseClick(welcome.continue_button, Qt.MouseButton.LeftButton)
        await ana.wait_online()

    scenario.run(run)
