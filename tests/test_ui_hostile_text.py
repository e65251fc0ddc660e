"""Text from other people is shown as text: display names, group names and messages that
look like HTML or carry bidi controls, rendered in every widget that shows them.

What a widget shows is read the way Qt reads it: a label's text in its text format (rich
text when "auto" and it looks like HTML), a tooltip as a label in auto format, HTML we
compose on purpose through a ``QTextDocument``. The bidi tests read the visual order of
laid-out text (``QTextLayout.cursorToX``), as a person reads the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6 import QtGui
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QTextDocument, QTextLayout
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore, GroupMember, StoredGroup
from messenger_gui.ui.chat import BubbleDelegate, MessageListModel, message_html
from messenger_gui.ui.conversations import ConversationRole
from messenger_gui.ui.dialogs.add_contact import AddContactDialog
from messenger_gui.ui.dialogs.group_info import GroupInfoDialog
from messenger_gui.ui.dialogs.search import SearchDialog
from messenger_gui.ui.dialogs.welcome import WelcomeDialog
from messenger_gui.ui.formatting import (
    BIDI_CONTROLS,
    bidi_safe,
    fill,
    isolate,
    notification_text,
    plain_tooltip,
)
from messenger_gui.ui.main_window import MainWindow
from messenger_server import protocol
from tests.test_ui_models import ANA, BASE_TS, BRUNO, GROUP, ME, History, _option

HOSTILE_NAMES = [
    "<!-- hidden",
    "<u></u>Eve<!--",
    "<img src=x>",
    "<a href='https://evil.example'>click</a>",
    "<b>bold</b> & co",
]
"""Names a stranger may pick: each would hide, load or style what follows as rich text."""

_INVISIBLE = BIDI_CONTROLS | {"\u2060"}


def visible(text: str) -> str:
    """``text`` without the invisible bidi controls (what a person sees, in logical order)."""
    return "".join(ch for ch in text if ch not in _INVISIBLE).replace("\u2028", "\n")


def shown(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """The characters Qt shows for ``text`` in ``fmt`` (tooltips use the auto format)."""
    rich = fmt == Qt.TextFormat.RichText or (
        fmt == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if not rich:
        return visible(text)
    document = QTextDocument()
    document.setHtml(text)
    return visible(document.toPlainText())


def label_shows(label: QLabel) -> str:
    return shown(label.text(), label.textFormat())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ClientStore]:
    with ClientStore(tmp_path / "profile") as store:
        yield store


def _group(name: str, member_name: str) -> protocol.GroupInfo:
    return protocol.GroupInfo(
        group_id=GROUP,
        name=name,
        members=[
            protocol.Member(client_id=ME, display_name="Marina", admin=True),
            protocol.Member(client_id=ANA, display_name=member_name),
        ],
        created_by=ME,
        created_at=BASE_TS,
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_show_as_typed_in_the_main_window(
    qtbot: QtBot, store: ClientStore, name: str
) -> None:
    store.add_contact(ANA, name)
    history = History(store)
    history.receive(ANA, name, BASE_TS, name=name)
    history.receive(BRUNO, "hello", BASE_TS + 1, name=name)  # a stranger: the banner shows
    store.save_group(_group(name, name))
    window = MainWindow(store, ME, name)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    assert label_shows(window.own_name_label) == name
    window.open_conversation(ANA, False)
    assert label_shows(window.header_title) == name
    assert label_shows(window.header_subtitle) == f"ID {ANA}"
    # The bubble's text, painted and in the selectable copy.
    built = window.chat_view.itemDelegate().layout(  # type: ignore[attr-defined]
        _option(window.chat_view, QRect(0, 0, 640, 10)), window.message_model.index(0, 0)
    )
    assert built is not None and visible(built.text.text()) == name
    assert shown(message_html(name), Qt.TextFormat.RichText) == name

    window.open_conversation(BRUNO, False)
    assert window.contact_banner.isVisibleTo(window)
    assert label_shows(window.contact_banner_label) == f"{name} is not in your contacts."

    window.open_conversation(GROUP, True)
    assert label_shows(window.header_title) == name
    subtitle = label_shows(window.header_subtitle)
    assert subtitle.startswith("2 members: ") and name in subtitle
    assert shown(window.header_subtitle.toolTip()) == f"2 members: {name}, You"

    model = window.conversation_model
    tooltips = {
        model.index(row, 0).data(ConversationRole.ID): shown(
            model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
        )
        for row in range(model.rowCount())
    }
    # The ID after the name stays visible whatever the name opens (e.g. a comment).
    assert tooltips[ANA] == f"{name}\n{ANA}"
    assert tooltips[GROUP] == f"{name}\n{GROUP}"
    window.grab()  # the delegates paint these rows (QPainter.drawText is plain text)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_show_as_typed_in_the_dialogs(qtbot: QtBot, name: str) -> None:
    group = StoredGroup(
        group_id=GROUP,
        name=name,
        created_by=ANA,
        created_at=0,
        left=False,
        members=(GroupMember(ME, "Marina", False), GroupMember(ANA, name, True)),
    )
    info = GroupInfoDialog(group, ME, [])
    qtbot.addWidget(info)
    assert label_shows(info.title_label) == name
    assert visible(info.windowTitle()) == f"Group info — {name}"
    info.leave_button.click()
    box = info.confirm_box
    assert box is not None
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert visible(box.text()).startswith(f"Leave “{name}”?")
    box.close()

    add = AddContactDialog(ME, [])
    qtbot.addWidget(add)
    add.id_edit.setText(ANA)
    add.lookup_button.click()
    add.show_found(ANA, name)
    assert label_shows(add.result_label) == f"Found: {name}"
    assert add.found_id_label.text() == ANA

    welcome = WelcomeDialog("127.0.0.1", 7850)
    qtbot.addWidget(welcome)
    welcome.registration_succeeded("K7QM-4XPA", name)
    assert label_shows(welcome.done_title) == f"You're all set, {name}!"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_and_texts_show_as_typed_in_search_results(
    qtbot: QtBot, tmp_path: Path, name: str
) -> None:
    with ClientStore(tmp_path / "profile") as store:
        store.save_group(_group(name, name))
        History(store).receive(ANA, f"needle {name}", BASE_TS, name=name, group=GROUP)
        dialog = SearchDialog(store.search, store.conversation_title)
        qtbot.addWidget(dialog)
        dialog.query_edit.setText("needle")
        dialog.run_search()
        assert dialog.results.count() == 1
        item = dialog.results.item(0)
        row = shown(item.data(Qt.ItemDataRole.UserRole + 1), Qt.TextFormat.RichText).strip()
        assert row.startswith(f"{name} · {name}")
        assert row.endswith(f"needle {name}")
        assert shown(item.data(Qt.ItemDataRole.ToolTipRole)) == f"needle {name}"
        dialog.grab()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_notifications_escape_where_the_desktop_reads_markup(name: str) -> None:
    assert notification_text(name, markup=False) == name
    assert shown(notification_text(name, markup=True), Qt.TextFormat.RichText) == name


def test_a_tooltip_shows_exactly_its_text() -> None:
    for text in [*HOSTILE_NAMES, "two\nlines", "plain"]:
        assert shown(plain_tooltip(text)) == text
    assert plain_tooltip("") == ""


def test_placeholders_are_filled_once() -> None:
    assert fill("%1 in %2", "%2 evil", "Family") == "%2 evil in Family"
    assert fill("%1 and %1", "x") == "x and x"


# --- bidi ---------------------------------------------------------------------------------------


def visual_order(text: str, font: QFont | None = None) -> str:
    """The visible characters of ``text`` from left to right, as Qt places their glyphs on
    one line (spaces left out: Qt draws some controls with the space glyph, zero wide).

    Glyphs are told apart by their index in the font (a glyph run's string indexes are not
    reliable in PySide6)."""
    layout = QTextLayout(text, font or QFont())
    layout.beginLayout()
    layout.createLine().setLineWidth(100_000)
    layout.endLayout()
    flags = QTextLayout.GlyphRunRetrievalFlag
    placed = []
    for run in layout.glyphRuns(
        0, len(text), flags.RetrieveGlyphPositions | flags.RetrieveGlyphIndexes
    ):
        font_of_run = run.rawFont()
        chars: dict[int, str] = {}
        for ch in set(text) - _INVISIBLE - {" "}:
            glyphs = font_of_run.glyphIndexesForString(ch)
            if glyphs and glyphs[0]:
                chars.setdefault(glyphs[0], ch)
        for glyph, position in zip(run.glyphIndexes(), run.positions(), strict=True):
            if glyph in chars:
                placed.append((position.x(), chars[glyph]))
    return "".join(ch for _, ch in sorted(placed))


SPOOF = "invoice\u202egnp.exe"
"""A RIGHT-TO-LEFT OVERRIDE: reads as ``invoiceexe.png`` when shown raw."""


def test_an_override_reorders_raw_text_but_not_safe_text() -> None:
    assert visual_order(SPOOF) == "invoiceexe.png"  # the attack, as Qt shows it raw
    assert visual_order(bidi_safe(SPOOF)) == "invoicegnp.exe"
    assert visual_order(bidi_safe(SPOOF) + " sent") == "invoicegnp.exesent"


def test_an_override_in_a_raw_name_reverses_the_text_after_it() -> None:
    assert visual_order("ab\u202ecd: hello 42") == "ab24olleh:dc"  # raw
    assert visual_order(fill("%1: hello 42", isolate("ab\u202ecd"))) == "abcd:hello42"


@pytest.mark.parametrize(
    "control", ["\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"]
)
def test_no_control_in_a_name_reorders_what_follows(control: str) -> None:
    name = f"ab{control}cd"
    assert visual_order(fill("%1: hello 42", isolate(name))) == "abcd:hello42"


@pytest.mark.parametrize("control", ["\u202c", "\u2069", "\u200f", "\u061c"])
def test_a_closing_control_or_mark_in_a_name_cannot_leave_its_isolate(control: str) -> None:
    name = f"\u05d0\u05d1{control}12"  # Hebrew letters, then the control, then digits
    assert visual_order(isolate(name) + " sent 42").endswith("sent42")
    assert isolate(name).count("\u2069") >= 1
    assert isolate(name).endswith("\u2069")


def test_a_spoofed_name_and_message_read_in_order_in_the_chat(
    qtbot: QtBot, store: ClientStore
) -> None:
    History(store).receive(ANA, f"see {SPOOF} now", BASE_TS, name=SPOOF, group=GROUP)
    store.save_group(_group("Family", SPOOF))
    model = MessageListModel(store)
    model.open(GROUP, True)
    widget = QWidget()
    qtbot.addWidget(widget)
    built = BubbleDelegate().layout(_option(widget, QRect(0, 0, 640, 10)), model.index(0, 0))
    assert built is not None
    assert visual_order(built.text.text()) == "seeinvoicegnp.exenow"
    assert visible(built.text.text()) == f"see {visible(SPOOF)} now"


def test_names_in_the_conversation_features_texts_cannot_reorder_them(qapp: QApplication) -> None:
    """Typing indicators, group system lines, "Forwarded from", reply quotes and reaction
    tooltips put someone's name among other words: an override in it stops at its end."""
    from messenger_gui.storage import StoredMessage, system_line
    from messenger_gui.ui.formatting import system_text, typing_text

    name = "ab\u202ecd"
    assert visual_order(typing_text([name])) == "abcdistyping…"
    assert visual_order(typing_text([name, "Bea"])) == "abcdandBeaaretyping…"
    line = system_line("renamed", name, value="x\u202eyz")
    assert visual_order(system_text(line) + " 42") == "abcdrenamedthegroupto“xyz”42"
    delegate = BubbleDelegate()
    forwarded = StoredMessage(
        local_id=1,
        conversation=ANA,
        is_group=False,
        direction="in",
        sender=ANA,
        sender_name="Ana",
        text="hi",
        ts=BASE_TS,
        seq=1,
        message_id=1,
        key=None,
        status="received",
        forwarded_name=name,
    )
    assert visual_order(delegate.forwarded_text(forwarded) + " 42") == "Forwardedfromabcd42"
    assert shown(plain_tooltip("<img src=x>\n" + name)) == "<img src=x>\nabcd"
