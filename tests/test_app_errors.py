"""What the user sees when things go wrong, and the app's behaviour around the window:
failed registration, bad contact IDs, offline, refused or replaced sessions, export,
notifications and quitting. Real server, real apps (see ``tests/app_harness.py``)."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from messenger_gui.client import MessengerClient
from messenger_gui.events import ConnectionState
from messenger_gui.storage import ClientStore, load_client_data
from tests.app_harness import Scenario, registered, scenario, wait_until
from tests.conftest import RunningServer

__all__ = ["scenario"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_welcome_says_when_the_server_cannot_be_reached_then_registers(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        app = scenario.app("maria", server)
        app.start()
        welcome = app.controller.welcome
        assert welcome is not None
        assert welcome.server_edit.text() == f"127.0.0.1:{server.port}"  # from --server
        welcome.server_edit.setText(f"127.0.0.1:{free_port()}")
        app.qtbot.keyClicks(welcome.name_edit, "Maria")
        app.qtbot.mouseClick(welcome.register_button, Qt.MouseButton.LeftButton)
        assert not welcome.register_button.isEnabled()  # busy
        await wait_until(lambda: not welcome.busy, 10, "the failure")
        assert "Cannot reach the server" in welcome.error_text
        assert load_client_data(app.profile) is None

        welcome.server_edit.setText(f"127.0.0.1:{server.port}")
        app.qtbot.mouseClick(welcome.register_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: welcome.pages.currentIndex() == 1, 10, "registration")
        stored = load_client_data(app.profile)
        assert stored is not None and stored.client_id == welcome.id_label.text()
        assert stored.display_name == "Maria"
        app.qtbot.mouseClick(welcome.continue_button, Qt.MouseButton.LeftButton)
        await app.wait_online()

    scenario.run(run)


def test_welcome_says_when_registration_is_closed(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server(registration="closed")
        app = scenario.app("maria", server)
        app.start()
        welcome = app.controller.welcome
        assert welcome is not None
        app.qtbot.keyClicks(welcome.name_edit, "Maria")
        app.qtbot.mouseClick(welcome.register_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: not welcome.busy, 10, "the refusal")
        assert "does not accept new registrations" in welcome.error_text

    scenario.run(run)


def test_closing_the_welcome_dialog_quits(scenario: Scenario) -> None:
    async def run() -> None:
        app = scenario.app("maria", None)
        app.start()
        assert app.controller.welcome is not None
        app.controller.welcome.reject()
        await wait_until(lambda: app.controller.stopped, 5, "the app to end")
        assert app.controller.window is None

    scenario.run(run)


def test_add_contact_errors_unknown_id_and_offline(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        (alice,) = await registered(scenario, server, "Alice")
        alice.window.add_contact_requested.emit()
        dialog = alice.controller.add_contact_dialog
        assert dialog is not None
        alice.qtbot.keyClicks(dialog.id_edit, "ZZZZ-ZZZZ")
        alice.qtbot.mouseClick(dialog.lookup_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "no one with this ID" in dialog.result_text, 5, "unknown")
        assert not dialog.add_button.isEnabled()

        dialog.id_edit.setText(alice.own_id)
        alice.qtbot.mouseClick(dialog.lookup_button, Qt.MouseButton.LeftButton)
        assert "your own ID" in dialog.result_text

        await server.stop()
        await wait_until(lambda: alice.controller.state != ConnectionState.ONLINE, 5, "offline")
        dialog.id_edit.setText("ZZZZ-ZZZ0")
        alice.qtbot.mouseClick(dialog.lookup_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "offline" in dialog.result_text, 5, "the offline error")
        assert dialog.lookup_button.isEnabled()  # may retry later

    scenario.run(run)


def test_refused_credential_and_session_replaced_are_shown(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")

        identity = load_client_data(alice.profile)
        assert identity is not None
        with ClientStore(None) as other_store:
            elsewhere = MessengerClient(other_store, identity)
            elsewhere.start()
            await wait_until(
                lambda: alice.controller.state == ConnectionState.REPLACED, 5, "replaced"
            )
            assert "Signed in elsewhere" in alice.window.connection_label.text()
            retry = alice.controller.retry_button
            assert retry is not None and retry.isVisibleTo(alice.window)
            assert retry.text() == "Use here"
            await elsewhere.stop()

        assert server.storage is not None
        await server.storage.set_client_disabled(bob.own_id, True)
        bob.client.reconnect_now()
        await server.stop()
        await server.start()
        await wait_until(lambda: bob.controller.state == ConnectionState.REFUSED, 10, "refused")
        assert "disabled" in bob.window.connection_label.text()

        alice.qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)  # "Use here"
        await alice.wait_online()
        assert not retry.isVisibleTo(alice.window)

    scenario.run(run)


def test_export_chat_as_html_and_json(scenario: Scenario, tmp_path: Path) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        alice.open_chat(bob.own_id)
        alice.type_and_send("Fish & chips <tonight>?")
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 1, 5, "the message")
        for fmt in ("html", "json"):
            alice.window.export_requested.emit(bob.own_id, fmt)
            dialog = alice.controller.export_dialog
            assert isinstance(dialog, QFileDialog)
            assert dialog.selectedFiles()[0].endswith(f"Bob.{fmt}")
            target = tmp_path / f"export.{fmt}"
            dialog.selectFile(str(target))
            dialog.accept()
            await wait_until(
                lambda name=f"export.{fmt}": name in alice.window.statusBar().currentMessage(),
                5,
                f"the {fmt} export",
            )
        page = (tmp_path / "export.html").read_text(encoding="utf-8")
        assert "Fish &amp; chips &lt;tonight&gt;?" in page
        items = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
        assert [item["text"] for item in items] == ["Fish & chips <tonight>?"]
        # Readable by the user only, as the history is.
        for fmt in ("html", "json"):
            assert stat.S_IMODE(os.stat(tmp_path / f"export.{fmt}").st_mode) == 0o600

    scenario.run(run)


def test_notification_only_when_the_chat_is_not_in_view(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        assert bob.controller.tray is not None
        assert not bob.controller.tray.available  # offscreen: no tray, notifications cope
        shown: list[tuple[str, str]] = []
        bob.controller.tray.notification_shown.connect(lambda t, x: shown.append((t, x)))

        alice.activate()  # Bob's window is in the background
        alice.open_chat(bob.own_id)
        alice.type_and_send("Dinner at eight?")
        await wait_until(lambda: shown, 5, "a notification")
        assert shown == [("Alice", "Dinner at eight?")]
        # The taskbar shows it too, once the list has been read again.
        await wait_until(lambda: bob.window.windowTitle() == "Messenger (1)", 5, "the title")
        bob.controller.tray.notification_clicked.emit()  # a click opens that chat
        assert bob.window.current_conversation() == (alice.own_id, False)

        bob.activate()
        await wait_until(bob.window.isActiveWindow, 3, "bob's window to be active")
        alice.type_and_send("Or nine")
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 2, 5, "second message")
        assert shown == [("Alice", "Dinner at eight?")]  # Bob was looking at the chat
        await wait_until(lambda: bob.store.total_unread() == 0, 5, "read")
        # The title follows once the server has confirmed the read.
        await wait_until(lambda: bob.window.windowTitle() == "Messenger", 5, "the title")

    scenario.run(run)


def test_closing_the_window_without_a_tray_quits_cleanly(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        (bob,) = await registered(scenario, server, "Bob")
        bob.window.close()
        await wait_until(lambda: bob.controller.stopped, 5, "bob's app to stop")
        assert bob.client.state == ConnectionState.OFFLINE
        assert not bob.window.isVisible()

    scenario.run(run)


def test_server_option_overrides_the_stored_address(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        (alice,) = await registered(scenario, server, "Alice")
        await alice.quit()
        old_port = server.port
        await server.stop()
        moved = RunningServer(server.settings.data_dir)  # same data, a new port
        await moved.start()
        scenario.servers.append(moved)
        assert moved.port != old_port
        again = scenario.app("alice", moved)  # as with --server 127.0.0.1:<new port>
        again.start()
        await again.wait_online()
        stored = load_client_data(again.profile)
        assert stored is not None and stored.server_port == old_port  # not rewritten

    scenario.run(run)


def test_a_message_the_server_refuses_for_good_is_reported(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        group = await alice.client.create_group("Plans", [bob.own_id])
        await wait_until(lambda: bob.store.group(group.group_id) is not None, 5, "the group")
        await bob.quit()
        await alice.client.remove_member(group.group_id, bob.own_id)
        bob_again = scenario.app("bob", server)
        bob_again.start()  # still thinks it is a member until the server says otherwise
        queued = await bob_again.client.send_message(group.group_id, True, "Am I still here?")
        status_bar = bob_again.window.statusBar()
        await wait_until(lambda: "Message not sent" in status_bar.currentMessage(), 5, "a report")
        assert "not a member" in status_bar.currentMessage()
        # No modal box: the bubble shows it (see tests/test_app_failed.py).
        assert bob_again.controller.last_error_box is None
        refused = bob_again.store.message(queued.local_id)
        assert refused is not None and refused.failure == "not_a_member"

    scenario.run(run)


def test_a_server_that_lost_the_identity_is_explained(scenario: Scenario) -> None:
    async def run() -> None:
        first = await scenario.start_server()
        (alice,) = await registered(scenario, first, "Alice")
        await alice.quit()
        reset = await scenario.start_server()  # a server with empty data
        again = scenario.app("alice", reset)
        again.start()
        await wait_until(
            lambda: again.controller.state == ConnectionState.REFUSED, 5, "the refusal"
        )
        assert "does not know this identity" in again.window.connection_label.text()

    scenario.run(run)
