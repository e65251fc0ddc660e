"""The sidebar and chat models, the bubble delegate and the composer, on a real history
file filled through the store's own API (as the client core fills it)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QStyleOptionViewItem, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore, GroupReceipts, StoredMessage
from messenger_gui.ui.chat import (
    BubbleDelegate,
    BubbleLayout,
    ChatView,
    MessageListModel,
    MessageRole,
    receipts_text,
    url_spans,
)
from messenger_gui.ui.composer import Composer
from messenger_gui.ui.conversations import (
    ConversationDelegate,
    ConversationFilterModel,
    ConversationListModel,
    ConversationRole,
)
from messenger_server import protocol

ME = "MMMM-0000"
ANA = "AAAA-1111"
BRUNO = "BBBB-2222"
JOAO = "JJJJ-3333"
GROUP = "G-GRPA-0001"
DAY_MS = 24 * 3600 * 1000
BASE_TS = 1_767_000_000_000  # a fixed moment: dates below do not depend on "now"


class History:
    """Writes messages the way the client core does; seq and message ids like a server."""

    def __init__(self, store: ClientStore) -> None:
        self.store = store
        self.ids = itertools.count(1)
        self.seqs: dict[str, Iterator[int]] = {}

    def seq(self, conversation: str) -> int:
        return next(self.seqs.setdefault(conversation, itertools.count(1)))

    def receive(
        self, sender: str, text: str, ts: int, *, name: str | None = None, group: str | None = None
    ) -> protocol.Message:
        message = protocol.Message(
            message_id=next(self.ids),
            seq=self.seq(group or sender),
            ts=ts,
            sender=sender,
            sender_name=name or sender,
            text=text,
            to=None if group else ME,
            group=group,
        )
        assert self.store.save_messages_to_history([message])
        return message

    def receive_many(
        self, sender: str, count: int, ts: int, *, step_ms: int = 1000, read: bool = True
    ) -> None:
        """``count`` messages from ``sender``; ``read`` moves the read marker past them."""
        batch = [
            protocol.Message(
                message_id=next(self.ids),
                seq=self.seq(sender),
                ts=ts + i * step_ms,
                sender=sender,
                sender_name="Ana",
                text=f"message {i}",
                to=ME,
            )
            for i in range(count)
        ]
        self.store.save_messages_to_history(batch)
        if read:
            self.store.set_read_marker(sender, batch[-1].seq)

    def send(self, conversation: str, text: str, ts: int, *, is_group: bool = False) -> str:
        """Queue and get the server's ``sent`` at once; returns the key."""
        queued = self.store.queue_outgoing(conversation, is_group, text)
        self.store.mark_sent(queued.key, next(self.ids), self.seq(conversation), ts, me=ME)
        return queued.key


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ClientStore]:
    with ClientStore(tmp_path / "profile") as store:
        yield store


@pytest.fixture
def history(store: ClientStore) -> History:
    return History(store)


def rows(model: MessageListModel) -> list[StoredMessage]:
    result = []
    for row in range(model.rowCount()):
        message = model.message(row)
        assert message is not None
        result.append(message)
    return result


def texts(model: MessageListModel) -> list[str]:
    return [m.text for m in rows(model)]


# --- conversation list ----------------------------------------------------------------------


def test_conversation_list_is_ordered_by_last_activity_with_unread_counts(
    store: ClientStore, history: History
) -> None:
    store.add_contact(ANA, "Ana")
    store.add_contact(BRUNO, "Bruno")
    history.receive(ANA, "old news", BASE_TS)
    history.receive(BRUNO, "fresh", BASE_TS + 60_000)
    history.receive(BRUNO, "fresher", BASE_TS + 120_000)
    model = ConversationListModel(store.conversations_summary)
    model.reload()

    assert [model.index(r, 0).data(ConversationRole.ID) for r in range(2)] == [BRUNO, ANA]
    assert model.index(0, 0).data(ConversationRole.UNREAD) == 2
    assert model.index(0, 0).data(ConversationRole.PREVIEW) == "fresher"
    assert model.index(0, 0).data(Qt.ItemDataRole.DisplayRole) == "Bruno"

    history.send(ANA, "my reply", BASE_TS + 180_000)
    model.reload()
    assert model.index(0, 0).data(ConversationRole.ID) == ANA
    summary = model.index(0, 0).data(ConversationRole.SUMMARY)
    assert summary.last_direction == "out"
    assert summary.last_status == "sent"


def test_conversation_reload_keeps_the_selected_conversation(
    qtbot: QtBot, store: ClientStore, history: History
) -> None:
    from PySide6.QtWidgets import QListView

    store.add_contact(ANA, "Ana")
    store.add_contact(BRUNO, "Bruno")
    history.receive(ANA, "a", BASE_TS)
    history.receive(BRUNO, "b", BASE_TS + 1000)
    model = ConversationListModel(store.conversations_summary)
    model.reload()
    view = QListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setCurrentIndex(model.index(1, 0))
    assert view.currentIndex().data(ConversationRole.ID) == ANA

    history.receive(ANA, "newest", BASE_TS + 2000)  # Ana moves to the top
    store.add_contact(JOAO, "João")  # a new row appears too
    model.reload()

    order = [model.index(r, 0).data(ConversationRole.ID) for r in range(model.rowCount())]
    assert order.index(ANA) < order.index(BRUNO)
    assert view.currentIndex().data(ConversationRole.ID) == ANA
    assert model.rowCount() == 3


def test_conversation_filter_ignores_case_and_accents(store: ClientStore) -> None:
    store.add_contact(ANA, "Ana Souza")
    store.add_contact(JOAO, "João Ávila")
    model = ConversationListModel(store.conversations_summary)
    model.reload()
    proxy = ConversationFilterModel()
    proxy.setSourceModel(model)

    proxy.set_filter("JOAO avi")
    assert [proxy.index(r, 0).data(ConversationRole.ID) for r in range(proxy.rowCount())] == [JOAO]
    proxy.set_filter("aaaa-1111")  # by ID
    assert proxy.rowCount() == 1
    assert proxy.index(0, 0).data(ConversationRole.ID) == ANA
    proxy.set_filter("nobody")
    assert proxy.rowCount() == 0
    proxy.set_filter("  ")
    assert proxy.rowCount() == 2


def test_conversation_delegate_paints_every_kind_of_row(
    qtbot: QtBot, store: ClientStore, history: History
) -> None:
    store.add_contact(ANA, "Ana Souza")
    history.receive(ANA, "hi " * 100, BASE_TS)
    history.send(ANA, "reply", BASE_TS + 1)
    store.save_group(
        protocol.GroupInfo(
            group_id=GROUP,
            name="Group",
            members=[protocol.Member(client_id=ME, display_name="Me")],
            created_by=ME,
            created_at=BASE_TS,
        )
    )
    history.receive(BRUNO, "unread", BASE_TS + 2, name="Bruno")
    model = ConversationListModel(store.conversations_summary)
    model.reload()
    delegate = ConversationDelegate()
    widget = QWidget()
    qtbot.addWidget(widget)
    image = QImage(320, 80 * model.rowCount(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    painter = QPainter(image)
    for row in range(model.rowCount()):
        option = QStyleOptionViewItem()
        option.initFrom(widget)
        option.rect = QRect(0, 80 * row, 320, 68)
        if row == 0:
            option.state |= QStyle.StateFlag.State_Selected
        delegate.paint(painter, option, model.index(row, 0))
    painter.end()
    assert image.pixelColor(30, 30) != QColor("white")  # an avatar was drawn


def test_a_chat_whose_last_message_was_refused_shows_the_red_mark_in_the_list(
    qtbot: QtBot, store: ClientStore
) -> None:
    store.add_contact(ANA, "Ana Souza")
    queued = store.queue_outgoing(ANA, False, "to someone who left")
    model = ConversationListModel(store.conversations_summary)

    def red_pixels() -> int:
        model.reload()
        widget = QWidget()
        qtbot.addWidget(widget)
        image = QImage(320, 68, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor("white"))
        painter = QPainter(image)
        option = QStyleOptionViewItem()
        option.initFrom(widget)
        option.rect = QRect(0, 0, 320, 68)
        ConversationDelegate().paint(painter, option, model.index(0, 0))
        painter.end()
        return sum(
            1
            for x in range(320)
            for y in range(68)
            if (c := image.pixelColor(x, y)).red() > 200 and c.green() < 90 and c.blue() < 90
        )

    assert red_pixels() == 0  # queued: a clock
    store.mark_failed(queued.local_id, "not_a_member", "not a member of the group")
    assert red_pixels() > 20


# --- message model: paging ------------------------------------------------------------------


def test_large_conversation_opens_with_one_page_loaded(
    store: ClientStore, history: History
) -> None:
    history.receive_many(ANA, 10_000, BASE_TS)
    model = MessageListModel(store, page_size=100)
    model.open(ANA, False)

    assert model.total == 10_000
    assert model.rowCount() == 100
    assert model.pages_read == 1
    assert texts(model)[0] == "message 9900"
    assert texts(model)[-1] == "message 9999"
    assert model.can_fetch_older()
    assert not model.canFetchMore(QModelIndex())


def test_fetching_older_prepends_pages_until_the_first_message(
    store: ClientStore, history: History
) -> None:
    history.receive_many(ANA, 250, BASE_TS)
    model = MessageListModel(store, page_size=100)
    model.open(ANA, False)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))

    assert model.fetch_older() == 100
    assert model.rowCount() == 200
    assert texts(model)[0] == "message 50"
    assert model.fetch_older() == 50
    assert not model.can_fetch_older()
    assert model.fetch_older() == 0
    assert texts(model) == [f"message {i}" for i in range(250)]
    assert inserted == [(0, 99), (0, 49)]


def test_jumping_to_an_old_message_loads_around_it_and_pages_forward(
    store: ClientStore, history: History
) -> None:
    history.receive_many(ANA, 1000, BASE_TS)
    target = store.messages_slice(ANA, 10, 1)[0]
    model = MessageListModel(store, page_size=100)
    model.open(ANA, False)

    row = model.load_around(target.local_id)
    assert row is not None
    assert model.message(row) == target
    assert model.rowCount() < 200
    assert model.canFetchMore(QModelIndex())
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert texts(model)[-1] == "message 999"
    assert model.at_end


def test_row_of_finds_loaded_messages_only(store: ClientStore, history: History) -> None:
    history.receive_many(ANA, 300, BASE_TS)
    model = MessageListModel(store, page_size=100)
    model.open(ANA, False)
    newest = store.messages_page(ANA, None, 1)[0]
    oldest = store.messages_slice(ANA, 0, 1)[0]
    assert model.row_of(newest.local_id) == 99
    assert model.row_of(oldest.local_id) is None


# --- message model: live updates ------------------------------------------------------------


def test_new_messages_are_appended_and_others_ignored(store: ClientStore, history: History) -> None:
    history.receive_many(ANA, 3, BASE_TS)
    model = MessageListModel(store)
    model.open(ANA, False)
    fresh = history.receive(ANA, "new one", BASE_TS + DAY_MS)
    other = history.receive(BRUNO, "elsewhere", BASE_TS + DAY_MS)
    stored = [m for m in store.messages_page(ANA, None, 1) + store.messages_page(BRUNO, None, 1)]

    assert model.add_messages(stored) == 1
    assert texts(model)[-1] == fresh.text
    assert other.text not in texts(model)
    assert model.add_messages(stored) == 0  # shown once
    assert model.total == 4


def test_incoming_message_goes_above_a_queued_one(store: ClientStore, history: History) -> None:
    history.receive(ANA, "first", BASE_TS)
    queued = store.queue_outgoing(ANA, False, "waiting in the outbox")
    model = MessageListModel(store)
    model.open(ANA, False)
    assert texts(model) == ["first", "waiting in the outbox"]
    assert rows(model)[-1].status == "queued"

    history.receive(ANA, "arrived meanwhile", BASE_TS + 1000)
    model.add_messages(store.messages_page(ANA, None, 3))
    assert texts(model) == ["first", "arrived meanwhile", "waiting in the outbox"]
    assert model.row_of(queued.local_id) == 2


def test_queued_message_moves_to_its_place_once_sent(
    store: ClientStore, history: History, qtbot: QtBot
) -> None:
    history.receive(ANA, "first", BASE_TS)
    a = store.queue_outgoing(ANA, False, "queued A")
    b = store.queue_outgoing(ANA, False, "queued B")
    model = MessageListModel(store)
    model.open(ANA, False)
    assert texts(model) == ["first", "queued A", "queued B"]

    # B reaches the server first (A's first attempt was lost): B gets the lower seq.
    store.mark_sent(b.key, 900, history.seq(ANA), BASE_TS + 5000, me=ME)
    sent_b = store.message(b.local_id)
    assert sent_b is not None
    with qtbot.waitSignal(model.rowsMoved, timeout=1000):
        model.message_sent(sent_b)
    assert texts(model) == ["first", "queued B", "queued A"]
    assert [m.status for m in rows(model)] == ["received", "sent", "queued"]
    assert model.row_of(a.local_id) == 2


def test_status_updates_change_the_ticks(store: ClientStore, history: History) -> None:
    history.send(ANA, "one", BASE_TS)
    history.send(ANA, "two", BASE_TS + 1)
    model = MessageListModel(store)
    model.open(ANA, False)
    _first, second = rows(model)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles: changed.append(top.row()))

    model.update_status([second.local_id], "delivered")
    assert [m.status for m in rows(model)] == ["sent", "delivered"]
    assert changed == [1]

    receipts = protocol.Receipts(1, [protocol.Receipt(ANA, delivered=2, read=2)])
    assert len(store.apply_receipts([receipts], me=ME)) == 1
    model.update_status([], "read")  # "possibly all": read again from the store
    assert [m.status for m in rows(model)] == ["read", "read"]


def test_day_separators_and_new_messages_marker(store: ClientStore, history: History) -> None:
    history.receive(ANA, "day 1 a", BASE_TS)
    history.receive(ANA, "day 1 b", BASE_TS + 60_000)
    seen = history.receive(ANA, "day 2 a", BASE_TS + DAY_MS)
    store.set_read_marker(ANA, seen.seq)
    history.receive(ANA, "day 2 unread 1", BASE_TS + DAY_MS + 60_000)
    history.receive(ANA, "day 2 unread 2", BASE_TS + DAY_MS + 120_000)
    model = MessageListModel(store)
    model.open(ANA, False)

    breaks = [bool(model.index(r, 0).data(MessageRole.DAY_BREAK)) for r in range(5)]
    assert breaks == [True, False, True, False, False]
    markers = [model.index(r, 0).data(MessageRole.UNREAD_MARKER) for r in range(5)]
    assert markers == [0, 0, 0, 2, 0]
    model.clear_unread_marker()
    assert model.index(3, 0).data(MessageRole.UNREAD_MARKER) == 0


def test_unread_marker_found_beyond_the_first_page(store: ClientStore, history: History) -> None:
    history.receive_many(ANA, 50, BASE_TS, read=False)
    store.set_read_marker(ANA, 10)
    model = MessageListModel(store, page_size=10)
    model.open(ANA, False)
    marker = model.unread_marker
    assert marker is not None
    local_id, count = marker
    assert count == 40
    row = model.row_of(local_id)
    assert row is not None
    assert texts(model)[row] == "message 10"


def test_a_flood_of_unread_messages_opens_at_the_newest_without_loading_it_all(
    store: ClientStore, history: History
) -> None:
    history.receive_many(ANA, 5000, BASE_TS, read=False)
    model = MessageListModel(store, page_size=100)
    model.open(ANA, False)
    assert model.rowCount() <= 1100
    assert texts(model)[-1] == "message 4999"
    assert model.unread_marker is None


def test_day_separator_of_the_first_loaded_row_knows_the_message_above(
    store: ClientStore, history: History
) -> None:
    history.receive_many(ANA, 20, BASE_TS, step_ms=1000)
    model = MessageListModel(store, page_size=10)
    model.open(ANA, False)
    # The message above the window is on the same day: no separator on row 0.
    assert model.index(0, 0).data(MessageRole.DAY_BREAK) is False


# --- delegate ---------------------------------------------------------------------------------


def _option(widget: QWidget, rect: QRect) -> QStyleOptionViewItem:
    option = QStyleOptionViewItem()
    option.initFrom(widget)
    option.rect = rect
    return option


def test_longer_text_gets_a_taller_bubble(
    qtbot: QtBot, store: ClientStore, history: History
) -> None:
    history.receive(ANA, "short", BASE_TS)
    history.receive(ANA, "long words " * 200, BASE_TS + 1)
    history.receive(ANA, "short too", BASE_TS + 2)
    model = MessageListModel(store)
    model.open(ANA, False)
    widget = QWidget()
    qtbot.addWidget(widget)
    delegate = BubbleDelegate()
    option = _option(widget, QRect(0, 0, 600, 10))

    short = delegate.sizeHint(option, model.index(2, 0))
    long = delegate.sizeHint(option, model.index(1, 0))
    assert long.height() > 4 * short.height()
    narrow = delegate.sizeHint(_option(widget, QRect(0, 0, 300, 10)), model.index(1, 0))
    assert narrow.height() > long.height()


def test_bubbles_paint_into_an_image(qtbot: QtBot, store: ClientStore, history: History) -> None:
    store.save_group(
        protocol.GroupInfo(
            group_id=GROUP,
            name="Hike",
            members=[protocol.Member(client_id=ME, display_name="Me")],
            created_by=ME,
            created_at=BASE_TS,
        )
    )
    history.receive(ANA, "hello https://example.org/x and www.example.com", BASE_TS, group=GROUP)
    history.send(GROUP, "sent", BASE_TS + 1, is_group=True)
    store.queue_outgoing(GROUP, True, "queued")
    model = MessageListModel(store)
    model.open(GROUP, True)
    model.set_highlight(rows(model)[0].local_id)
    widget = QWidget()
    qtbot.addWidget(widget)
    delegate = BubbleDelegate()
    image = QImage(640, 600, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("#e7ecf1"))
    painter = QPainter(image)
    y = 0
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        size = delegate.sizeHint(_option(widget, QRect(0, 0, 640, 10)), index)
        option = _option(widget, QRect(0, y, 640, size.height()))
        if row == 1:
            option.state |= QStyle.StateFlag.State_Selected
        delegate.paint(painter, option, index)
        y += size.height()
    painter.end()
    assert y < image.height()
    # The outgoing bubble is on the right, tinted; the left edge of that row stays background.
    assert image.pixelColor(630, y - 10) == QColor("#e7ecf1")


def test_links_are_found_in_text() -> None:
    spans = url_spans("see https://example.org/a?b=1, or www.example.com.")
    assert [url for _s, _e, url in spans] == [
        "https://example.org/a?b=1",
        "https://www.example.com",
    ]


# --- composer ---------------------------------------------------------------------------------


@pytest.fixture
def composer(qtbot: QtBot) -> Composer:
    widget = Composer(max_bytes=100)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_enter_sends_and_clears(qtbot: QtBot, composer: Composer) -> None:
    composer.set_text("hello")
    with qtbot.waitSignal(composer.send_requested, timeout=1000) as signal:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert signal.args == ["hello"]
    assert composer.text() == ""


def test_shift_enter_inserts_a_new_line(qtbot: QtBot, composer: Composer) -> None:
    sent: list[str] = []
    composer.send_requested.connect(sent.append)
    composer.set_text("line 1")
    composer.input.moveCursor(composer.input.textCursor().MoveOperation.End)
    qtbot.keyClick(composer.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.input, "line 2")
    assert sent == []
    assert composer.text() == "line 1\nline 2"


def test_blank_text_is_not_sent(qtbot: QtBot, composer: Composer) -> None:
    sent: list[str] = []
    composer.send_requested.connect(sent.append)
    composer.set_text("  \n ")
    qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    composer.send_button.click()
    assert sent == []
    assert not composer.send_button.isEnabled()


def test_over_the_limit_is_refused_with_a_counter(qtbot: QtBot, composer: Composer) -> None:
    sent: list[str] = []
    composer.send_requested.connect(sent.append)
    composer.set_text("é" * 45)  # 90 bytes: the counter shows, still allowed
    assert composer.counter.isVisible()
    assert composer.send_button.isEnabled()
    composer.set_text("é" * 51)  # 102 bytes
    assert not composer.send_button.isEnabled()
    qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert sent == []
    assert composer.text() == "é" * 51  # kept, so it can be shortened


def test_disabled_composer_shows_the_reason(qtbot: QtBot, composer: Composer) -> None:
    sent: list[str] = []
    composer.send_requested.connect(sent.append)
    composer.set_text("draft")
    composer.set_enabled(False, "You left this group")
    assert composer.reason.isVisible()
    assert composer.reason.text() == "You left this group"
    composer.submit()
    assert sent == []
    composer.set_enabled(True)
    assert composer.text() == "draft"


def test_runs_of_one_sender_start_and_end_where_the_sender_changes(
    store: ClientStore, history: History
) -> None:
    history.receive(ANA, "a1", BASE_TS)
    history.receive(ANA, "a2", BASE_TS + 1000)
    history.send(ANA, "me", BASE_TS + 2000)
    history.receive(ANA, "a3 much later", BASE_TS + 3600_000)
    model = MessageListModel(store)
    model.open(ANA, False)
    first = [bool(model.index(r, 0).data(MessageRole.FIRST_IN_RUN)) for r in range(4)]
    last = [bool(model.index(r, 0).data(MessageRole.LAST_IN_RUN)) for r in range(4)]
    assert first == [True, False, True, True]
    assert last == [False, True, True, True]


def test_a_link_in_a_bubble_is_found_under_the_mouse(
    qtbot: QtBot, store: ClientStore, history: History
) -> None:
    history.receive(ANA, "https://example.org/a-long-link-to-click", BASE_TS)
    model = MessageListModel(store)
    model.open(ANA, False)
    widget = QWidget()
    qtbot.addWidget(widget)
    delegate = BubbleDelegate()
    option = _option(widget, QRect(0, 0, 640, 10))
    built = delegate.layout(option, model.index(0, 0))
    assert built is not None
    option.rect = QRect(0, 0, 640, built.size.height())
    inside = built.text_pos.toPoint() + QPoint(20, 5)
    assert delegate.link_at(option, model.index(0, 0), inside) == (
        "https://example.org/a-long-link-to-click"
    )
    assert delegate.link_at(option, model.index(0, 0), QPoint(630, 5)) is None


# --- messages the server refused -------------------------------------------------------------


def _paint_row(
    delegate: BubbleDelegate, widget: QWidget, index: QModelIndex
) -> tuple[QImage, BubbleLayout]:
    option = _option(widget, QRect(0, 0, 640, 10))
    built = delegate.layout(option, index)
    assert built is not None
    image = QImage(640, built.size.height(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("#e7ecf1"))
    painter = QPainter(image)
    delegate.paint(painter, _option(widget, QRect(0, 0, 640, built.size.height())), index)
    painter.end()
    return image, built


def _reddish_pixels(image: QImage, area: QRectF) -> int:
    count = 0
    rect = area.toAlignedRect().intersected(image.rect())
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top(), rect.bottom() + 1):
            c = image.pixelColor(x, y)
            if c.red() > 180 and c.green() < 120 and c.blue() < 120:
                count += 1
    return count


def test_a_refused_message_shows_a_red_not_sent_mark_instead_of_the_clock(
    qtbot: QtBot, store: ClientStore
) -> None:
    refused = store.queue_outgoing(ANA, False, "are you there?")
    store.queue_outgoing(ANA, False, "are you there?")  # still waiting: the clock
    store.mark_failed(refused.local_id, "unknown_client", "no such client")
    model = MessageListModel(store)
    model.open(ANA, False)
    assert [m.failure for m in rows(model)] == ["unknown_client", None]
    widget = QWidget()
    qtbot.addWidget(widget)
    delegate = BubbleDelegate()

    failed_image, failed_layout = _paint_row(delegate, widget, model.index(0, 0))
    queued_image, queued_layout = _paint_row(delegate, widget, model.index(1, 0))
    assert _reddish_pixels(failed_image, failed_layout.meta) > 30
    assert _reddish_pixels(queued_image, queued_layout.meta) == 0
    # "Not sent" is written beside the time: a wider bubble, not a taller one.
    assert failed_layout.bubble.width() > queued_layout.bubble.width() + 20
    assert failed_layout.bubble.height() == queued_layout.bubble.height()
    tooltip = model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Not sent" in tooltip and "no one with this ID" in tooltip
    assert model.index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole).endswith("(Not sent)")


def test_a_retried_message_gets_its_clock_back_and_a_deleted_one_goes(
    store: ClientStore, history: History, qtbot: QtBot
) -> None:
    history.receive(ANA, "hello", BASE_TS)
    refused = store.queue_outgoing(ANA, False, "refused")
    model = MessageListModel(store)
    model.open(ANA, False)
    store.mark_failed(refused.local_id, "unknown_client", "")
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.refresh_messages([refused.local_id])
    assert rows(model)[1].failure == "unknown_client"

    store.retry_failed(refused.local_id)
    model.refresh_messages([refused.local_id])
    assert rows(model)[1].failure is None

    store.mark_failed(refused.local_id, "unknown_client", "")
    assert store.delete_outgoing(refused.local_id)
    with qtbot.waitSignal(model.rowsRemoved, timeout=1000):
        model.remove_message(ANA, refused.local_id)
    assert texts(model) == ["hello"] and model.total == 1
    model.remove_message(BRUNO, 12345)  # another conversation: ignored
    assert model.total == 1


def test_the_context_menu_of_a_failed_message_offers_retry_and_delete(
    qtbot: QtBot, store: ClientStore, history: History
) -> None:
    history.send(ANA, "delivered fine", BASE_TS)
    refused = store.queue_outgoing(ANA, False, "refused")
    store.mark_failed(refused.local_id, "unknown_client", "")
    model = MessageListModel(store)
    model.open(ANA, False)
    view = ChatView(model)
    qtbot.addWidget(view)

    plain = QMenu(view)
    view.add_failure_actions(plain, model.index(0, 0))
    assert [a.text() for a in plain.actions()] == []

    menu = QMenu(view)
    view.add_failure_actions(menu, model.index(1, 0))
    actions = {a.text(): a for a in menu.actions() if not a.isSeparator()}
    assert list(actions) == ["Retry", "Delete"]
    with qtbot.waitSignal(view.retry_requested, timeout=1000) as retry:
        actions["Retry"].trigger()
    assert retry.args == [refused.local_id]
    with qtbot.waitSignal(view.delete_requested, timeout=1000) as delete:
        actions["Delete"].trigger()
    assert delete.args == [refused.local_id]


def test_clicking_the_red_mark_retries(qtbot: QtBot, store: ClientStore) -> None:
    refused = store.queue_outgoing(ANA, False, "refused")
    store.mark_failed(refused.local_id, "not_a_member", "")
    model = MessageListModel(store)
    model.open(ANA, False)
    view = ChatView(model)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    qtbot.waitExposed(view)
    index = model.index(0, 0)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = view.visualRect(index)
    mark = view.delegate.failure_mark_rect(option, index)
    assert mark is not None
    with qtbot.waitSignal(view.retry_requested, timeout=1000) as retry:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=mark.center().toPoint())
    assert retry.args == [refused.local_id]
    with qtbot.assertNotEmitted(view.retry_requested):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


# --- group receipts ----------------------------------------------------------------------------


def test_hovering_the_ticks_of_a_group_message_tells_how_far_it_got(
    qtbot: QtBot, store: ClientStore, history: History
) -> None:
    members = [protocol.Member(client_id=c, display_name=c) for c in (ME, ANA, BRUNO, JOAO)]
    store.save_group(protocol.GroupInfo(GROUP, "Hike", members, ME, BASE_TS))
    history.receive(ANA, "who's in?", BASE_TS, group=GROUP)
    history.send(GROUP, "me!", BASE_TS + 1000, is_group=True)
    mine = store.messages_page(GROUP, None, 10)[-1]
    assert mine.seq is not None
    store.apply_receipts(
        [
            protocol.Receipts(
                9,
                [
                    protocol.Receipt(ANA, delivered=mine.seq, read=mine.seq, group=GROUP),
                    protocol.Receipt(BRUNO, delivered=mine.seq, read=0, group=GROUP),
                ],
            )
        ],
        me=ME,
    )
    model = MessageListModel(store, own_id=ME)
    model.open(GROUP, True)
    assert model.index(0, 0).data(MessageRole.RECEIPTS) is None  # not ours
    assert model.index(1, 0).data(MessageRole.RECEIPTS) == GroupReceipts(2, 1, 3)
    assert receipts_text(GroupReceipts(2, 1, 3)) == "Delivered to 2 of 3\nRead by 1 of 3"

    view = ChatView(model)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    qtbot.waitExposed(view)
    index = model.index(1, 0)
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.rect = view.visualRect(index)
    ticks = view.delegate.meta_rect(option, index)
    assert ticks is not None

    def hover(pos: QPoint) -> str:
        QToolTip.hideText()
        event = QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
        QApplication.sendEvent(view.viewport(), event)
        return QToolTip.text() if QToolTip.isVisible() else ""

    tip = hover(ticks.center().toPoint())
    assert tip.endswith("Delivered to 2 of 3\nRead by 1 of 3")
    elsewhere = hover(QPoint(int(ticks.left()) - 60, int(ticks.center().y())))
    assert "of 3" not in elsewhere  # the bubble's text: only the time
    QToolTip.hideText()


def test_many_unread_open_at_the_first_of_them_loading_one_page(
    store: ClientStore, history: History
) -> None:
    """900 unread of 5,000: the window is the page where "900 new messages" goes, not
    the 900 rows down to the newest (laying those out froze the window)."""
    history.receive_many(ANA, 5000, BASE_TS, read=False)
    store.set_read_marker(ANA, 4100)  # seqs 1..5000: "message 0".."message 4999"
    model = MessageListModel(store, page_size=100)
    model.open(ANA, False)
    assert model.rowCount() <= 101
    marker = model.unread_marker
    assert marker is not None and marker[1] == 900
    row = model.row_of(marker[0])
    assert row is not None and texts(model)[row] == "message 4100"
    assert not model.at_end and model.can_fetch_older()
    model.fetchMore(QModelIndex())  # scrolling down reads on
    assert texts(model)[-1] == f"message {4100 + model.rowCount() - row - 1}"
