"""What the window shows around a conversation: who is typing, presence, mute, pin and
archive. A real history file, real widgets offscreen; signals recorded."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.dialogs.settings import SettingsDialog
from messenger_gui.ui.formatting import presence_text, typing_text
from messenger_gui.ui.main_window import MainWindow
from messenger_server import protocol
from tests.test_ui_main_window import OWN_NAME, history, store, window
from tests.test_ui_models import ANA, BASE_TS, BRUNO, GROUP, ME

__all__ = ["history", "store", "window"]


def _row_typing(window: MainWindow, conversation: str) -> str:
    row = window.conversation_model.row_of(conversation)
    assert row is not None
    return str(window.conversation_model.index(row, 0).data(ConversationRole.TYPING))


def _save_group(store: ClientStore) -> None:
    store.save_group(
        protocol.GroupInfo(
            group_id=GROUP,
            name="Weekend hike",
            members=[
                protocol.Member(client_id=ME, display_name=OWN_NAME, admin=True),
                protocol.Member(client_id=ANA, display_name="Ana Souza"),
                protocol.Member(client_id=BRUNO, display_name="Bruno Lima"),
            ],
            created_by=ME,
            created_at=BASE_TS,
        )
    )


def test_typing_text_names_one_two_or_counts_more() -> None:
    assert typing_text([]) == ""
    assert typing_text(["Ana"]) == "Ana is typing…"
    assert typing_text(["Ana", "Bea"]) == "Ana and Bea are typing…"
    assert typing_text(["Ana", "Bea", "Caio"]) == "3 people are typing…"


def test_typing_shows_in_the_header_and_the_row_until_it_stops(window: MainWindow) -> None:
    window.open_conversation(ANA, False)
    subtitle = window.header_subtitle.text()
    window.set_typing(ANA, ["Ana Souza"])
    assert window.header_subtitle.text() == "Ana Souza is typing…"
    assert window.header_subtitle.property("live") is True
    assert _row_typing(window, ANA) == "Ana Souza is typing…"
    assert _row_typing(window, BRUNO) == ""
    window.reload_conversations()  # a refresh of the list keeps it
    assert _row_typing(window, ANA) == "Ana Souza is typing…"

    window.set_typing(ANA, [])
    assert window.header_subtitle.text() == subtitle
    assert not window.header_subtitle.property("live")
    assert _row_typing(window, ANA) == ""


def test_typing_in_a_group_names_two_and_counts_three(
    store: ClientStore, window: MainWindow
) -> None:
    _save_group(store)
    window.reload_conversations()
    window.open_conversation(GROUP, True)
    window.set_typing(GROUP, ["Ana Souza", "Bruno Lima"])
    assert window.header_subtitle.text() == "Ana Souza and Bruno Lima are typing…"
    window.set_typing(GROUP, ["Ana Souza", "Bruno Lima", "Carla"])
    assert window.header_subtitle.text() == "3 people are typing…"
    # Typing elsewhere only shows in that chat's row.
    window.set_typing(ANA, ["Ana Souza"])
    assert window.header_subtitle.text() == "3 people are typing…"
    assert _row_typing(window, ANA) == "Ana Souza is typing…"


def test_composer_edits_announce_typing_and_sending_or_clearing_or_leaving_stop_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    edited: list[tuple[str, bool]] = []
    stopped: list[tuple[str, bool]] = []
    window.typing_edited.connect(lambda c, g: edited.append((c, g)))
    window.typing_stopped.connect(lambda c, g: stopped.append((c, g)))

    window.open_conversation(ANA, False)
    assert edited == []  # opening a chat (and showing its draft) is not typing
    qtbot.keyClicks(window.composer.input, "Hi")
    assert edited == [(ANA, False), (ANA, False)]  # one per keystroke; the core throttles
    window.composer.input.clear()
    assert stopped == [(ANA, False)]

    qtbot.keyClicks(window.composer.input, "Hello")
    window.composer.submit()
    assert stopped[-1] == (ANA, False)

    qtbot.keyClicks(window.composer.input, "A draft")
    count = len(stopped)
    window.open_conversation(BRUNO, False)  # the draft stays in Ana's chat, typing stops
    assert stopped[count:] == [(ANA, False)]
    assert (BRUNO, False) not in edited


def _ts(day: date, hour: int, minute: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute).timestamp() * 1000)


def test_presence_text_says_online_or_when_last_seen() -> None:
    today = date(2026, 11, 29)
    assert presence_text(True, None, today) == "online"
    assert presence_text(False, None, today) == "last seen a long time ago"
    seen = presence_text(False, _ts(today, 14, 2), today)
    assert seen.startswith("last seen today at ") and "14" in seen and "02" in seen
    yesterday = presence_text(False, _ts(today - timedelta(days=1), 9, 30), today)
    assert yesterday.startswith("last seen yesterday at ")
    older = presence_text(False, _ts(date(2026, 3, 12), 9, 30), today)
    assert older.startswith("last seen ") and "12" in older


def test_direct_chat_header_shows_presence_and_nothing_when_hidden(window: MainWindow) -> None:
    window.open_conversation(ANA, False)
    assert window.header_subtitle.text() == f"ID {ANA}"  # not shown to us
    window.set_presence(ANA, True, None)
    assert window.header_subtitle.text() == "online"
    assert window.header_subtitle.property("live") is True
    window.today = date.today()
    window.set_presence(ANA, False, _ts(date.today(), 14, 2))
    assert window.header_subtitle.text().startswith("last seen today at ")
    assert not window.header_subtitle.property("live")
    window.set_typing(ANA, ["Ana Souza"])  # typing wins over presence
    assert window.header_subtitle.text() == "Ana Souza is typing…"
    window.set_typing(ANA, [])
    window.set_presence(ANA, None, None)
    assert window.header_subtitle.text() == f"ID {ANA}"
    window.set_presence(BRUNO, True, None)  # another chat's presence changes nothing here
    assert window.header_subtitle.text() == f"ID {ANA}"


def test_settings_dialog_offers_the_two_privacy_choices(qtbot: QtBot) -> None:
    dialog = SettingsDialog("nobody")
    qtbot.addWidget(dialog)
    assert dialog.privacy() == "nobody" and dialog.nobody_button.isChecked()
    chosen: list[str] = []
    dialog.privacy_chosen.connect(chosen.append)
    dialog.everyone_button.click()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert chosen == ["chats"]
    assert dialog.result() == QDialog.DialogCode.Accepted

    unchanged = SettingsDialog("chats")
    qtbot.addWidget(unchanged)
    unchanged.privacy_chosen.connect(chosen.append)
    assert unchanged.everyone_button.isChecked()
    unchanged.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert chosen == ["chats"]  # saving what was already chosen sends nothing


def test_settings_are_in_the_main_menu(qtbot: QtBot, window: MainWindow) -> None:
    assert window.action_settings in window.main_menu.actions()
    with qtbot.waitSignal(window.settings_requested, timeout=1000):
        window.action_settings.trigger()
