"""Message actions end to end through the app's widgets: reply, edit, delete, react, copy,
forward and multi-select, with real apps on a real server (issue 11)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QMenu, QMessageBox, QStyleOptionViewItem

from messenger_gui.storage import ConversationSummary, StoredMessage
from messenger_gui.ui.chat import QUICK_REACTIONS
from messenger_gui.ui.conversations import _preview
from messenger_server.service import conversation as conversation_module
from tests.app_harness import AppUnderTest, Scenario, registered, scenario, wait_until

__all__ = ["scenario"]


def shown(app: AppUnderTest, local_id: int) -> StoredMessage:
    """The message as the open chat's model has it now (it must be loaded)."""
    model = app.window.message_model
    row = model.row_of(local_id)
    assert row is not None, f"message {local_id} is not loaded"
    message = model.message(row)
    assert message is not None
    return message


def by_text(app: AppUnderTest, conversation: str, text: str) -> StoredMessage:
    [found] = [m for m in app.messages(conversation) if m.text == text]
    return found


def menu_for(app: AppUnderTest, *local_ids: int) -> QMenu:
    """Select the messages (as Ctrl+clicks would) and open the context menu on the last."""
    view, model = app.window.chat_view, app.window.message_model
    view.selectionModel().clearSelection()
    for local_id in local_ids:
        row = app.window.message_model.load_around(local_id)
        assert row is not None
        view.selectionModel().select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    index = model.index(model.row_of(local_ids[-1]) or 0, 0)
    return view.build_context_menu(index, view.visualRect(index).center())


def action(menu: QMenu, name: str) -> QAction | None:
    """The action called ``name`` (object name, or text) in ``menu`` or its submenus."""
    for item in menu.actions():
        if item.objectName() == name or item.text() == name:
            return item
        sub = item.menu()
        if isinstance(sub, QMenu):
            found = action(sub, name)
            if found is not None:
                return found
    return None


def trigger(menu: QMenu, name: str) -> None:
    found = action(menu, name)
    assert found is not None, f"no {name!r} in the menu"
    found.trigger()


def option_for(app: AppUnderTest, local_id: int) -> tuple[QStyleOptionViewItem, object]:
    view, model = app.window.chat_view, app.window.message_model
    row = model.row_of(local_id)
    assert row is not None
    index = model.index(row, 0)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualRect(index)
    return option, index


def test_reply_from_the_menu_quotes_and_a_click_on_the_quote_jumps_far_back(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        await alice.client.send_message(bob.own_id, False, "Vamos sábado às 9?")
        for n in range(130):  # the question ends up far above the newest page
            await alice.client.send_message(bob.own_id, False, f"filler {n}")
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 131, 10, "the messages")
        question = by_text(bob, alice.own_id, "Vamos sábado às 9?")
        bob.open_chat(alice.own_id)
        bob.activate()
        composer = bob.window.composer

        trigger(menu_for(bob, question.local_id), "replyMessage")
        assert composer.action_bar.isVisibleTo(bob.window)
        assert composer.action_title.text() == "Reply to Alice"
        assert composer.action_preview.text() == "Vamos sábado às 9?"
        bob.qtbot.keyClick(composer.input, Qt.Key.Key_Escape)  # Esc cancels
        assert composer.reply_target is None and not composer.action_bar.isVisibleTo(bob.window)

        trigger(menu_for(bob, question.local_id), "replyMessage")
        bob.type_and_send("Pode ser as 10")
        assert composer.reply_target is None and not composer.action_bar.isVisibleTo(bob.window)
        await wait_until(lambda: "Pode ser as 10" in bob.shown_texts(), 5, "the reply bubble")
        reply = by_text(bob, alice.own_id, "Pode ser as 10")
        assert reply.quote is not None and reply.quote.local_id == question.local_id

        await wait_until(lambda: len(alice.messages(bob.own_id)) == 132, 10, "the reply")
        mine = by_text(alice, bob.own_id, "Vamos sábado às 9?")
        alice.open_chat(bob.own_id)
        alice.activate()
        view, model = alice.window.chat_view, alice.window.message_model
        model.reload()  # as when the chat is opened: the newest page
        answer = by_text(alice, bob.own_id, "Pode ser as 10")
        assert model.row_of(mine.local_id) is None  # not loaded: 100 rows a page
        view.scrollTo(model.index(model.row_of(answer.local_id) or 0, 0))
        option, index = option_for(alice, answer.local_id)
        quote = view.delegate.quote_rect(option, index)  # type: ignore[arg-type]
        assert quote is not None
        assert view.delegate.quote_texts(shown(alice, answer.local_id)) == (
            "You",
            "Vamos sábado às 9?",
        )
        alice.qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=quote.center().toPoint()
        )
        assert model.highlighted is not None and model.highlighted[0] == mine.local_id
        row = model.row_of(mine.local_id)
        assert row is not None
        assert view.visualRect(model.index(row, 0)).intersects(view.viewport().rect())

        # The quoted message deleted: the reply says so.
        await alice.client.delete_for_everyone(mine.local_id)
        await alice.settle()
        await wait_until(
            lambda: shown(alice, answer.local_id).quote.deleted,  # type: ignore[union-attr]
            5,
            "the quote to show the deletion",
        )
        bob.window.message_model.load_around(reply.local_id)
        await wait_until(
            lambda: view.delegate.quote_texts(shown(bob, reply.local_id))[1] == "Deleted message",
            5,
            "Bob's reply to say its quote was deleted",
        )

    scenario.run(run)


def test_up_arrow_edits_the_last_message_esc_cancels_and_the_peer_sees_edited(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        alice.open_chat(bob.own_id)
        alice.activate()
        alice.type_and_send("first")
        alice.type_and_send("Vamos as 9")
        await wait_until(lambda: alice.status_of(bob.own_id, "Vamos as 9") == "delivered", 5, "")
        composer = alice.window.composer
        composer.set_text("")
        alice.qtbot.keyClick(composer.input, Qt.Key.Key_Up)
        assert composer.edit_target == by_text(alice, bob.own_id, "Vamos as 9").local_id
        assert composer.text() == "Vamos as 9"
        assert composer.action_title.text() == "Edit message"
        alice.qtbot.keyClick(composer.input, Qt.Key.Key_Escape)
        assert composer.edit_target is None and composer.text() == ""

        composer.set_text("a draft")  # kept while editing, and back afterwards
        trigger(menu_for(alice, by_text(alice, bob.own_id, "Vamos as 9").local_id), "editMessage")
        composer.set_text("Vamos as 10")
        alice.qtbot.keyClick(composer.input, Qt.Key.Key_Return)
        assert composer.edit_target is None and composer.text() == "a draft"
        await wait_until(lambda: "Vamos as 10" in alice.shown_texts(), 5, "the edit")
        edited = by_text(alice, bob.own_id, "Vamos as 10")
        assert edited.edited and shown(alice, edited.local_id).edited

        bob.open_chat(alice.own_id)
        await wait_until(
            lambda: "Vamos as 10" in bob.shown_texts(), 5, "the edit at Bob's, in place"
        )
        theirs = by_text(bob, alice.own_id, "Vamos as 10")
        assert theirs.edited and bob.shown_texts() == ["first", "Vamos as 10"]
        assert bob.window.chat_view.delegate._meta_text(theirs).startswith("edited ")
        assert action(menu_for(bob, theirs.local_id), "editMessage") is None  # not Bob's

    scenario.run(run)


def test_an_edit_after_the_window_is_refused_with_a_clear_message(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        alice.open_chat(bob.own_id)
        alice.activate()
        alice.type_and_send("ontem")
        await wait_until(lambda: alice.status_of(bob.own_id, "ontem") == "delivered", 5, "")
        old = by_text(alice, bob.own_id, "ontem")
        monkeypatch.setattr(conversation_module, "now_ms", lambda: old.ts + 49 * 3_600_000)
        alice.window.start_edit(old.local_id)
        alice.window.composer.set_text("hoje")
        alice.qtbot.keyClick(alice.window.composer.input, Qt.Key.Key_Return)
        await wait_until(lambda: alice.controller.last_error_box is not None, 5, "the error")
        box = alice.controller.last_error_box
        assert box is not None and "too late to edit" in box.text()
        await wait_until(lambda: shown(alice, old.local_id).text == "ontem", 5, "the old text")
        assert not shown(alice, old.local_id).edited

    scenario.run(run)


def test_delete_asks_for_me_or_for_everyone_and_leaves_a_placeholder(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        for text in ("oops", "keep", "mine only"):
            await alice.client.send_message(bob.own_id, False, text)
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 3, 5, "the messages")
        alice.open_chat(bob.own_id)
        bob.open_chat(alice.own_id)
        oops = by_text(alice, bob.own_id, "oops")

        trigger(menu_for(alice, oops.local_id), "deleteMessages")
        box = alice.controller.delete_box
        assert box is not None and box.isVisible()
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
        for_all = box.findChild(object, "deleteForEveryone")
        assert for_all is not None
        for_all.click()  # type: ignore[attr-defined]
        await wait_until(lambda: shown(alice, oops.local_id).deleted == "everyone", 5, "")
        theirs = by_text(bob, alice.own_id, "keep")
        await wait_until(
            lambda: [m.deleted for m in bob.messages(alice.own_id)] == ["everyone", None, None],
            5,
            "the placeholder at Bob's",
        )
        placeholder = bob.messages(alice.own_id)[0]
        assert bob.window.chat_view.delegate.deleted_text(placeholder) == "Message deleted"
        await wait_until(
            lambda: shown(bob, placeholder.local_id).deleted == "everyone", 5, "Bob's chat"
        )
        assert bob.store.search("oops") == []
        assert action(menu_for(bob, placeholder.local_id), "replyMessage") is None

        # Bob may delete Alice's message only for himself (a direct chat).
        trigger(menu_for(bob, theirs.local_id), "deleteMessages")
        box = bob.controller.delete_box
        assert box is not None and box.findChild(object, "deleteForEveryone") is None
        box.findChild(object, "deleteForMe").click()  # type: ignore[union-attr]
        await wait_until(lambda: shown(bob, theirs.local_id).deleted == "me", 5, "for me")
        await alice.settle()
        assert by_text(alice, bob.own_id, "keep").deleted is None

        # Cancel (the default, and Esc) deletes nothing.
        only = by_text(alice, bob.own_id, "mine only")
        trigger(menu_for(alice, only.local_id), "deleteMessages")
        box = alice.controller.delete_box
        assert box is not None
        alice.qtbot.keyClick(box, Qt.Key.Key_Escape)
        await alice.settle()
        assert by_text(alice, bob.own_id, "mine only").deleted is None

    scenario.run(run)


def test_reactions_from_the_menu_and_any_emoji_show_as_chips_that_toggle(
    scenario: Scenario,
) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        await alice.client.send_message(bob.own_id, False, "Chegamos!")
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 1, 5, "the message")
        alice.open_chat(bob.own_id)
        bob.open_chat(alice.own_id)
        bob.activate()
        theirs = bob.messages(alice.own_id)[0]
        mine = alice.messages(bob.own_id)[0]
        menu = menu_for(bob, theirs.local_id)
        react_menu = action(menu, "reactMenu")
        assert react_menu is not None
        assert [a.text() for a in react_menu.menu().actions()[: len(QUICK_REACTIONS)]] == list(  # type: ignore[union-attr]
            QUICK_REACTIONS
        )
        trigger(menu, "👍")
        await wait_until(lambda: bool(shown(alice, mine.local_id).reactions), 5, "the chip")
        view = alice.window.chat_view
        option, index = option_for(alice, mine.local_id)
        built = view.delegate.layout(option, index)  # type: ignore[arg-type]
        assert built is not None and built.chips is not None
        [chip] = built.chips
        assert (chip.emoji, chip.count, chip.names, chip.mine) == ("👍", 1, ("Bob",), False)

        # Alice reacts the same by clicking Bob's chip: two; any emoji through the dialog.
        alice.qtbot.mouseClick(
            view.viewport(),
            Qt.MouseButton.LeftButton,
            pos=chip.rect.translated(option.rect.topLeft().toPointF()).center().toPoint(),
        )
        await wait_until(lambda: len(shown(alice, mine.local_id).reactions) == 2, 5, "two")
        trigger(menu_for(bob, theirs.local_id), "otherReaction")
        dialog = bob.controller.reaction_dialog
        assert dialog is not None
        dialog.setTextValue("🇧🇷")
        dialog.accept()
        await wait_until(
            lambda: (
                sorted(r.emoji for r in shown(alice, mine.local_id).reactions)
                == sorted(["👍", "🇧🇷"])
            ),
            5,
            "Bob's flag replacing his thumb",
        )
        # Bob clicks his own chip: taken back.
        await bob.settle()
        option, index = option_for(bob, theirs.local_id)
        built = bob.window.chat_view.delegate.layout(option, index)  # type: ignore[arg-type]
        assert built is not None and built.chips is not None
        [flag] = [c for c in built.chips if c.mine]
        bob.qtbot.mouseClick(
            bob.window.chat_view.viewport(),
            Qt.MouseButton.LeftButton,
            pos=flag.rect.translated(option.rect.topLeft().toPointF()).center().toPoint(),
        )
        await wait_until(
            lambda: [r.emoji for r in shown(alice, mine.local_id).reactions] == ["👍"],
            5,
            "the flag taken back",
        )
        # The hover button beside a bubble opens the quick reactions too.
        option, index = option_for(alice, mine.local_id)
        button = view.delegate.react_button_rect(option, index)  # type: ignore[arg-type]
        assert button is not None and not button.intersects(
            view.delegate.layout(option, index).bubble.translated(option.rect.topLeft().toPointF())  # type: ignore[union-attr, arg-type]
        )
        alice.qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=button.center().toPoint()
        )
        [bar] = [m for m in view.findChildren(QMenu, "reactionBar") if m.isVisible()]
        assert [a.text() for a in bar.actions()[: len(QUICK_REACTIONS)]] == list(QUICK_REACTIONS)
        trigger(bar, "😮")  # replaces Alice's thumb, the only reaction left
        bar.close()
        await wait_until(
            lambda: [r.emoji for r in shown(alice, mine.local_id).reactions] == ["😮"],
            5,
            "Alice's reaction from the hover bar",
        )
        alice.window.grab()  # painting chips, quotes, the hover button: no exception
        bob.window.grab()

    scenario.run(run)


def test_copy_forward_and_select_several_to_forward_or_delete(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carla = await registered(scenario, server, "Alice", "Bob", "Carla")
        for text in ("um", "dois", "três"):
            await alice.client.send_message(bob.own_id, False, text)
        await wait_until(lambda: len(bob.messages(alice.own_id)) == 3, 5, "the messages")
        bob.open_chat(alice.own_id)
        bob.activate()
        one, two, three = bob.messages(alice.own_id)

        trigger(menu_for(bob, one.local_id), "copyMessage")
        assert QGuiApplication.clipboard().text() == "um"

        trigger(menu_for(bob, one.local_id), "forwardMessages")
        dialog = bob.controller.forward_dialog
        assert dialog is not None
        bob.qtbot.keyClicks(dialog.filter_edit, "carl")
        assert dialog.select(carla.own_id)
        bob.qtbot.mouseClick(dialog.forward_button, Qt.MouseButton.LeftButton)
        await wait_until(
            lambda: bob.window.current_conversation() == (carla.own_id, False), 5, "the chat"
        )
        await wait_until(lambda: len(carla.messages(bob.own_id)) == 1, 5, "the forward")
        got = carla.messages(bob.own_id)[0]
        assert (got.text, got.forwarded_name, got.forwarded_sender) == ("um", "Alice", alice.own_id)
        carla.open_chat(bob.own_id)
        assert carla.window.chat_view.delegate.forwarded_text(got) == "Forwarded from Alice"

        # Selection mode: plain clicks select; forward two at once, then delete them.
        bob.open_chat(alice.own_id)
        view = bob.window.chat_view
        trigger(menu_for(bob, one.local_id), "selectMessages")
        assert view.selecting
        view.selectionModel().clearSelection()
        for message in (two, three):
            rect = view.visualRect(
                bob.window.message_model.index(
                    bob.window.message_model.row_of(message.local_id) or 0, 0
                )
            )
            bob.qtbot.mouseClick(
                view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.center())
            )
        assert [m.local_id for m in view.selected_messages()] == [two.local_id, three.local_id]
        assert bob.window.selection_bar.isVisibleTo(bob.window)
        assert not bob.window.composer.isVisibleTo(bob.window)
        assert bob.window.selection_count.text().startswith("2 message")
        assert bob.window.selection_forward.isEnabled()
        index = bob.window.message_model.index(
            bob.window.message_model.row_of(three.local_id) or 0, 0
        )
        menu = view.build_context_menu(index, view.visualRect(index).center())
        assert action(menu, "replyMessage") is None  # one message's actions only
        trigger(menu, "forwardMessages")
        dialog = bob.controller.forward_dialog
        assert dialog is not None and dialog.select(carla.own_id)
        dialog.forward_button.click()
        await wait_until(lambda: len(carla.messages(bob.own_id)) == 3, 5, "two forwards")
        assert [m.text for m in carla.messages(bob.own_id)] == ["um", "dois", "três"]
        assert not view.selecting
        assert view.selectionMode() == QAbstractItemView.SelectionMode.ExtendedSelection

        assert not bob.window.selection_bar.isVisibleTo(bob.window)
        assert bob.window.composer.isVisibleTo(bob.window)

        # Selection mode again, deleting from the bar; Esc would leave it.
        bob.open_chat(alice.own_id)
        trigger(menu_for(bob, two.local_id), "selectMessages")
        menu_for(bob, two.local_id, three.local_id)  # both selected
        bob.window.selection_delete.click()
        box = bob.controller.delete_box
        assert box is not None and "2" in box.text()
        box.findChild(object, "deleteForMe").click()  # type: ignore[union-attr]
        await wait_until(
            lambda: [m.deleted for m in bob.messages(alice.own_id)] == [None, "me", "me"],
            5,
            "both deleted for Bob",
        )

    scenario.run(run)


def test_a_chat_whose_last_message_was_deleted_says_so_in_the_list() -> None:
    summary = ConversationSummary(
        conversation="K7QM-4XPA",
        is_group=False,
        title="Ana",
        last_text="",
        last_ts=1,
        last_direction="in",
        last_status="received",
        unread=0,
        activity_ts=1,
    )
    assert _preview(summary) == "Message deleted"
