"""What a person hit trying the app as a new user would (issue 9, section 2). Each test
drives the real widgets the way the person did (clicks, keys into whatever has the focus)
and failed on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from messenger_gui.events import ConnectionState
from messenger_gui.storage import ClientStore
from messenger_gui.ui.avatars import avatar_pixmap
from messenger_gui.ui.chat import MessageRole
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.dialogs.new_group import NewGroupDialog
from messenger_gui.ui.dialogs.welcome import WelcomeDialog
from messenger_gui.ui.fonts import emoji_font_family
from messenger_gui.ui.main_window import MainWindow
from messenger_gui.ui.theme import AVATAR_COLOURS
from messenger_gui.ui.ticks import paint_ticks
from messenger_server import protocol
from tests.app_harness import Scenario, registered, scenario, wait_until
from tests.test_ui_models import ANA, BASE_TS, BRUNO, GROUP, ME, History

__all__ = ["scenario"]

CARLA = "CCCC-3333"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ClientStore]:
    with ClientStore(tmp_path / "profile") as store:
        yield store


@pytest.fixture
def history(store: ClientStore) -> History:
    store.add_contact(ANA, "Ana Souza")
    store.add_contact(BRUNO, "Bruno Lima")
    store.save_group(
        protocol.GroupInfo(
            group_id=GROUP,
            name="Weekend Trip",
            members=[
                protocol.Member(client_id=ME, display_name="Marina", admin=True),
                protocol.Member(client_id=ANA, display_name="Ana Souza"),
            ],
            created_by=ME,
            created_at=BASE_TS,
        )
    )
    history = History(store)
    history.receive(ANA, "Hi Marina!", BASE_TS, name="Ana Souza")
    history.receive(BRUNO, "Are you coming?", BASE_TS + 60_000, name="Bruno Lima")
    return history


@pytest.fixture
def window(qtbot: QtBot, store: ClientStore, history: History) -> MainWindow:
    window = MainWindow(store, ME, "Marina")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    return window


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def type_as_a_person(qtbot: QtBot, text: str) -> None:
    """Each key goes to whatever has the focus at that moment, as on a real keyboard."""
    for character in text:
        qtbot.keyClick(focused(), character)


def click_row(qtbot: QtBot, window: MainWindow, conversation: str) -> None:
    view = window.conversation_list
    proxy = window.conversation_filter
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        if index.data(ConversationRole.ID) == conversation:
            where = view.visualRect(index).center()
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
            return
    raise AssertionError(f"{conversation} is not listed")


# --- 1. a message to the wrong chat ------------------------------------------------------------


def test_clicking_the_open_chat_again_then_typing_sends_to_that_chat(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Before: the click put the focus in the list, "W" jumped to "Weekend Trip" and Enter
    sent "here are you?" there."""
    window.open_conversation(ANA, False)
    click_row(qtbot, window, ANA)
    assert focused() is window.composer.input
    with qtbot.waitSignal(window.send_requested, timeout=1000) as sent:
        type_as_a_person(qtbot, "Where are you?")
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert sent.args == [ANA, False, "Where are you?"]
    assert window.current_conversation() == (ANA, False)


def test_typing_anywhere_in_the_window_goes_to_the_message_field(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.open_conversation(BRUNO, False)
    for widget in (window.chat_view, window.conversation_list):
        window.composer.set_text("")
        widget.setFocus()
        type_as_a_person(qtbot, "Yes")
        assert window.composer.text() == "Yes"
        assert window.current_conversation() == (BRUNO, False)


# --- 2. the draft follows you ------------------------------------------------------------------


def test_each_chat_keeps_its_own_draft_also_after_a_restart(scenario: Scenario) -> None:
    """Before: text typed in one chat and not sent was still in the field in the next."""

    async def run() -> None:
        server = await scenario.start_server()
        alice, bob, carol = await registered(scenario, server, "Alice", "Bob", "Carol")
        window = alice.window
        window.open_conversation(bob.own_id, False)
        alice.qtbot.keyClicks(window.composer.input, "half a thought")
        window.open_conversation(carol.own_id, False)
        assert window.composer.text() == ""

        model = window.conversation_model

        def draft_of(conversation: str) -> str | None:
            summary = model.summary(model.row_of(conversation) or 0)
            return summary.draft if summary and summary.conversation == conversation else None

        await wait_until(lambda: draft_of(bob.own_id) == "half a thought", 5, "the draft")
        row = model.index(model.row_of(bob.own_id) or 0, 0)
        assert "Draft: half a thought" in row.data(Qt.ItemDataRole.AccessibleTextRole)
        window.open_conversation(bob.own_id, False)
        assert window.composer.text() == "half a thought"

        window.open_conversation(carol.own_id, False)
        alice.qtbot.keyClicks(window.composer.input, "see you")  # not sent: quitting
        await alice.quit()
        again = scenario.app("alice", server)
        again.start()
        await again.wait_online()
        again.window.open_conversation(bob.own_id, False)
        assert again.window.composer.text() == "half a thought"
        again.window.open_conversation(carol.own_id, False)
        assert again.window.composer.text() == "see you"

    scenario.run(run)


# --- 3. New group: Enter -----------------------------------------------------------------------


def test_enter_in_the_member_list_creates_the_group(qtbot: QtBot) -> None:
    """Before: Enter unticked the highlighted member instead of pressing Create."""
    from messenger_gui.storage import Contact

    dialog = NewGroupDialog([Contact(ANA, "Ana Souza"), Contact(BRUNO, "Bruno Lima")])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name_edit, "Weekend Trip")
    dialog.member_list.setFocus()
    dialog.member_list.setCurrentRow(0)
    qtbot.keyClick(dialog.member_list, Qt.Key.Key_Space)  # ticks Ana, as a click does
    assert dialog.selected_ids() == [ANA]
    with qtbot.waitSignal(dialog.create_requested, timeout=1000) as created:
        qtbot.keyClick(dialog.member_list, Qt.Key.Key_Return)
    assert created.args == ["Weekend Trip", [ANA]]


# --- 4. Welcome: Enter after "Copy ID" ---------------------------------------------------------


def test_enter_after_copy_id_continues(qtbot: QtBot) -> None:
    """Before: the Continue button looked like the default but Enter did nothing once
    "Copy ID" had been clicked."""
    dialog = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    dialog.registration_succeeded("K7QM-4XPA", "Ana")
    before = dialog.copy_button.geometry()
    dialog.copy_button.setFocus()  # as the click does in a real session
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "K7QM-4XPA"
    assert dialog.copied_label.text() == "Copied"
    assert dialog.copy_button.geometry() == before  # (8) it no longer jumps aside
    assert focused() is dialog.copy_button
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.keyClick(focused(), Qt.Key.Key_Return)


# --- 5. someone who writes to you becomes a contact --------------------------------------------


def test_a_strangers_chat_offers_add_and_block_and_no_group_info(
    qtbot: QtBot, store: ClientStore, history: History, window: MainWindow
) -> None:
    history.receive(CARLA, "Hi, it's Carla from the choir", BASE_TS + 90_000, name="Carla")
    window.reload_conversations()
    window.open_conversation(CARLA, False)
    assert window.contact_banner.isVisible()
    assert "Carla" in window.contact_banner_label.text()
    visible = [a.text() for a in window.chat_menu.actions() if a.isVisible() and a.text()]
    assert "Add to contacts" in visible
    assert "Group info…" not in visible  # a 1:1 chat: not even disabled
    with qtbot.waitSignal(window.add_to_contacts_requested, timeout=1000) as add:
        qtbot.mouseClick(window.banner_add_button, Qt.MouseButton.LeftButton)
    assert add.args == [CARLA]

    window.open_conversation(ANA, False)  # a contact: no banner, no "Add"
    assert not window.contact_banner.isVisible()
    visible = [a.text() for a in window.chat_menu.actions() if a.isVisible() and a.text()]
    assert "Add to contacts" not in visible and "Group info…" not in visible


def test_adding_someone_who_wrote_first_makes_them_a_group_candidate(scenario: Scenario) -> None:
    """Before: New group said "You have no contacts yet" while Alice chatted with Bob."""

    async def run() -> None:
        server = await scenario.start_server()
        alice = scenario.app("alice", server)
        bob = scenario.app("bob", server)
        alice_id = await alice.register("Alice")
        await bob.register("Bob")
        await bob.add_contact(alice_id, "Alice")
        bob.open_chat(alice_id)
        bob.type_and_send("Hi Alice, Bob from work")
        await wait_until(lambda: bool(alice.messages(bob.own_id)), 5, "the message")
        window = alice.window
        window.open_conversation(bob.own_id, False)
        assert window.contact_banner.isVisible()
        alice.qtbot.mouseClick(window.banner_add_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: alice.store.contact(bob.own_id) is not None, 5, "contact")
        await wait_until(lambda: not window.contact_banner.isVisible(), 5, "the banner")
        dialog = alice.controller.open_new_group()
        assert dialog is not None
        assert [dialog.member_list.item(i).text() for i in range(dialog.member_list.count())]
        assert not dialog.empty_label.isVisibleTo(dialog)
        dialog.reject()

    scenario.run(run)


def test_blocking_a_stranger_hides_their_chat_until_they_are_added(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        alice = scenario.app("alice", server)
        bob = scenario.app("bob", server)
        alice_id = await alice.register("Alice")
        await bob.register("<b>Bob</b><!--")  # a name that would be markup
        await bob.add_contact(alice_id, "Alice")
        bob.open_chat(alice_id)
        bob.type_and_send("Buy cheap watches")
        await wait_until(lambda: bool(alice.messages(bob.own_id)), 5, "the message")
        window = alice.window
        window.open_conversation(bob.own_id, False)
        alice.qtbot.mouseClick(window.banner_block_button, Qt.MouseButton.LeftButton)
        box = alice.controller.block_box
        assert isinstance(box, QMessageBox)
        assert box.textFormat() == Qt.TextFormat.PlainText
        assert box.text().startswith("\u2068<b>Bob</b><!--\u2069 will not be in your chats")
        block = next(b for b in box.buttons() if b.text() == "Block")
        alice.qtbot.mouseClick(block, Qt.MouseButton.LeftButton)
        await wait_until(lambda: window.current_conversation() is None, 5, "the chat closed")
        await wait_until(lambda: window.conversation_model.row_of(bob.own_id) is None, 5, "gone")

        bob.type_and_send("Really cheap")  # stored, acknowledged, not listed
        await wait_until(lambda: len(alice.messages(bob.own_id)) == 2, 5, "the second")
        await alice.settle()
        assert window.conversation_model.row_of(bob.own_id) is None
        assert window.unread_total == 0

        await alice.add_contact(bob.own_id, "Bob")  # changed her mind
        await wait_until(
            lambda: window.conversation_model.row_of(bob.own_id) is not None, 5, "listed"
        )

    scenario.run(run)


# --- 6. ticks ----------------------------------------------------------------------------------


def ink(status: str, colour: QColor, background: QColor) -> int:
    """Pixels a tick mark changes on ``background``."""
    image = QImage(40, 24, QImage.Format.Format_ARGB32)
    image.fill(background)
    painter = QPainter(image)
    paint_ticks(painter, QRectF(10, 6, 18, 12), status, colour)  # type: ignore[arg-type]
    painter.end()
    return sum(
        image.pixelColor(x, y) != background for x in range(image.width()) for y in range(24)
    )


def test_read_ticks_differ_from_delivered_ones_in_shape_not_only_in_colour(
    qapp: QApplication,
) -> None:
    """Before: the same two strokes, grey-blue or blue, hard to tell apart on the bubble."""
    same = QColor("#5f86ad")
    for background in (QColor("#dbeeff"), QColor("#2b5278")):  # light and dark bubbles
        delivered, read = ink("delivered", same, background), ink("read", same, background)
        assert read > 2 * delivered, (delivered, read)


# --- 7. a search hit's highlight fades ---------------------------------------------------------


def test_a_message_jumped_to_flashes_then_fades_without_a_selection_band(
    qtbot: QtBot, store: ClientStore, history: History, window: MainWindow
) -> None:
    """Before: the message kept a full-width blue selection band forever."""
    for n in range(30):
        history.receive(ANA, f"message {n}", BASE_TS + 1000 * n, name="Ana Souza")
    target = store.messages_slice(ANA, 3, 1)[0]
    assert window.show_message(target.local_id)
    view = window.chat_view
    assert view.selectionModel().selectedIndexes() == []
    row = window.message_model.row_of(target.local_id)
    assert row is not None
    index = window.message_model.index(row, 0)
    assert index.data(MessageRole.HIGHLIGHTED)
    qtbot.waitUntil(lambda: not index.data(MessageRole.HIGHLIGHTED), timeout=4000)
    assert view.selectionModel().selectedIndexes() == []


# --- 8. small things that look broken ----------------------------------------------------------


def test_retry_now_keeps_clear_of_the_window_corner(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        (alice,) = await registered(scenario, server, "Alice")
        await server.stop()
        await wait_until(lambda: alice.controller.state == ConnectionState.WAITING, 10, "waiting")
        button = alice.controller.retry_button
        assert isinstance(button, QPushButton) and button.isVisibleTo(alice.window)
        right = button.mapTo(alice.window, QPoint(button.width(), 0)).x()
        assert alice.window.width() - right >= 8

    scenario.run(run)


def hue(colour: QColor) -> int:
    return colour.toHsv().hsvHue()


def test_avatar_colours_of_different_people_are_different_hues(qapp: QApplication) -> None:
    """Before: an amber beside an orange (35° apart from it at the top of the gradient)."""
    hues = [
        hue(
            QColor.fromRgbF(
                *(0.5 * (a + b) for a, b in zip(top.getRgbF(), bottom.getRgbF(), strict=True))
            )
        )
        for top, bottom in AVATAR_COLOURS
    ]
    for i, first in enumerate(hues):
        for second in hues[i + 1 :]:
            distance = min(abs(first - second), 360 - abs(first - second))
            assert distance >= 20, (first, second)


def test_a_new_groups_preview_has_the_colour_the_group_gets(qapp: QApplication) -> None:
    preview = avatar_pixmap("Weekend Trip", "Weekend Trip", 48, is_group=True).toImage()
    created = avatar_pixmap("G-H1KE-7QW3", "Weekend Trip", 48, is_group=True).toImage()
    assert preview.pixelColor(24, 4) == created.pixelColor(24, 4)


# --- 9. emoji ----------------------------------------------------------------------------------


def test_the_self_test_says_whether_emoji_can_be_shown(tmp_path: Path) -> None:
    """Without a colour emoji font they are empty boxes: the app's self-test (what a
    packager runs) names the font it found, or what to install."""
    result = subprocess.run(
        [sys.executable, "-m", "messenger_gui", "--self-test"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("emoji:"))
    family = emoji_font_family()
    assert (family in line) if family else ("fonts-noto-color-emoji" in line)


# --- 10. first impressions ---------------------------------------------------------------------


def test_with_no_chat_open_the_focus_is_on_the_filter_and_space_opens_no_menu(
    qtbot: QtBot, store: ClientStore
) -> None:
    window = MainWindow(store, ME, "Marina")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    assert focused() is window.filter_box
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    assert not window.main_menu.isVisible()


def test_an_empty_chat_says_hi(
    qtbot: QtBot, store: ClientStore, history: History, window: MainWindow
) -> None:
    store.add_contact(CARLA, "Carla Mendes")
    window.reload_conversations()
    window.open_conversation(CARLA, False)
    title, hint = window.chat_view.placeholder()
    assert title and hint == "Say hi to \u2068Carla Mendes\u2069!"  # the name isolated
    window.open_conversation(ANA, False)
    assert window.chat_view.placeholder() == ("", "")


def test_the_demo_windows_open_the_other_persons_chat_ready_to_type(
    scenario: Scenario,
) -> None:
    """``make demo``: the README says "type a reply below"; the windows used to open with
    no chat, the focus on ☰."""

    async def run() -> None:
        server = await scenario.start_server()
        alice, bob = await registered(scenario, server, "Alice", "Bob")
        await bob.quit()
        again = scenario.app("bob", server, open_chat=alice.own_id)  # --open-chat ID
        again.start()
        await again.wait_online()
        assert again.window.current_conversation() == (alice.own_id, False)
        again.activate()
        await wait_until(lambda: QApplication.focusWidget() is not None, 5, "the focus")
        assert QApplication.focusWidget() is again.window.composer.input

    scenario.run(run)
