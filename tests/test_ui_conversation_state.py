"""What the window shows around a conversation: who is typing, presence, mute, pin and
archive. A real history file, real widgets offscreen; signals recorded."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.formatting import typing_text
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
