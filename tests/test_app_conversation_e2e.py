"""End to end, around the conversation: typing, presence, mute, pin, archive and group
settings, with real app instances driven through their widgets and a real server on
127.0.0.1, everything on one qasync loop (see ``tests/app_harness.py``)."""

from __future__ import annotations

import asyncio
import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMenu, QMessageBox

from messenger_gui.storage import is_system_line, now_ms
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.formatting import system_text
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


def _choose_privacy(app: AppUnderTest, everyone: bool) -> None:
    """Menu → Settings…, pick who sees when I am online, Save."""
    app.window.action_settings.trigger()
    dialog = app.controller.settings_dialog
    assert dialog is not None
    (dialog.everyone_button if everyone else dialog.nobody_button).click()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_presence_shows_online_and_last_seen_to_contacts_only_and_is_remembered(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        dave = scenario.app("dave", server)
        await dave.register("Dave")
        await dave.add_contact(alice.own_id, "Alice")  # one-sided: still a stranger to her
        alice.open_chat(bob.own_id)
        assert alice.window.header_subtitle.text() == f"ID {bob.own_id}"  # private by default

        _choose_privacy(alice, everyone=True)
        await alice.settle()
        assert alice.client.presence_of(bob.own_id) is None  # Bob shows it to nobody yet
        _choose_privacy(bob, everyone=True)
        await wait_until(lambda: alice.window.header_subtitle.text() == "online", 5, "online")
        await wait_until(
            lambda: (p := bob.client.presence_of(alice.own_id)) is not None and p.online,
            5,
            "bob to see alice online",
        )

        # The stranger shows his presence too, and still sees nothing of Alice's.
        _choose_privacy(dave, everyone=True)
        await _settled(dave)
        await dave.client.refresh_presence()
        assert dave.client.presence_of(alice.own_id) is None
        assert alice.client.presence_of(dave.own_id) is None

        await bob.quit()
        await wait_until(
            lambda: alice.window.header_subtitle.text().startswith("last seen today at "),
            5,
            "last seen",
        )
        assert dave.client.presence_of(bob.own_id) is None

        # Remembered: after a restart the choice is sent again and Bob is seen coming back.
        await alice.quit()
        alice = scenario.app("alice", server)
        alice.start()
        await alice.wait_online()
        assert alice.controller.privacy_setting() == "chats"
        assert alice.client.privacy == "chats"
        alice.open_chat(bob.own_id)
        bob = scenario.app("bob", server)
        bob.start()
        await bob.wait_online()
        await wait_until(lambda: alice.window.header_subtitle.text() == "online", 5, "back")

        # Hiding it again: Alice no longer sees Bob's either.
        _choose_privacy(alice, everyone=False)
        await wait_until(
            lambda: alice.window.header_subtitle.text() == f"ID {bob.own_id}", 5, "hidden"
        )
        # Bob is told (online false, last seen null: "a long time ago"), or, when his own
        # get_presence after login is answered after the change, does not see her at all.
        await wait_until(
            lambda: (
                (p := bob.client.presence_of(alice.own_id)) is None
                or (not p.online and p.last_seen is None)
            ),
            5,
            "bob told alice no longer shows it",
        )

    scenario.run(run)


def _trigger(menu: QMenu, name: str) -> None:
    for action in menu.actions():
        submenu = action.menu()
        candidates = [action, *(submenu.actions() if isinstance(submenu, QMenu) else [])]
        for candidate in candidates:
            if candidate.objectName() == name:
                candidate.trigger()
                return
    raise AssertionError(f"no {name!r} in the menu")


def test_mute_silences_a_group_but_a_mention_notifies_and_pin_archive_survive_a_restart(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carol = await registered(scenario, server, "Alice", "Bob", "Carol")
        group = await alice.client.create_group("Trip", [bob.own_id, carol.own_id])
        gid = group.group_id
        await wait_until(lambda: bob.store.group(gid) is not None, 5, "bob's group")
        assert bob.controller.tray is not None
        notified: list[str] = []
        bob.controller.tray.notification_shown.connect(lambda _t, text: notified.append(text))

        bob.window.schedule_reload()
        await wait_until(lambda: bob.window.conversation_model.row_of(gid) is not None, 5, "row")
        _trigger(bob.window.conversation_menu(gid), "mute_forever")
        await wait_until(lambda: bob.store.chat_settings(gid).muted(now_ms()), 5, "muted")

        alice.open_chat(gid, True)
        alice.activate()  # Bob is not looking: his app would notify
        alice.type_and_send("Plain news")
        await wait_until(lambda: len(bob.messages(gid)) == 1, 5, "the plain message")
        await bob.settle()
        assert notified == []

        composer = alice.window.composer
        alice.qtbot.keyClicks(composer.input, "Look @Bo")
        alice.qtbot.keyClick(composer.input, Qt.Key.Key_Tab)
        alice.qtbot.keyClicks(composer.input, "here")
        alice.qtbot.keyClick(composer.input, Qt.Key.Key_Return)
        await wait_until(lambda: len(bob.messages(gid)) == 2, 5, "the mention")
        assert bob.messages(gid)[1].text == "Look @Bob here"
        await wait_until(lambda: len(notified) == 1, 5, "the mention's notification")
        assert "Look @Bob here" in notified[0]
        await wait_until(lambda: len(carol.messages(gid)) == 2, 5, "carol's copy")

        # Bob pins Carol's chat and archives the muted group and Alice's chat.
        for conversation, action in (
            (carol.own_id, "pin"),
            (gid, "archive"),
            (alice.own_id, "archive"),
        ):
            _trigger(bob.window.conversation_menu(conversation), action)
        await wait_until(
            lambda: (
                bob.store.chat_settings(alice.own_id).archived
                and bob.store.chat_settings(gid).archived
            ),
            5,
            "archived",
        )
        await wait_until(
            lambda: (
                bob.window.conversation_model.summary(0) is not None
                and bob.window.conversation_model.summary(0).conversation == carol.own_id
            ),  # type: ignore[union-attr]
            5,
            "carol pinned on top",
        )
        # A new message in the archived muted group keeps it archived; an unmuted chat
        # comes back.
        alice.type_and_send("More news")
        alice.open_chat(bob.own_id)
        alice.type_and_send("Hi Bob")
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 1, 5, "alice's message")
        await bob.settle()
        assert bob.store.chat_settings(gid).archived
        assert not bob.store.chat_settings(alice.own_id).archived

        await bob.quit()
        bob = scenario.app("bob", server)
        bob.start()
        await bob.wait_online()
        settings = bob.store.chat_settings(gid)
        assert settings.archived and settings.muted(now_ms())
        assert bob.store.chat_settings(carol.own_id).pinned
        assert bob.window.conversation_model.summary(0).conversation == carol.own_id  # type: ignore[union-attr]
        assert gid not in [
            bob.window.conversation_filter.index(r, 0).data(ConversationRole.ID)
            for r in range(bob.window.conversation_filter.rowCount())
        ]
        assert bob.window.archive_button.text() == "Archived chats (1)"

    scenario.run(run)


def _lines(app: AppUnderTest, group_id: str) -> list[str]:
    """The system lines of the group's chat, as shown."""
    return [system_text(m.text) for m in app.messages(group_id) if is_system_line(m)]


def test_group_settings_reach_members_live_and_offline_with_system_lines(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carol = await registered(scenario, server, "Alice", "Bob", "Carol")
        group = await alice.client.create_group("Trip", [bob.own_id, carol.own_id])
        gid = group.group_id
        for person in (bob, carol):
            await wait_until(
                lambda p=person: p.store.group(gid) is not None,  # type: ignore[misc]
                5,
                "the group",
            )
        alice.open_chat(gid, True)
        alice.activate()
        alice.type_and_send("Before the changes")
        await wait_until(lambda: len(carol.messages(gid)) == 1, 5, "carol's message")
        await carol.quit()  # offline: learns everything at her next login

        bob.window.group_info_requested.emit(gid)
        bob_info = bob.controller.group_info_dialog
        assert bob_info is not None and not bob_info.is_admin
        assert not bob_info.settings_widgets.isVisibleTo(bob_info)  # read-only for him

        alice.window.group_info_requested.emit(gid)
        info = alice.controller.group_info_dialog
        assert info is not None and info.is_admin
        info.name_edit.setText("Trip 2026")
        info.description_edit.setPlainText("Bring boots")
        alice.qtbot.mouseClick(info.save_button, Qt.MouseButton.LeftButton)
        renamed = "Alice renamed the group to “Trip 2026”"
        await wait_until(lambda: _lines(bob, gid) == [renamed], 5, "bob's system line")
        stored = bob.store.group(gid)
        assert stored is not None and stored.description == "Bring boots"
        await wait_until(lambda: bob_info.title_label.text() == "Trip 2026", 5, "live dialog")
        assert bob_info.description_label.text() == "Bring boots"
        own = "You renamed the group to “Trip 2026”"
        await wait_until(lambda: _lines(alice, gid) == [own], 5, "alice's own line")
        assert "Before the changes" in alice.shown_texts()

        # The only admin cannot drop her rights; she makes Bob admin first.
        await wait_until(lambda: not info.progress.isVisible(), 5, "the dialog idle")
        info.select_member(alice.own_id)
        alice.qtbot.mouseClick(info.admin_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "make someone else admin" in info.error_text, 5, "last_admin")
        info.select_member(bob.own_id)
        alice.qtbot.mouseClick(info.admin_button, Qt.MouseButton.LeftButton)
        promoted = "Alice made Bob an admin"
        await wait_until(
            lambda: _lines(bob, gid)[-1:] == ["Alice made you an admin"], 5, "promoted"
        )
        await wait_until(lambda: bob_info.is_admin, 5, "bob's dialog editable")
        assert bob_info.settings_widgets.isVisibleTo(bob_info)

        # Carol, offline meanwhile, gets the changes at her next login, in order.
        carol = scenario.app("carol", server)
        carol.start()
        await carol.wait_online()
        await wait_until(lambda: _lines(carol, gid) == [renamed, promoted], 5, "carol's lines")
        assert next(m.text for m in carol.messages(gid)) == "Before the changes"
        stored = carol.store.group(gid)
        assert stored is not None and stored.name == "Trip 2026"
        assert {m.client_id for m in stored.members if m.admin} == {alice.own_id, bob.own_id}

        # An admin deletes the group, after confirming: everyone sees it ended.
        alice.qtbot.mouseClick(info.delete_button, Qt.MouseButton.LeftButton)
        box = info.confirm_box
        assert box is not None
        delete = next(
            b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
        )
        alice.qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
        await wait_until(lambda: alice.controller.group_info_dialog is None, 5, "dialog closed")
        for person, line in (
            (alice, "You deleted the group"),
            (bob, "Alice deleted the group"),
            (carol, "Alice deleted the group"),
        ):
            await wait_until(
                lambda p=person: (g := p.store.group(gid)) is not None and g.left,  # type: ignore[misc]
                5,
                "the group ended",
            )
            await wait_until(
                lambda p=person, w=line: _lines(p, gid)[-1:] == [w],  # type: ignore[misc]
                5,
                "the deletion's line",
            )
        exported = json.loads(bob.store.export_conversation(gid, "json"))
        assert [e["text"] for e in exported if e["sender"] is None][-1] == (
            "Alice deleted the group"
        )  # exports say it in English
        bob.open_chat(gid, True)
        assert not bob.window.composer.is_enabled()
        assert next(m.text for m in bob.messages(gid)) == "Before the changes"  # history kept

    scenario.run(run)
