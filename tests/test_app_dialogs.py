"""The dialogs on their own: validation, the signals they emit and how they show results.

The same dialogs are driven against a real server through the controller in
``test_app_e2e.py``; here each is a real widget offscreen, fed the answers directly.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore, Contact, GroupMember, SearchHit, StoredGroup
from messenger_gui.ui import i18n
from messenger_gui.ui.dialogs.add_contact import AddContactDialog, normalize_client_id
from messenger_gui.ui.dialogs.errors import describe_code, describe_error
from messenger_gui.ui.dialogs.group_info import GroupInfoDialog
from messenger_gui.ui.dialogs.new_group import NewGroupDialog
from messenger_gui.ui.dialogs.people import (
    AVATAR_ROLE,
    ID_ROLE,
    NAME_ROLE,
    PILL_ROLE,
    PersonDelegate,
)
from messenger_gui.ui.dialogs.search import SearchDialog
from messenger_gui.ui.dialogs.welcome import (
    WelcomeDialog,
    normalize_invite_code,
    parse_server_address,
    validate_display_name,
)
from messenger_server import protocol

ALICE = "A1CE-0000"
BOB = "B0B0-1111"
CAROL = "CA20-2222"


# --- welcome -------------------------------------------------------------------------------


def test_server_address_accepts_host_port_forms() -> None:
    assert parse_server_address("chat.example.org:7000", 7850) == ("chat.example.org", 7000)
    assert parse_server_address(" 10.0.0.5 ", 7850) == ("10.0.0.5", 7850)
    assert parse_server_address("[::1]:9000", 7850) == ("::1", 9000)
    for bad in ("", "host:", "host:abc", "host:70000", "a b:1", "[::1", ":7850"):
        assert parse_server_address(bad, 7850) is None, bad


def test_display_name_must_be_1_to_64_printable_characters() -> None:
    assert validate_display_name("  Maria  ") == "Maria"
    assert validate_display_name("   ") is None
    assert validate_display_name("x" * 64) == "x" * 64
    assert validate_display_name("x" * 65) is None
    assert validate_display_name("a\tb") is None


def test_welcome_register_emits_validated_values_and_waits(qtbot: QtBot) -> None:
    dialog = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(dialog)
    assert not dialog.register_button.isEnabled()  # no name yet
    qtbot.keyClicks(dialog.name_edit, "  Maria Silva ")
    dialog.server_edit.setText("chat.example.org:7001")
    dialog.tls_check.setChecked(True)
    assert dialog.register_button.isEnabled()
    with qtbot.waitSignal(dialog.register_requested) as blocker:
        qtbot.mouseClick(dialog.register_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["chat.example.org", 7001, True, "Maria Silva", ""]
    assert dialog.busy
    assert not dialog.register_button.isEnabled()
    assert "Registering" in dialog.error_text
    with qtbot.assertNotEmitted(dialog.rejected):
        dialog.reject()  # closing while registering is ignored


def test_welcome_failure_is_shown_and_register_can_be_retried(qtbot: QtBot) -> None:
    dialog = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name_edit, "Maria")
    with qtbot.waitSignal(dialog.register_requested):
        dialog.register_button.click()
    dialog.registration_failed("Cannot reach the server.")
    assert not dialog.busy
    assert dialog.error_text == "Cannot reach the server."
    assert dialog.register_button.isEnabled()
    dialog.server_edit.setText("no port:")
    assert not dialog.register_button.isEnabled()


def test_invite_codes_are_read_as_typed() -> None:
    assert normalize_invite_code("7KQM-4XPA-B8NZ") == "7KQM-4XPA-B8NZ"
    assert normalize_invite_code(" 7kqm 4xpa b8nz ") == "7KQM-4XPA-B8NZ"
    assert normalize_invite_code("7kqm4xpab8nz") == "7KQM-4XPA-B8NZ"
    assert normalize_invite_code("O0IL-0000-0000") == "0011-0000-0000"  # look-alikes
    for bad in ("", "7KQM-4XPA", "7KQM-4XPA-B8NZ-1", "UUUU-0000-0000", "7KQM_4XPA_B8NZ"):
        assert normalize_invite_code(bad) is None, bad


def test_welcome_asks_for_an_invite_code_when_the_server_wants_one(qtbot: QtBot) -> None:
    dialog = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.invite_shown  # most servers need none
    assert dialog.invite_button.isVisibleTo(dialog)
    qtbot.keyClicks(dialog.name_edit, "Maria")
    with qtbot.waitSignal(dialog.register_requested):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    dialog.registration_failed(
        describe_error(_request_error(protocol.ErrorCode.INVITE_REQUIRED)),
        protocol.ErrorCode.INVITE_REQUIRED,
    )
    assert dialog.invite_shown and dialog.invite_edit.isVisibleTo(dialog)
    assert not dialog.invite_button.isVisibleTo(dialog)
    assert dialog.focusWidget() is dialog.invite_edit  # type the code, press Enter
    assert "invite code" in dialog.error_text
    qtbot.keyClicks(dialog.invite_edit, "7kqm")
    qtbot.keyClick(dialog.invite_edit, Qt.Key.Key_Return)  # not a whole code yet
    assert not dialog.busy and "12 letters" in dialog.error_text
    assert dialog.focusWidget() is dialog.invite_edit
    qtbot.keyClicks(dialog.invite_edit, "7kqm 4xpa b8nz")
    with qtbot.waitSignal(dialog.register_requested) as blocker:
        qtbot.keyClick(dialog.invite_edit, Qt.Key.Key_Return)
    assert blocker.args == ["127.0.0.1", 7850, False, "Maria", "7KQM-4XPA-B8NZ"]
    dialog.registration_failed(
        describe_error(_request_error(protocol.ErrorCode.INVALID_INVITE)),
        protocol.ErrorCode.INVALID_INVITE,
    )
    assert "not valid" in dialog.error_text
    assert dialog.focusWidget() is dialog.invite_edit
    assert dialog.invite_edit.selectedText() == "7KQM-4XPA-B8NZ"  # typing replaces it


def test_welcome_takes_an_invite_code_before_the_server_asks(qtbot: QtBot) -> None:
    dialog = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name_edit, "Maria")
    dialog.invite_button.click()
    assert dialog.invite_shown and dialog.focusWidget() is dialog.invite_edit
    qtbot.keyClicks(dialog.invite_edit, "7KQM-4XPA-B8NZ")
    with qtbot.waitSignal(dialog.register_requested) as blocker:
        dialog.register_button.click()
    assert blocker.args[-1] == "7KQM-4XPA-B8NZ"


def test_welcome_shows_the_new_id_with_copy_and_continue(qtbot: QtBot) -> None:
    dialog = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name_edit, "Maria")
    dialog.register_button.click()
    dialog.registration_succeeded("K7QM-4XPA", "Maria")
    assert dialog.pages.currentIndex() == 1
    assert dialog.id_label.text() == "K7QM-4XPA"
    assert "Maria" in dialog.done_title.text()
    assert not dialog.fingerprint_label.isVisibleTo(dialog)  # no TLS pin to show
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "K7QM-4XPA"
    with qtbot.waitSignal(dialog.accepted):
        dialog.continue_button.click()


# --- add contact ---------------------------------------------------------------------------


def test_client_ids_are_normalised_like_people_type_them() -> None:
    assert normalize_client_id(" k7qm 4xpa ") == "K7QM-4XPA"
    assert normalize_client_id("k7qm-4xpa") == "K7QM-4XPA"
    assert normalize_client_id("B0B0-IIII") == "B0B0-1111"  # I read as 1 (Crockford)
    assert normalize_client_id("K7QM4XP") is None
    assert normalize_client_id("K7QM-4XPU") is None  # U is not in the alphabet


def test_add_contact_refuses_own_id_and_existing_contacts(qtbot: QtBot) -> None:
    dialog = AddContactDialog(ALICE, [BOB])
    qtbot.addWidget(dialog)
    with qtbot.assertNotEmitted(dialog.lookup_requested):
        dialog.id_edit.setText(ALICE.lower())
        dialog.lookup_button.click()
        assert "your own ID" in dialog.result_text
        dialog.id_edit.setText("b0b0 1111")
        dialog.lookup_button.click()
        assert "already one of your contacts" in dialog.result_text
        assert dialog.id_edit.text() == BOB  # normalised in place
    dialog.id_edit.setText("hello!")
    assert not dialog.lookup_button.isEnabled()


def test_add_contact_shows_the_name_before_adding(qtbot: QtBot) -> None:
    dialog = AddContactDialog(ALICE, [])
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.id_edit, "ca20 2222")
    assert not dialog.add_button.isEnabled()
    with qtbot.waitSignal(dialog.lookup_requested) as lookup:
        qtbot.keyClick(dialog.id_edit, Qt.Key.Key_Return)
    assert lookup.args == [CAROL]
    assert not dialog.lookup_button.isEnabled()  # busy
    dialog.show_found(CAROL, "Carol")
    assert dialog.result_text == "Found: \u2068Carol\u2069"  # isolated: see formatting.isolate
    assert dialog.add_button.isEnabled()
    with qtbot.waitSignal(dialog.add_requested) as add:
        dialog.add_button.click()
    assert add.args == [CAROL]


def test_add_contact_shows_who_was_found_with_avatar_and_id_until_the_id_changes(
    qtbot: QtBot,
) -> None:
    dialog = AddContactDialog(ALICE, [])
    qtbot.addWidget(dialog)
    dialog.id_edit.setText(CAROL)
    dialog.lookup_button.click()
    dialog.show_found(CAROL, "Carol")
    assert dialog.avatar_label.isVisibleTo(dialog)
    assert dialog.found_id_label.text() == CAROL
    assert dialog.add_button.property("variant") == "primary"
    dialog.id_edit.setText(BOB)
    assert not dialog.avatar_label.isVisibleTo(dialog)
    assert not dialog.found_id_label.isVisibleTo(dialog)
    assert dialog.result_text == ""


def test_add_contact_error_lets_the_user_try_another_id(qtbot: QtBot) -> None:
    dialog = AddContactDialog(ALICE, [])
    qtbot.addWidget(dialog)
    dialog.id_edit.setText(CAROL)
    dialog.lookup_button.click()
    dialog.show_error(describe_error(_request_error(protocol.ErrorCode.UNKNOWN_CLIENT)))
    assert "no one with this ID" in dialog.result_text
    assert not dialog.add_button.isEnabled()
    assert dialog.lookup_button.isEnabled()


def _request_error(code: str) -> Exception:
    from messenger_gui.client import RequestError

    return RequestError(code, "test")


def test_errors_are_described_for_people() -> None:
    from messenger_gui.client import NotConnectedError

    assert "offline" in describe_error(NotConnectedError())
    assert "Cannot reach" in describe_error(NotConnectedError(), connecting=True)
    assert "Cannot reach" in describe_error(ConnectionRefusedError())
    assert "registrations" in describe_error(_request_error("registration_closed"))
    assert "went wrong" in describe_error(_request_error("something_new"))


PROTOCOL_CODES = sorted(
    value for name, value in vars(protocol.ErrorCode).items() if name.isupper()
)
"""Every error code of the shared protocol definition."""


def test_the_error_codes_of_the_protocol_document_are_the_shared_definitions() -> None:
    document = (Path(__file__).parents[1] / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = document.split("## 6. Error codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))
    assert documented == set(PROTOCOL_CODES)


def test_every_error_code_has_its_own_words_in_english_and_portuguese(
    qapp: QApplication,
) -> None:
    generic = describe_error(_request_error("something_new"))
    english = {code: describe_error(_request_error(code)) for code in PROTOCOL_CODES}
    assert [code for code, text in english.items() if text == generic] == []
    assert all(describe_code(code) is not None for code in PROTOCOL_CODES)
    installed = i18n.install_translators(qapp, "pt_BR")
    try:
        portuguese = {code: describe_error(_request_error(code)) for code in PROTOCOL_CODES}
        generic_pt = describe_error(_request_error("something_new"))
    finally:
        for each in installed:
            qapp.removeTranslator(each)
        QLocale.setDefault(QLocale("en_US"))
    assert generic_pt != generic  # the Portuguese file was in use
    assert [code for code, text in portuguese.items() if text == generic_pt] == []
    assert [code for code, text in portuguese.items() if text == english[code]] == []


def test_each_error_code_is_described_once() -> None:
    """A code written twice in the table silently keeps only its last words (two branches
    once both described the conversation features' codes)."""
    source = (Path(__file__).parents[1] / "messenger_gui/ui/dialogs/errors.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = [ast.unparse(key) for key in node.keys if key is not None]
            assert [k for k in set(keys) if keys.count(k) > 1] == []


# --- new group -----------------------------------------------------------------------------


def _contacts() -> list[Contact]:
    return [Contact(BOB, "Bob"), Contact(CAROL, "Carol"), Contact("D0D0-3333", "Dora")]


def test_new_group_needs_a_name_and_a_member(qtbot: QtBot) -> None:
    dialog = NewGroupDialog(_contacts())
    qtbot.addWidget(dialog)
    assert not dialog.create_button.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "Family")
    assert not dialog.create_button.isEnabled()
    dialog.set_checked(CAROL)
    assert dialog.create_button.isEnabled()
    assert "1 member" in dialog.count_label.text()
    with qtbot.waitSignal(dialog.create_requested) as create:
        dialog.create_button.click()
    assert create.args == ["Family", [CAROL]]
    dialog.show_error("The group is full.")
    assert dialog.error_text == "The group is full."
    assert dialog.create_button.isEnabled()


def test_new_group_filter_hides_other_contacts(qtbot: QtBot) -> None:
    dialog = NewGroupDialog(_contacts())
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.filter_edit, "ca")
    shown = [
        dialog.member_list.item(i).text()
        for i in range(dialog.member_list.count())
        if not dialog.member_list.item(i).isHidden()
    ]
    assert shown == [f"Carol  ·  {CAROL}"]
    assert not dialog.empty_label.isVisibleTo(dialog)


def test_new_group_without_contacts_says_how_to_start(qtbot: QtBot) -> None:
    dialog = NewGroupDialog([])
    qtbot.addWidget(dialog)
    assert dialog.empty_label.isVisibleTo(dialog)


def test_new_group_ticks_a_contact_when_its_row_is_clicked_anywhere(qtbot: QtBot) -> None:
    dialog = NewGroupDialog(_contacts())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    row = next(
        dialog.member_list.item(i)
        for i in range(dialog.member_list.count())
        if dialog.member_list.item(i).data(ID_ROLE) == CAROL
    )
    centre = dialog.member_list.visualItemRect(row).center()
    viewport = dialog.member_list.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    assert dialog.selected_ids() == [CAROL]
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    assert dialog.selected_ids() == []
    dialog.member_list.setCurrentItem(row)
    qtbot.keyClick(dialog.member_list, Qt.Key.Key_Space)
    assert dialog.selected_ids() == [CAROL]
    assert dialog.create_button.property("variant") == "primary"


# --- group info ----------------------------------------------------------------------------


def _group(admin: str) -> StoredGroup:
    return StoredGroup(
        group_id="G-AAAA-BBBB",
        name="Family",
        created_by=admin,
        created_at=0,
        left=False,
        members=(
            GroupMember(ALICE, "Alice", admin == ALICE),
            GroupMember(BOB, "Bob", admin == BOB),
        ),
    )


def test_group_info_admin_can_add_and_remove(qtbot: QtBot) -> None:
    dialog = GroupInfoDialog(_group(ALICE), ALICE, _contacts())
    qtbot.addWidget(dialog)
    assert dialog.is_admin
    assert dialog.admin_widgets.isVisibleTo(dialog)
    assert dialog.member_ids() == [ALICE, BOB]  # oneself first
    assert "admin" in dialog.member_list.item(0).text()
    assert dialog.add_combo.count() == 2  # Carol and Dora, not Bob
    dialog.select_contact_to_add(CAROL)
    with qtbot.waitSignal(dialog.add_member_requested) as add:
        dialog.add_button.click()
    assert add.args == ["G-AAAA-BBBB", CAROL]
    dialog.set_group(_group(ALICE), _contacts())
    dialog.select_member(ALICE)
    assert not dialog.remove_button.isEnabled()  # not oneself: that is Leave
    dialog.select_member(BOB)
    with qtbot.waitSignal(dialog.remove_member_requested) as remove:
        dialog.remove_button.click()
    assert remove.args == ["G-AAAA-BBBB", BOB]


def test_group_info_lists_people_with_avatars_and_marks_destructive_actions(
    qtbot: QtBot,
) -> None:
    dialog = GroupInfoDialog(_group(ALICE), ALICE, _contacts())
    qtbot.addWidget(dialog)
    assert isinstance(dialog.member_list.itemDelegate(), PersonDelegate)
    you = dialog.member_list.item(0)
    assert you.data(NAME_ROLE) == "You"
    assert you.data(PILL_ROLE) == "admin"
    assert you.data(AVATAR_ROLE) == "Alice"  # initials from the name, not from "You"
    assert you.data(Qt.ItemDataRole.CheckStateRole) is None  # a list, not a checklist
    assert dialog.member_list.item(1).data(PILL_ROLE) == ""
    assert dialog.add_combo.currentIndex() == 0  # a contact to add is chosen already
    assert dialog.add_button.isEnabled()
    assert dialog.remove_button.property("variant") == "danger"
    assert dialog.leave_button.property("variant") == "danger"
    assert dialog.close_button.property("variant") == "primary"
    assert dialog.avatar_label.pixmap() is not None and not dialog.avatar_label.pixmap().isNull()


def test_group_info_member_cannot_manage_but_can_leave_after_confirming(qtbot: QtBot) -> None:
    dialog = GroupInfoDialog(_group(BOB), ALICE, _contacts())
    qtbot.addWidget(dialog)
    assert not dialog.is_admin
    assert not dialog.admin_widgets.isVisibleTo(dialog)
    dialog.leave_button.click()
    box = dialog.confirm_box
    assert box is not None
    with qtbot.assertNotEmitted(dialog.leave_requested):
        box.button(QMessageBox.StandardButton.Cancel).click()
    dialog.leave_button.click()
    box = dialog.confirm_box
    assert box is not None
    leave = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    with qtbot.waitSignal(dialog.leave_requested) as leave_signal:
        leave.click()
    assert leave_signal.args == ["G-AAAA-BBBB"]


# --- search --------------------------------------------------------------------------------


def _history(tmp_path: Path) -> ClientStore:
    store = ClientStore(tmp_path / "profile")
    store.add_contact(BOB, "Bob")
    messages = [
        protocol.Message(
            message_id=i + 1,
            seq=i,
            ts=1_700_000_000_000 + i * 60_000,
            sender=BOB,
            sender_name="Bob",
            to=ALICE,
            text=text,
        )
        for i, text in enumerate(
            ["Shall we have lunch tomorrow?", "The meeting moved to Thursday", "ok"]
        )
    ]
    store.save_messages_to_history(messages)
    return store


def test_search_finds_part_of_a_word_and_activates_it(qtbot: QtBot, tmp_path: Path) -> None:
    store = _history(tmp_path)
    dialog = SearchDialog(store.search, store.conversation_title)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.query_edit, "meet")
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=2000)
    hit = dialog.hits()[0]
    assert hit.text == "The meeting moved to Thursday"
    assert "1 message" in dialog.status_label.text()
    html = dialog.results.item(0).data(Qt.ItemDataRole.UserRole + 1)
    assert "Bob" in html and ">meet</span>ing" in html
    dialog.grab()  # paints the delegate
    with qtbot.waitSignal(dialog.result_activated) as activated:
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    assert activated.args == [hit.local_id, BOB, False]
    store.close()


def test_search_without_results_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    store = _history(tmp_path)
    dialog = SearchDialog(store.search, store.conversation_title)
    qtbot.addWidget(dialog)
    dialog.query_edit.setText("zebra")
    dialog.run_search()
    assert dialog.results.count() == 0
    assert dialog.status_label.text() == "No messages found."
    store.close()


def test_welcome_shows_the_pinned_certificate_fingerprint(qtbot: QtBot) -> None:
    dialog = WelcomeDialog("chat.example.org", 7850, use_tls=True)
    qtbot.addWidget(dialog)
    dialog.registration_succeeded("K7QM-4XPA", "Maria", "AB:CD:EF")
    assert dialog.fingerprint_label.isVisibleTo(dialog)
    assert "AB:CD:EF" in dialog.fingerprint_label.text()


def test_add_contact_offers_an_id_found_on_the_clipboard(qtbot: QtBot) -> None:
    dialog = AddContactDialog(ALICE, [])
    qtbot.addWidget(dialog)
    dialog.offer_clipboard("Hello there")
    assert dialog.id_edit.text() == ""
    dialog.offer_clipboard(ALICE)  # one's own ID is not offered
    assert dialog.id_edit.text() == ""
    dialog.offer_clipboard(" ca20 2222\n")
    assert dialog.id_edit.text() == CAROL
    assert dialog.lookup_button.isEnabled()


def test_search_says_when_only_the_newest_matches_are_shown(qtbot: QtBot) -> None:
    def many(query: str, limit: int) -> list[SearchHit]:
        return [
            SearchHit(i, BOB, False, "in", BOB, "Bob", f"{query} {i}", i, i, 0, len(query))
            for i in range(limit)
        ]

    dialog = SearchDialog(many, lambda _conversation: "Bob")
    qtbot.addWidget(dialog)
    dialog.query_edit.setText("hello")
    dialog.run_search()
    assert dialog.results.count() == 100
    assert "newest 100" in dialog.status_label.text()
