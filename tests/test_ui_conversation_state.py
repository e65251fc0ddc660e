"""What the window shows around a conversation: who is typing, presence, mute, pin and
archive. A real history file, real widgets offscreen; signals recorded."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QDialog, QDialogButtonBox, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from messenger_gui.storage import (
    MUTED_FOREVER,
    ChatSettings,
    ClientStore,
    ConversationSummary,
    GroupMember,
    StoredGroup,
    is_system_line,
    now_ms,
    system_line,
)
from messenger_gui.ui.chat import mention_spans
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.dialogs.group_info import GroupInfoDialog
from messenger_gui.ui.dialogs.settings import SettingsDialog
from messenger_gui.ui.formatting import clock_time, presence_text, system_text, typing_text
from messenger_gui.ui.main_window import MUTE_FOREVER, MainWindow
from messenger_server import protocol
from tests.test_ui_main_window import OWN_NAME, history, store, window
from tests.test_ui_models import ANA, BASE_TS, BRUNO, GROUP, ME, History

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
    at = _ts(today, 14, 2)
    assert presence_text(False, at, today) == f"last seen today at {clock_time(at)}"
    at = _ts(today - timedelta(days=1), 9, 30)
    assert presence_text(False, at, today) == f"last seen yesterday at {clock_time(at)}"
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


# --- mute, pin, archive ---


def _summary(window: MainWindow, conversation: str) -> ConversationSummary:
    row = window.conversation_model.row_of(conversation)
    assert row is not None
    summary = window.conversation_model.summary(row)
    assert summary is not None
    return summary


def _listed(window: MainWindow) -> list[str]:
    proxy = window.conversation_filter
    return [str(proxy.index(r, 0).data(ConversationRole.ID)) for r in range(proxy.rowCount())]


def _menu_action(menu: QMenu, name: str) -> QAction:
    for action in menu.actions():
        if action.objectName() == name:
            return action
        submenu = action.menu()
        if isinstance(submenu, QMenu):
            for inner in submenu.actions():
                if inner.objectName() == name:
                    return inner
    raise AssertionError(f"no action {name!r} in {[a.objectName() for a in menu.actions()]}")


def test_chat_settings_are_stored_listed_and_survive_reopening(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    with ClientStore(profile) as store:
        for client_id, name in ((ANA, "Ana"), (BRUNO, "Bruno"), ("CCCC-3333", "Caio")):
            store.add_contact(client_id, name)
        store.set_muted(ANA, now_ms() + 3_600_000)
        store.set_pinned(BRUNO, True)
        store.set_pinned(ANA, True)  # pinned later: above Bruno
        store.set_archived("CCCC-3333", True)
    with ClientStore(profile) as store:
        rows = {r.conversation: r for r in store.conversations_summary()}
        assert [r.conversation for r in store.conversations_summary()][:2] == [ANA, BRUNO]
        assert rows[ANA].muted and rows[ANA].pinned and not rows[ANA].archived
        assert rows[BRUNO].pinned and not rows[BRUNO].muted
        assert rows["CCCC-3333"].archived
        assert store.chat_settings(ANA).muted(now_ms())
        store.set_muted(ANA, now_ms() - 1)  # a mute that ran out
        assert not store.chat_settings(ANA).muted(now_ms())
        store.set_muted(BRUNO, MUTED_FOREVER)
        assert store.chat_settings(BRUNO).muted(now_ms())
        store.set_muted(BRUNO, None)
        assert store.chat_settings(BRUNO) == ChatSettings(None, True, False)
        # A new message brings an archived chat back, unless it is muted.
        store.set_archived(ANA, True)
        store.set_muted(ANA, MUTED_FOREVER)
        assert store.archived_to_wake([ANA, "CCCC-3333", BRUNO]) == ["CCCC-3333"]
        store.unarchive(["CCCC-3333"])
        assert not store.chat_settings("CCCC-3333").archived


def test_list_context_menu_mutes_pins_and_archives(
    qtbot: QtBot, store: ClientStore, window: MainWindow
) -> None:
    muted: list[tuple[str, int]] = []
    pinned: list[tuple[str, bool]] = []
    archived: list[tuple[str, bool]] = []
    window.mute_requested.connect(lambda c, s: muted.append((c, s)))
    window.pin_requested.connect(lambda c, p: pinned.append((c, p)))
    window.archive_requested.connect(lambda c, a: archived.append((c, a)))
    menu = window.conversation_menu(ANA)
    _menu_action(menu, "mute_1h").trigger()
    _menu_action(menu, "mute_8h").trigger()
    _menu_action(menu, "mute_forever").trigger()
    _menu_action(menu, "pin").trigger()
    _menu_action(menu, "archive").trigger()
    assert muted == [(ANA, 3600), (ANA, 8 * 3600), (ANA, MUTE_FOREVER)]
    assert pinned == [(ANA, True)] and archived == [(ANA, True)]

    store.set_muted(ANA, MUTED_FOREVER)
    store.set_pinned(ANA, True)
    menu = window.conversation_menu(ANA)
    _menu_action(menu, "unmute").trigger()
    _menu_action(menu, "unpin").trigger()
    assert muted[-1] == (ANA, 0) and pinned[-1] == (ANA, False)

    # The chat menu of the open chat has the same entries.
    window.open_conversation(BRUNO, False)
    window.chat_menu.aboutToShow.emit()
    _menu_action(window.chat_menu, "pin").trigger()
    assert pinned[-1] == (BRUNO, True)
    window.chat_menu.aboutToShow.emit()  # rebuilt, not repeated
    assert [a.objectName() for a in window.chat_menu.actions()].count("pin") == 1


def test_muted_pinned_and_archived_chats_in_the_list(
    qtbot: QtBot, store: ClientStore, window: MainWindow
) -> None:
    assert _listed(window) == [BRUNO, ANA]  # most recent first
    store.set_pinned(ANA, True)
    store.set_muted(BRUNO, MUTED_FOREVER)
    window.reload_conversations()
    assert _listed(window) == [ANA, BRUNO]
    assert _summary(window, BRUNO).muted and _summary(window, ANA).pinned
    window.grab()  # paints the muted icon, the greyed badge and the pin

    assert not window.archive_button.isVisibleTo(window)
    store.set_archived(ANA, True)
    window.reload_conversations()
    assert _listed(window) == [BRUNO]
    assert window.archive_button.isVisibleTo(window)
    assert window.archive_button.text() == "Archived chats (1)"
    qtbot.mouseClick(window.archive_button, Qt.MouseButton.LeftButton)
    assert _listed(window) == [ANA]
    assert window.archive_button.text() == "← Back to chats"
    window.show_archived(False)
    assert _listed(window) == [BRUNO]


# --- mentions ---


def test_mention_spans_find_each_at_name() -> None:
    text = "@Ana Souza and @Bruno, not email@Ana"
    assert mention_spans(text, ["Ana Souza", "Bruno Lima", "Bruno"]) == [(0, 10), (15, 21)]
    assert mention_spans("no mentions", ["Ana"]) == []


def test_at_in_a_group_completes_member_names_and_sends_mentions(
    qtbot: QtBot, store: ClientStore, window: MainWindow
) -> None:
    _save_group(store)
    window.reload_conversations()
    window.open_conversation(GROUP, True)
    composer = window.composer
    qtbot.keyClicks(composer.input, "Hi @br")
    popup = composer.completer.popup()
    assert popup is not None and popup.isVisible()
    assert composer.completer.currentCompletion() == "Bruno Lima"
    qtbot.keyClick(composer.input, Qt.Key.Key_Tab)
    assert composer.text() == "Hi @Bruno Lima "
    assert not popup.isVisible()
    qtbot.keyClicks(composer.input, "and @ana")
    qtbot.keyClick(composer.input, Qt.Key.Key_Return)  # Enter picks, does not send
    assert composer.text() == "Hi @Bruno Lima and @Ana Souza "
    assert composer.mentions() == [BRUNO, ANA]
    with qtbot.waitSignal(window.send_with_mentions_requested, timeout=1000) as sent:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert sent.args == [GROUP, True, "Hi @Bruno Lima and @Ana Souza ", [BRUNO, ANA]]

    # A name deleted from the text is no longer mentioned; Esc closes the popup.
    qtbot.keyClicks(composer.input, "@ana")
    qtbot.keyClick(composer.input, Qt.Key.Key_Tab)
    composer.set_text("plain")
    assert composer.mentions() == []
    qtbot.keyClicks(composer.input, " @b")
    assert popup.isVisible()
    qtbot.keyClick(composer.input, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_no_mention_popup_in_a_direct_chat(qtbot: QtBot, window: MainWindow) -> None:
    window.open_conversation(ANA, False)
    qtbot.keyClicks(window.composer.input, "@an")
    popup = window.composer.completer.popup()
    assert popup is not None and not popup.isVisible()


# --- group settings ---


def _group_info(admin: str, description: str = "") -> StoredGroup:
    return StoredGroup(
        group_id=GROUP,
        name="Family",
        created_by=admin,
        created_at=0,
        left=False,
        members=(
            GroupMember(ME, OWN_NAME, admin == ME),
            GroupMember(ANA, "Ana Souza", admin == ANA),
        ),
        description=description,
    )


def _destructive(box: QMessageBox | None) -> QAbstractButton:
    assert box is not None
    return next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )


def test_admin_renames_describes_promotes_and_deletes_in_group_info(qtbot: QtBot) -> None:
    dialog = GroupInfoDialog(_group_info(ME), ME, [])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.settings_widgets.isVisibleTo(dialog)
    assert dialog.delete_button.isVisibleTo(dialog)
    assert not dialog.save_button.isEnabled()  # nothing changed yet
    dialog.name_edit.setText("  Lima family ")
    dialog.description_edit.setPlainText("Sundays at grandma's\n")
    with qtbot.waitSignal(dialog.update_requested) as update:
        dialog.save_button.click()
    assert update.args == [GROUP, "Lima family", "Sundays at grandma's"]

    dialog.set_group(_group_info(ME), [])  # the answer came: not busy any more
    dialog.select_member(ANA)
    assert dialog.admin_button.text() == "Make admin"
    with qtbot.waitSignal(dialog.admin_requested) as promote:
        dialog.admin_button.click()
    assert promote.args == [GROUP, ANA, True]
    dialog.set_group(_group_info(ME), [])
    dialog.select_member(ME)
    assert dialog.admin_button.text() == "Remove admin rights"

    dialog.delete_button.click()
    with qtbot.assertNotEmitted(dialog.delete_requested):
        assert dialog.confirm_box is not None
        dialog.confirm_box.button(QMessageBox.StandardButton.Cancel).click()
    dialog.delete_button.click()
    with qtbot.waitSignal(dialog.delete_requested) as delete:
        _destructive(dialog.confirm_box).click()
    assert delete.args == [GROUP]


def test_a_member_sees_the_group_settings_read_only(qtbot: QtBot) -> None:
    dialog = GroupInfoDialog(_group_info(ANA, "Sundays"), ME, [])
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.settings_widgets.isVisibleTo(dialog)
    assert not dialog.delete_button.isVisibleTo(dialog)
    assert not dialog.admin_widgets.isVisibleTo(dialog)
    assert dialog.description_label.isVisibleTo(dialog)
    assert dialog.description_label.text() == "Sundays"
    # Made admin meanwhile: the same dialog becomes editable.
    dialog.set_group(
        StoredGroup(GROUP, "Family", ANA, 0, False, (GroupMember(ME, OWN_NAME, True),), "Sundays"),
        [],
    )
    assert dialog.settings_widgets.isVisibleTo(dialog)
    assert dialog.description_edit.toPlainText() == "Sundays"


def test_system_lines_say_what_happened_in_the_group() -> None:
    assert system_text(system_line("renamed", "Ana", value="Trip")) == (
        "Ana renamed the group to “Trip”"
    )
    assert system_text(system_line("described", "Ana")) == "Ana changed the group description"
    assert system_text(system_line("promoted", "Ana", "Bea")) == "Ana made Bea an admin"
    assert system_text(system_line("demoted", "Ana", "B%1")) == "Ana removed B%1 as admin"
    assert system_text(system_line("deleted", "Ana")) == "Ana deleted the group"
    assert system_text(system_line("promoted", "Me", "Bea", by_me=True)) == (
        "You made Bea an admin"
    )
    assert system_text(system_line("demoted", "Ana", "Me", to_me=True)) == (
        "Ana removed you as admin"
    )
    assert system_text("just a message") == "just a message"


def test_system_lines_are_shown_in_the_chat_never_unread(
    store: ClientStore, history: History, window: MainWindow
) -> None:
    _save_group(store)
    history.receive(ANA, "Hello all", BASE_TS, name="Ana Souza", group=GROUP)
    lines = store.add_system_lines([(GROUP, 7, system_line("renamed", "Ana Souza", value="Hike"))])
    assert len(lines) == 1 and is_system_line(lines[0])
    assert store.add_system_lines([(GROUP, 7, system_line("deleted", "x"))]) == []  # once
    assert store.unread_count(GROUP) == 1  # the message only
    window.reload_conversations()
    assert _summary(window, GROUP).unread == 1
    window.open_conversation(GROUP, True)
    model = window.message_model
    shown = [model.message(r) for r in range(model.rowCount())]
    assert next(m.text for m in shown if m is not None) == "Hello all"
    last = shown[-1]
    assert last is not None and is_system_line(last)
    window.chat_view.grab()  # lays out and paints the centred line
    index = model.index(model.rowCount() - 1, 0)
    assert index.data() == "Ana Souza renamed the group to “Hike”"
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable  # no text browser on it
    # Not a message: it cannot be selected, so it has no menu (no Reply, React, Forward:
    # it shares the seq of the message before it), and a reply to it is refused.
    assert not model.flags(index) & Qt.ItemFlag.ItemIsSelectable
    view = window.chat_view
    view.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert view.selected_messages() == []
    window.start_reply(last.local_id)
    assert window.composer.reply_target is None
