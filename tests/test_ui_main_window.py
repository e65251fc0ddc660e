"""The main window: a real history file, real widgets offscreen; signals recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.main_window import MainWindow
from messenger_gui.ui.theme import Theme
from messenger_server import protocol
from tests.test_ui_models import ANA, BASE_TS, BRUNO, GROUP, ME, History

OWN_NAME = "Marina"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ClientStore]:
    with ClientStore(tmp_path / "profile") as store:
        yield store


@pytest.fixture
def history(store: ClientStore) -> History:
    store.add_contact(ANA, "Ana Souza")
    store.add_contact(BRUNO, "Bruno Lima")
    history = History(store)
    history.receive(ANA, "Hi Marina!", BASE_TS, name="Ana Souza")
    history.receive(BRUNO, "Are you coming?", BASE_TS + 60_000, name="Bruno Lima")
    return history


@pytest.fixture
def window(qtbot: QtBot, store: ClientStore, history: History) -> MainWindow:
    window = MainWindow(store, ME, OWN_NAME)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def select_row_of(window: MainWindow, conversation: str) -> None:
    proxy = window.conversation_filter
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        if index.data(ConversationRole.ID) == conversation:
            window.conversation_list.setCurrentIndex(index)
            return
    raise AssertionError(f"{conversation} is not listed")


def test_starts_with_an_empty_state_showing_the_own_id(window: MainWindow) -> None:
    assert window.current_conversation() is None
    assert window.empty_state.isVisible()
    assert ME in window.empty_hint.text()
    assert window.own_id_label.text() == ME


def test_selecting_a_conversation_opens_it_and_shows_the_header(
    qtbot: QtBot, window: MainWindow
) -> None:
    with qtbot.waitSignal(window.conversation_opened, timeout=1000) as signal:
        select_row_of(window, ANA)
    assert signal.args == [ANA, False]
    assert window.current_conversation() == (ANA, False)
    assert window.chat_page.isVisible()
    assert window.header_title.text() == "Ana Souza"
    assert ANA in window.header_subtitle.text()
    assert window.message_model.rowCount() == 1


def test_group_header_names_the_members_and_a_left_group_cannot_be_written_to(
    qtbot: QtBot, store: ClientStore, window: MainWindow
) -> None:
    store.save_group(
        protocol.GroupInfo(
            group_id=GROUP,
            name="Weekend hike",
            members=[
                protocol.Member(client_id=ME, display_name=OWN_NAME, admin=True),
                protocol.Member(client_id=ANA, display_name="Ana Souza"),
            ],
            created_by=ME,
            created_at=BASE_TS,
        )
    )
    window.reload_conversations()
    window.open_conversation(GROUP, True)
    assert window.header_title.text() == "Weekend hike"
    assert "Ana Souza" in window.header_subtitle.toolTip()
    assert window.composer.is_enabled()
    with qtbot.waitSignal(window.group_info_requested, timeout=1000) as signal:
        window.action_group_info.trigger()
    assert signal.args == [GROUP]

    store.mark_group_left(GROUP)
    window.reload_conversations()
    assert not window.composer.is_enabled()
    assert window.composer.reason.text()


@pytest.mark.parametrize(
    ("key", "signal_name"),
    [
        (Qt.Key.Key_N, "add_contact_requested"),
        (Qt.Key.Key_G, "new_group_requested"),
        (Qt.Key.Key_F, "search_requested"),
        (Qt.Key.Key_Q, "quit_requested"),
    ],
)
def test_keyboard_shortcuts_emit_requests(
    qtbot: QtBot, window: MainWindow, key: Qt.Key, signal_name: str
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    with qtbot.waitSignal(getattr(window, signal_name), timeout=1000):
        qtbot.keyClick(window.conversation_list, key, Qt.KeyboardModifier.ControlModifier)


def test_sending_emits_the_open_conversation_and_shows_the_queued_message(
    qtbot: QtBot, store: ClientStore, window: MainWindow
) -> None:
    window.open_conversation(ANA, False)
    window.composer.set_text("On my way")
    with qtbot.waitSignal(window.send_requested, timeout=1000) as signal:
        qtbot.keyClick(window.composer.input, Qt.Key.Key_Return)
    assert signal.args == [ANA, False, "On my way"]

    # What the controller does next: queue it and hand the stored message back.
    queued = store.queue_outgoing(ANA, False, "On my way")
    stored = store.message(queued.local_id)
    assert stored is not None
    window.messages_received([stored])
    model = window.message_model
    last = model.message(model.rowCount() - 1)
    assert last is not None and last.status == "queued"

    store.mark_sent(queued.key, 777, 2, BASE_TS + 120_000, me=ME)
    sent = store.message(queued.local_id)
    assert sent is not None
    window.message_sent(sent)
    last = model.message(model.rowCount() - 1)
    assert last is not None and last.status == "sent"
    # The list follows once the burst of changes is over (one refresh, not one per event).
    qtbot.waitUntil(lambda: window.conversation_model.summary(0).last_direction == "out")
    top = window.conversation_model.summary(0)
    assert top is not None and top.conversation == ANA and top.last_direction == "out"


def test_received_message_updates_the_open_chat_and_the_sidebar(
    qtbot: QtBot, store: ClientStore, history: History, window: MainWindow
) -> None:
    window.open_conversation(BRUNO, False)
    before = window.message_model.rowCount()
    history.receive(ANA, "a new message for another chat", BASE_TS + 300_000)
    history.receive(BRUNO, "and one for this chat", BASE_TS + 300_001)
    fresh = store.messages_page(ANA, None, 1) + store.messages_page(BRUNO, None, 1)
    window.messages_received(fresh)

    assert window.message_model.rowCount() == before + 1
    model = window.conversation_model
    qtbot.waitUntil(lambda: model.summary(model.row_of(ANA) or 0).unread == 2)
    top = window.conversation_model.summary(0)
    assert top is not None and top.conversation == BRUNO
    ana_row = window.conversation_model.row_of(ANA)
    assert ana_row is not None
    ana = window.conversation_model.summary(ana_row)
    assert ana is not None and ana.unread == 2


def test_read_position_is_reported_while_the_window_is_active(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    with qtbot.waitSignal(window.read_position_changed, timeout=2000) as signal:
        window.open_conversation(ANA, False)
    assert signal.args == [ANA, False, 1]


def test_show_message_opens_its_chat_and_highlights_it(
    store: ClientStore, history: History, window: MainWindow
) -> None:
    history.receive_many(ANA, 500, BASE_TS + 1000)
    target = store.messages_slice(ANA, 3, 1)[0]
    assert window.show_message(target.local_id)
    assert window.current_conversation() == (ANA, False)
    row = window.message_model.row_of(target.local_id)
    assert row is not None
    index = window.message_model.index(row, 0)
    assert window.chat_view.viewport().rect().intersects(window.chat_view.visualRect(index))
    assert window.chat_view.currentIndex() == index
    assert not window.show_message(999_999)


def test_copy_selected_messages(qtbot: QtBot, window: MainWindow) -> None:
    window.open_conversation(ANA, False)
    window.chat_view.selectAll()
    window.chat_view.copy_selection()
    assert QGuiApplication.clipboard().text() == "Hi Marina!"


def test_status_bar_and_backlog_progress(window: MainWindow) -> None:
    window.set_connection_state("Connected", online=True)
    assert "Connected" in window.connection_label.text()
    window.set_backlog_progress(10, 100)
    assert window.backlog_progress.isVisible()
    window.set_backlog_progress(100, 100)
    assert not window.backlog_progress.isVisible()


def test_export_and_copy_id_requests(qtbot: QtBot, window: MainWindow) -> None:
    assert not window.action_export_html.isEnabled()  # nothing open yet
    window.open_conversation(BRUNO, False)
    with qtbot.waitSignal(window.export_requested, timeout=1000) as signal:
        window.action_export_json.trigger()
    assert signal.args == [BRUNO, "json"]
    with qtbot.waitSignal(window.copy_id_requested, timeout=1000):
        window.copy_id_button.click()


def test_filter_box_narrows_the_list(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.filter_box, "bruno")
    assert window.conversation_filter.rowCount() == 1
    qtbot.keyClick(window.filter_box, Qt.Key.Key_Return)
    assert window.current_conversation() == (BRUNO, False)


def test_dark_theme_renders(qtbot: QtBot, window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = Theme(app, Qt.ColorScheme.Dark)
    try:
        window.open_conversation(ANA, False)
        image = window.grab().toImage()
        corner = image.pixelColor(window.width() - 5, window.height() // 2)
        assert corner.lightness() < 80
    finally:
        theme.force(Qt.ColorScheme.Light)


def test_scrolling_up_shows_a_button_back_to_the_newest_message(
    qtbot: QtBot, store: ClientStore, history: History, window: MainWindow
) -> None:
    history.receive_many(ANA, 300, BASE_TS + 1000)
    window.open_conversation(ANA, False)
    view = window.chat_view
    qtbot.waitUntil(view.is_at_bottom, timeout=2000)
    assert not view.bottom_button.isVisible()

    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 2)
    qtbot.waitUntil(view.bottom_button.isVisible, timeout=2000)
    view.bottom_button.click()
    qtbot.waitUntil(view.is_at_bottom, timeout=2000)
    assert not view.bottom_button.isVisible()


def test_scrolling_to_the_top_loads_older_history_and_keeps_the_position(
    qtbot: QtBot, store: ClientStore, history: History, window: MainWindow
) -> None:
    history.receive_many(ANA, 1000, BASE_TS + 1000)
    window.open_conversation(ANA, False)
    view = window.chat_view
    model = window.message_model
    loaded = model.rowCount()
    qtbot.waitUntil(lambda: view.verticalScrollBar().value() > 0, timeout=2000)
    view.verticalScrollBar().setValue(0)
    top_before = model.message(0)
    qtbot.waitUntil(lambda: model.rowCount() > loaded, timeout=2000)
    assert top_before is not None
    row = model.row_of(top_before.local_id)
    assert row is not None and row > 0
    # The message that was at the top is still on screen (position kept, no jump).
    assert view.viewport().rect().intersects(view.visualRect(model.index(row, 0)))


def test_double_click_opens_a_read_only_selectable_copy_of_the_message(
    qtbot: QtBot, window: MainWindow
) -> None:
    from PySide6.QtWidgets import QTextBrowser

    window.open_conversation(ANA, False)
    view = window.chat_view
    index = window.message_model.index(0, 0)
    qtbot.waitUntil(lambda: view.visualRect(index).isValid(), timeout=2000)
    view.scrollTo(index)
    center = view.visualRect(index).center()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    editor = view.indexWidget(index) or view.findChild(QTextBrowser, "messageSelector")
    assert isinstance(editor, QTextBrowser)
    assert editor.isReadOnly()
    assert editor.toPlainText() == "Hi Marina!"
    assert editor.textCursor().selectedText() == "Hi Marina!"
