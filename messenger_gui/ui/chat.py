"""The chat: a lazily paged message model, the bubble delegate and the chat view.

:class:`MessageListModel` shows a contiguous window of one conversation of a
:class:`~messenger_gui.storage.ClientStore`: it opens on the newest page (or around the first
unread message), grows upwards when the view asks for older history
(:meth:`MessageListModel.fetch_older`) and downwards through Qt's ``canFetchMore``/``fetchMore``
when it was opened in the middle (a search hit). A 100,000-message conversation therefore
opens by reading a hundred rows, and the view only ever lays out what was loaded.

:class:`BubbleDelegate` paints each row: an optional header (day separator, "N new messages"),
then the bubble with the sender's name (incoming group messages), the wrapped text with links,
the time and, for one's own messages, the delivery ticks, or a red "Not sent" mark when the
server refused the message for good. Sizes are cached per message and width. Hovering the
time and ticks of one's own group message shows how far it got, as Telegram Desktop does
("Delivered to 2 of 3", "Read by 1 of 3"), from the members' markers in the store.
Double-clicking a bubble opens a read-only text browser over it, so part of a message
can be selected.

:class:`ChatView` scrolls per pixel, sticks to the bottom when new messages arrive, keeps its
position when older history is prepended, and copies text (context menu, Ctrl+C). For a
message that was not sent it offers "Retry" (also a click on the red mark) and "Delete",
as the signals :attr:`ChatView.retry_requested` and :attr:`ChatView.delete_requested`: the
controller calls the client core, never the view.
"""

from __future__ import annotations

import asyncio
import bisect
import html
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Any, Final, NamedTuple

import msgspec
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QUrl,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDesktopServices,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolButton,
    QToolTip,
    QWidget,
)

from messenger_gui.storage import (
    GroupReceipts,
    HistoryReader,
    MessageStatus,
    StoredMessage,
    is_system_line,
)
from messenger_gui.storage.files import StoredFile, caption_of
from messenger_gui.ui import attachments
from messenger_gui.ui.avatars import paint_avatar
from messenger_gui.ui.dialogs.errors import describe_code
from messenger_gui.ui.formatting import (
    bidi_safe,
    clock_time,
    day_label,
    full_time,
    isolate,
    local_date,
    plain_tooltip,
    system_text,
)
from messenger_gui.ui.resources import icon
from messenger_gui.ui.theme import Colours, colours, name_colour
from messenger_gui.ui.ticks import TICK_WIDTH, failed_colour, paint_failed, paint_ticks

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex

PAGE_SIZE: Final = 100
"""Messages read from the history per page."""
MAX_ROWS: Final = 600
"""The most rows a chat keeps loaded (six pages): bounds its memory and the view's layout."""
LAYOUT_CACHE: Final = 250
"""Bubble layouts kept (a screen needs a few dozen; sizes are kept longer, see
``BubbleDelegate._sizes``)."""
FOLLOW_PAGES: Final = 2
"""While the view follows the newest message, the window keeps this many pages (older ones
are read again, ahead, if the user scrolls up): every row added lays the window out again."""
_UNREAD_SEARCH_LIMIT: Final = 1000
"""How far back opening a chat looks for the first unread message; with more unread than
that, the chat opens at the newest message without the "N new messages" marker."""
QUICK_REACTIONS: Final = ("👍", "❤️", "😂", "😮", "😢", "🙏")
"""The reactions offered first (protocol section 12.6); any other through "Other emoji…"."""
_QUEUED_KEY: Final = 2**63 - 1
_RUN_GAP_MS: Final = 5 * 60 * 1000
"""Messages of one sender closer than this form a run (tighter spacing, one name)."""


def failure_reason(code: str) -> str:
    """One translated sentence saying why the server refused a message (``code``)."""
    described = describe_code(code)
    if described is not None:
        return described
    return QCoreApplication.translate("Errors", "Something went wrong: %1").replace("%1", code)


URL_PATTERN: Final = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", re.I)


def receipts_text(receipts: GroupReceipts) -> str:
    """ "Delivered to k of n" and "Read by k of n" (translated), one per line."""
    members = str(receipts.members)
    delivered = QCoreApplication.translate("ChatView", "Delivered to %1 of %2")
    read = QCoreApplication.translate("ChatView", "Read by %1 of %2")
    return "\n".join(
        (
            delivered.replace("%1", str(receipts.delivered)).replace("%2", members),
            read.replace("%1", str(receipts.read)).replace("%2", members),
        )
    )


def _order_key(message: StoredMessage) -> tuple[int, int]:
    """The store's display order: by ``seq``, queued messages last, ties by ``local_id``."""
    return (_QUEUED_KEY if message.seq is None else message.seq, message.local_id)


def url_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, url)`` of every link in ``text``; ``www.`` links get ``https://``."""
    spans = []
    for match in URL_PATTERN.finditer(text):
        url = match.group(0)
        if url.lower().startswith("www."):
            url = "https://" + url
        spans.append((match.start(), match.end(), url))
    return spans


class MessageRole(IntEnum):
    """Data roles of :class:`MessageListModel` (``DisplayRole`` is the text)."""

    MESSAGE = Qt.ItemDataRole.UserRole + 1
    """The :class:`StoredMessage`."""
    DAY_BREAK = Qt.ItemDataRole.UserRole + 2
    """True when a day separator is drawn above this row."""
    UNREAD_MARKER = Qt.ItemDataRole.UserRole + 3
    """N > 0 when the "N new messages" marker is drawn above this row."""
    FIRST_IN_RUN = Qt.ItemDataRole.UserRole + 4
    """True when this row starts a run of one sender (wider gap, sender name)."""
    HIGHLIGHTED = Qt.ItemDataRole.UserRole + 5
    """How strongly the row is flashed (a search hit): 1.0 at first, fading to 0.0."""
    LOCAL_ID = Qt.ItemDataRole.UserRole + 6
    LAST_IN_RUN = Qt.ItemDataRole.UserRole + 7
    """True when this row ends a run (the bubble gets a tail, group senders an avatar)."""
    SHAPE = Qt.ItemDataRole.UserRole + 9
    """A :class:`RowShape`: the neighbour-dependent parts of the row, in one call (the
    delegate asks for them for every row at every layout)."""
    RECEIPTS = Qt.ItemDataRole.UserRole + 8
    """For one's own sent group message, a :class:`GroupReceipts` (read from the store
    when asked, so always current); ``None`` otherwise."""
    FILES = Qt.ItemDataRole.UserRole + 20
    """issue 10: the message's files (a list of ``StoredFile``, empty for a text)."""


class RowShape(NamedTuple):
    """What a row's look depends on besides its message (see :attr:`MessageRole.SHAPE`)."""

    day_break: bool
    unread_marker: int
    first_in_run: bool
    last_in_run: bool


class MessageListModel(QAbstractListModel):
    """A window of one conversation's messages, read lazily from the history.

    The model holds no database handle of its own: it calls the reader it was given, one
    page at a time, and keeps at most :data:`MAX_ROWS` rows, so that its memory and the
    view's layout stay bounded however far the user scrolls or however much arrives.
    ``rowCount`` is the number of loaded rows, :attr:`total` the number of messages in the
    conversation. Older pages can be read ahead off the GUI thread
    (:meth:`prefetch_older`), so paging back does not wait for the disk.

    Args:
        reader: the profile's history (:class:`~messenger_gui.storage.HistoryReader`).
        parent: Qt parent.
        page_size: messages per page (tests use small pages).
        own_id: this client's ID, which is not counted among a group's recipients
            (:attr:`MessageRole.RECEIPTS`); ``None`` gives no group receipts.
        max_rows: the most rows kept loaded (:data:`MAX_ROWS`).
    """

    older_loaded = Signal(int)
    """Rows were prepended by :meth:`fetch_older` (their number)."""
    older_prefetched = Signal()
    """The page above the window was read ahead (:meth:`prefetch_older`)."""

    def __init__(
        self,
        reader: HistoryReader,
        parent: QObject | None = None,
        *,
        page_size: int = PAGE_SIZE,
        own_id: str | None = None,
        max_rows: int = MAX_ROWS,
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._own_id = own_id
        self._page_size = page_size
        self._max_rows = max(max_rows, 2 * page_size)
        self._follow_rows = min(self._max_rows, FOLLOW_PAGES * page_size)
        self._conversation: str | None = None
        self._is_group = False
        self._rows: list[StoredMessage] = []
        self._keys: list[tuple[int, int]] = []
        self._key_of: dict[int, tuple[int, int]] = {}
        """``local_id`` → order key of every loaded row: finds a row by bisection."""
        self._before: StoredMessage | None = None
        """The message just above the window (for the first row's day separator)."""
        self._at_start = True
        self._at_end = True
        self._total = 0
        self._pages_read = 0
        self._marker_local_id: int | None = None
        self._marker_count = 0
        self._highlight: int | None = None
        self._highlight_level = 0.0
        self._prefetch: tuple[int, asyncio.Future[list[StoredMessage]]] | None = None
        """``(anchor local_id, future page)`` of the page above the window, read ahead."""
        self._files: dict[int, list[StoredFile]] = {}
        """issue 10: the files of loaded rows, read when first painted."""
        self.file_progress: dict[tuple[int, int], tuple[int, int]] = {}
        """issue 10: ``(local_id, position)`` → ``(done, total)`` of transfers under way
        (the controller keeps it current and calls :meth:`refresh_messages`)."""

    # --- state ---

    @property
    def conversation(self) -> str | None:
        return self._conversation

    @property
    def is_group(self) -> bool:
        return self._is_group

    @property
    def total(self) -> int:
        """Messages in the conversation (loaded or not)."""
        return self._total

    @property
    def pages_read(self) -> int:
        """Pages read from the history on this thread since the conversation was opened
        (for tests; a page read ahead on the reader thread is not counted)."""
        return self._pages_read

    @property
    def at_start(self) -> bool:
        """Whether the oldest message is loaded."""
        return self._at_start

    @property
    def at_end(self) -> bool:
        """Whether the newest message is loaded (new messages are appended only then)."""
        return self._at_end

    @property
    def unread_marker(self) -> tuple[int, int] | None:
        """``(local_id, count)`` of the "N new messages" marker, or ``None``."""
        if self._marker_local_id is None:
            return None
        return self._marker_local_id, self._marker_count

    @property
    def highlighted(self) -> tuple[int, float] | None:
        """``(local_id, level)`` of the message being flashed (level 1 → 0), or ``None``."""
        if self._highlight is None:
            return None
        return self._highlight, self._highlight_level

    # --- opening ---

    def open(self, conversation: str, is_group: bool) -> None:
        """Show ``conversation``: its newest page or, with unread messages (up to
        ``_UNREAD_SEARCH_LIMIT``), the page where the first of them is, so the "N new
        messages" marker can be placed; a page either way, however far back that is."""
        self.beginResetModel()
        self._reset_state(conversation, is_group)
        self._total = self._reader.message_count(conversation)
        self._load_newest()
        unread = self._reader.unread_count(conversation)
        if 0 < unread <= _UNREAD_SEARCH_LIMIT:
            first = self._reader.first_unread(conversation)
            if first is not None and first.local_id not in self._key_of:
                self._load_around(first.local_id, above=min(10, self._page_size // 2))
            if first is not None and first.local_id in self._key_of:
                self._marker_local_id = first.local_id
                self._marker_count = unread
        self.endResetModel()
        log.debug("opened %s: %d of %d messages loaded", conversation, len(self._rows), self._total)

    def close(self) -> None:
        """Show nothing (no conversation selected)."""
        self.beginResetModel()
        self._reset_state(None, False)
        self.endResetModel()

    def reload(self) -> None:
        """Read the conversation again from the newest page (after an import or a reset)."""
        if self._conversation is not None:
            self.open(self._conversation, self._is_group)

    def _reset_state(self, conversation: str | None, is_group: bool) -> None:
        self._conversation = conversation
        self._is_group = is_group
        self._set_rows([])
        self._before = None
        self._at_start = self._at_end = True
        self._total = 0
        self._pages_read = 0
        self._marker_local_id = None
        self._marker_count = 0
        self._highlight = None
        self._highlight_level = 0.0
        self._prefetch = None
        self._files.clear()

    def _set_rows(self, rows: list[StoredMessage]) -> None:
        self._rows = rows
        self._keys = [_order_key(m) for m in rows]
        self._key_of = dict(zip((m.local_id for m in rows), self._keys, strict=True))

    def _load_newest(self) -> None:
        assert self._conversation is not None
        page = self._reader.messages_page(self._conversation, None, self._page_size + 1)
        self._pages_read += 1
        self._at_end = True
        self._at_start = len(page) <= self._page_size
        self._before = None if self._at_start else page[0]
        self._set_rows(page if self._at_start else page[1:])

    def _read_older(self) -> list[StoredMessage]:
        """The page above the window (the window is not changed; see :meth:`_prepend`):
        the one read ahead when it is there, else read now."""
        assert self._conversation is not None
        if self._at_start or self._before is None:
            return []
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            anchor, future = prefetch
            if anchor == self._before.local_id and future.done() and not future.exception():
                return future.result()
        page = self._reader.messages_page(
            self._conversation, self._before.local_id, self._page_size
        )
        self._pages_read += 1
        return page

    def _prepend(self, page: list[StoredMessage]) -> None:
        assert self._before is not None
        block = [*page, self._before]
        if len(page) < self._page_size:
            self._at_start = True
            self._before = None
        else:
            self._before = block[0]
            block = block[1:]
        self._rows[0:0] = block
        keys = [_order_key(m) for m in block]
        self._keys[0:0] = keys
        self._key_of.update(zip((m.local_id for m in block), keys, strict=True))

    # --- paging ---

    def can_fetch_older(self) -> bool:
        """Whether older messages exist above the loaded window."""
        return self._conversation is not None and not self._at_start

    def older_ready(self) -> bool:
        """Whether the page above the window has been read ahead (prepending it will not
        touch the disk)."""
        prefetch = self._prefetch
        return (
            prefetch is not None
            and self._before is not None
            and prefetch[0] == self._before.local_id
            and prefetch[1].done()
        )

    def prefetch_older(self) -> bool:
        """Start reading the page above the window on the history's reader thread;
        :attr:`older_prefetched` is emitted when it is there, and :meth:`fetch_older` then
        uses it. Returns False when there is nothing to read ahead, it is under way
        already, or no event loop runs (the page is then read when it is needed)."""
        if not self.can_fetch_older() or self._before is None or self._conversation is None:
            return False
        anchor = self._before.local_id
        if self._prefetch is not None and self._prefetch[0] == anchor:
            return False
        conversation, limit = self._conversation, self._page_size

        def page(reader: HistoryReader) -> list[StoredMessage]:
            return reader.messages_page(conversation, anchor, limit)

        try:
            future = self._reader.read(page)
        except RuntimeError:  # no running loop (a model driven synchronously)
            return False
        self._prefetch = (anchor, future)
        future.add_done_callback(lambda done: self._prefetched(anchor, done))
        return True

    def _prefetched(self, anchor: int, future: asyncio.Future[list[StoredMessage]]) -> None:
        if self._prefetch is None or self._prefetch[1] is not future:
            return  # another conversation or window since
        if future.cancelled() or future.exception() is not None:
            log.warning("reading older messages ahead failed", exc_info=future.exception())
            self._prefetch = None
            return
        self.older_prefetched.emit()

    def fetch_older(self) -> int:
        """Prepend the previous page; returns how many rows were added (0 at the start).

        The view keeps its scroll position by offsetting it by the new rows' height. When
        the window would exceed its size, the newest rows are dropped (they are read again
        when the user scrolls back down).
        """
        if not self.can_fetch_older():
            return 0
        page = self._read_older()
        before_len = len(self._rows)
        was_before = self._before
        # Compute the new block without touching rows until beginInsertRows.
        at_start = len(page) < self._page_size
        assert was_before is not None
        block = [*page, was_before] if at_start else [*page[1:], was_before]
        self.beginInsertRows(QModelIndex(), 0, len(block) - 1)
        self._at_start = at_start
        self._before = None if at_start else page[0]
        self._rows[0:0] = block
        keys = [_order_key(m) for m in block]
        self._keys[0:0] = keys
        self._key_of.update(zip((m.local_id for m in block), keys, strict=True))
        self.endInsertRows()
        added = len(self._rows) - before_len
        if added < len(self._rows):
            # The former first row may gain or lose its day separator / run start.
            first_old = self.index(added, 0)
            self.dataChanged.emit(first_old, first_old)
        self._trim_newest()
        self.older_loaded.emit(added)
        return added

    def _trim_newest(self) -> None:
        """Drop the newest rows beyond the window's size (the user is reading far above)."""
        excess = len(self._rows) - self._max_rows
        if excess <= 0:
            return
        first = len(self._rows) - excess
        self._remove_rows(first, len(self._rows) - 1)
        self._at_end = False

    def _trim_oldest(self, keep: int | None = None) -> None:
        """Drop the oldest rows beyond ``keep`` (the window's size by default)."""
        excess = len(self._rows) - (self._max_rows if keep is None else keep)
        if excess <= 0:
            return
        self._before = self._rows[excess - 1]
        self._remove_rows(0, excess - 1)
        self._at_start = False
        self._prefetch = None
        if self._rows:
            first = self.index(0, 0)
            self.dataChanged.emit(first, first)

    def _remove_rows(self, first: int, last: int) -> None:
        self.beginRemoveRows(QModelIndex(), first, last)
        for message in self._rows[first : last + 1]:
            self._key_of.pop(message.local_id, None)
        del self._rows[first : last + 1]
        del self._keys[first : last + 1]
        self.endRemoveRows()

    def canFetchMore(self, parent: _Index) -> bool:
        """Newer messages exist below the window (after a jump, or paging far back)."""
        return not parent.isValid() and self._conversation is not None and not self._at_end

    def fetchMore(self, parent: _Index) -> None:
        """Append the next newer page (dropping the oldest rows beyond the window's size;
        the view keeps what it shows in place)."""
        if not self.canFetchMore(parent) or not self._rows:
            return
        assert self._conversation is not None
        page = self._reader.messages_after(
            self._conversation, self._rows[-1].local_id, self._page_size
        )
        self._pages_read += 1
        if len(page) < self._page_size:
            self._at_end = True
        if page:
            self._append(page)
            self._trim_oldest()

    def _append(self, block: Sequence[StoredMessage]) -> None:
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(block) - 1)
        keys = [_order_key(m) for m in block]
        self._rows.extend(block)
        self._keys.extend(keys)
        self._key_of.update(zip((m.local_id for m in block), keys, strict=True))
        self.endInsertRows()
        if start > 0:  # the former last row may lose its tail (run end)
            previous = self.index(start - 1, 0)
            self.dataChanged.emit(previous, previous)

    def load_around(self, local_id: int) -> int | None:
        """Make sure message ``local_id`` is loaded and return its row (``None`` when it is
        not in this conversation). Loaded windows are kept; otherwise the window is replaced
        by the messages around it (and grows both ways as the user scrolls)."""
        row = self.row_of(local_id)
        if row is not None or self._conversation is None:
            return row
        target = self._reader.message(local_id)
        if target is None or target.conversation != self._conversation:
            return None
        self.beginResetModel()
        marker = (self._marker_local_id, self._marker_count)
        self._load_around(local_id, above=self._page_size // 2)
        self._marker_local_id, self._marker_count = marker
        self.endResetModel()
        return self.row_of(local_id)

    def _load_around(self, local_id: int, *, above: int) -> None:
        """The window becomes ``above`` messages before ``local_id``, it, and the rest of a
        page after it (inside a model reset)."""
        assert self._conversation is not None
        target = self._reader.message(local_id)
        assert target is not None
        before = self._reader.messages_page(self._conversation, local_id, above + 1)
        after = self._reader.messages_after(
            self._conversation, local_id, self._page_size - min(above, len(before)) + 1
        )
        self._pages_read += 1
        self._at_start = len(before) <= above
        self._before = None if self._at_start else before[0]
        self._at_end = len(after) <= self._page_size - min(above, len(before))
        if not self._at_end:
            after = after[:-1]
        self._set_rows([*(before if self._at_start else before[1:]), target, *after])
        self._prefetch = None

    # --- live updates ---

    def add_messages(self, messages: Iterable[StoredMessage], *, follow: bool = True) -> int:
        """Show new messages (received, or queued by this user) of the open conversation.

        Messages of other conversations and ones already shown are ignored. They are
        inserted at their place in display order when the newest messages are loaded;
        otherwise only :attr:`total` grows and they come with the next ``fetchMore``.
        With ``follow`` (the view shows the newest message and keeps doing so) the window
        keeps :data:`FOLLOW_PAGES` pages, the oldest rows dropped, and a flood of a page or
        more replaces it by the newest half page (laid out once); without it, rows are added
        only up to the window's size (the rest is read when the user scrolls down). Returns
        how many rows were inserted.
        """
        fresh = {
            m.local_id: m
            for m in messages
            if m.conversation == self._conversation and m.local_id not in self._key_of
        }
        if not fresh:
            return 0
        self._total += len(fresh)
        if not self._at_end:
            return 0
        new = sorted(fresh.values(), key=_order_key)
        last_key = self._keys[-1] if self._keys else None
        if last_key is None or _order_key(new[0]) > last_key:
            if follow and len(new) >= self._page_size:
                self._show_newest(new)  # a flood: the newest half page, laid out once
                return self.rowCount()
            if not follow:
                room = self._max_rows - len(self._rows)
                if room < len(new):
                    self._at_end = False
                    new = new[: max(0, room)]
                    if not new:
                        return 0
            self._append(new)
            if follow:
                self._trim_oldest(self._follow_rows)
            return len(new)
        inserted = 0
        for message in new:  # in the middle (rare: a message sent meanwhile moved up)
            key = _order_key(message)
            row = bisect.bisect_left(self._keys, key)
            if row == 0 and not self._at_start and self._rows:
                continue  # belongs above the loaded window
            self.beginInsertRows(QModelIndex(), row, row)
            self._rows.insert(row, message)
            self._keys.insert(row, key)
            self._key_of[message.local_id] = key
            self.endInsertRows()
            # Neighbours may gain or lose a run start/end (tail, name, avatar).
            low, high = max(0, row - 1), min(row + 1, len(self._rows) - 1)
            self.dataChanged.emit(self.index(low, 0), self.index(high, 0))
            inserted += 1
        if follow:
            self._trim_oldest(self._follow_rows)
        return inserted

    def _show_newest(self, newest: list[StoredMessage]) -> None:
        """The window becomes the newest half page of ``newest`` (sorted, all newer than what
        was loaded): no reading back from the history."""
        self.beginResetModel()
        size = max(1, self._page_size // 2)
        page = newest[-size:]
        self._before = (
            newest[-size - 1] if len(newest) > size else (self._rows[-1] if self._rows else None)
        )
        self._at_start = self._before is None
        self._set_rows(page)
        self._prefetch = None
        if self._marker_local_id is not None and self._marker_local_id not in self._key_of:
            self._marker_local_id, self._marker_count = None, 0
        self.endResetModel()

    def update_status(self, local_ids: Sequence[int], status: MessageStatus) -> None:
        """Repaint the ticks of the loaded messages among ``local_ids`` (looked up, not
        scanned). An empty ``local_ids`` means "possibly all": the loaded outgoing
        messages are read again from the history."""
        if not self._rows:
            return
        if not local_ids:
            for row, message in enumerate(self._rows):
                if message.direction != "out":
                    continue
                fresh = self._reader.message(message.local_id)
                if fresh is not None and (fresh.status, fresh.failure) != (
                    message.status,
                    message.failure,
                ):
                    self._rows[row] = fresh
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index)
            return
        if len(local_ids) > len(self._rows):  # a login's receipts: many ids, few rows
            wanted = set(local_ids)
            rows = [
                row
                for row, message in enumerate(self._rows)
                if message.local_id in wanted and message.status != status
            ]
        else:
            rows = sorted(
                row
                for row in (self.row_of(local_id) for local_id in local_ids)
                if row is not None and self._rows[row].status != status
            )
        for row in rows:
            self._rows[row] = msgspec.structs.replace(self._rows[row], status=status)
        if rows:
            self.dataChanged.emit(self.index(rows[0], 0), self.index(rows[-1], 0))

    def refresh_messages(self, local_ids: Iterable[int]) -> None:
        """Read loaded messages again from the history and repaint them: one was refused
        (``MessageFailed``: it gets the "Not sent" mark) or retried (the clock again), or
        edited, deleted or reacted to (``MessagesUpdated``: loaded replies quoting it are
        read again too, their quote changes with it)."""
        wanted = set(local_ids)
        quoting = {
            m.local_id for m in self._rows if m.quote is not None and m.quote.local_id in wanted
        }
        for local_id in wanted | quoting:
            row = self.row_of(local_id)
            if row is None:
                continue
            fresh = self._reader.message(local_id)
            self._files.pop(local_id, None)  # issue 10: a file's state may have changed
            if fresh is None:
                self.remove_message(self._rows[row].conversation, local_id)
                continue
            self._rows[row] = fresh
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def files(self, local_id: int) -> list[StoredFile]:
        """issue 10: the files of a loaded message (cached until it is refreshed). A miss
        reads those of every loaded row not cached yet, in one query: a page laid out
        asks for each of its rows in turn, on the GUI thread."""
        found = self._files.get(local_id)
        if found is None:
            if len(self._files) > 2 * MAX_ROWS:  # rows scrolled out of the window
                self._files.clear()
            wanted = {m.local_id for m in self._rows if m.local_id not in self._files}
            wanted.add(local_id)
            loaded = self._reader.files_of(wanted)
            for each in wanted:
                self._files[each] = loaded.get(each, [])
            found = self._files[local_id]
        return found

    def remove_message(self, conversation: str, local_id: int) -> None:
        """An unsent message was deleted (``MessageDeleted``): drop its row, if shown."""
        if conversation != self._conversation:
            return
        self._total = max(0, self._total - 1)
        row = self.row_of(local_id)
        if row is None:
            return
        self._remove_rows(row, row)
        if self._highlight == local_id:
            self._highlight = None
        if self._rows:
            # The neighbours may now start or end a run (tail, name, day separator).
            low, high = max(0, row - 1), min(row, len(self._rows) - 1)
            self.dataChanged.emit(self.index(low, 0), self.index(high, 0))

    def message_sent(self, message: StoredMessage) -> None:
        """A queued message was accepted by the server: it now has a ``seq`` (and maybe a
        new time), so it may move up past queued ones; its clock turns into a tick."""
        if message.conversation != self._conversation:
            return
        old = self.row_of(message.local_id)
        if old is None:
            self.add_messages([message])
            return
        key = _order_key(message)
        new = bisect.bisect_left(self._keys[:old] + self._keys[old + 1 :], key)
        if new == old:
            self._rows[old] = message
            self._keys[old] = key
        else:
            destination = new if new < old else new + 1
            self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), destination)
            self._rows.pop(old)
            self._keys.pop(old)
            self._rows.insert(new, message)
            self._keys.insert(new, key)
            self.endMoveRows()
        self._key_of[message.local_id] = key
        low, high = max(0, min(old, new) - 1), min(max(old, new) + 1, len(self._rows) - 1)
        self.dataChanged.emit(self.index(low, 0), self.index(high, 0))

    def clear_unread_marker(self) -> None:
        """Drop the "N new messages" marker (e.g. once the user sends a reply)."""
        row = None if self._marker_local_id is None else self.row_of(self._marker_local_id)
        self._marker_local_id = None
        self._marker_count = 0
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def set_highlight(self, local_id: int | None, level: float = 1.0) -> None:
        """Flash a message (a search hit) at ``level`` (1 full, fading to 0); ``None``
        clears it."""
        rows = [self.row_of(x) for x in (self._highlight, local_id) if x is not None]
        self._highlight = local_id
        self._highlight_level = level if local_id is not None else 0.0
        for row in rows:
            if row is not None:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)

    # --- lookups ---

    def message(self, row: int) -> StoredMessage | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def shape(self, row: int) -> RowShape:
        """How loaded row ``row`` sits among its neighbours (``MessageRole.SHAPE``)."""
        message = self._rows[row]
        previous = self._previous(row)
        following = self._rows[row + 1] if row + 1 < len(self._rows) else None
        return RowShape(
            previous is None or local_date(previous.ts) != local_date(message.ts),
            self._marker_count if message.local_id == self._marker_local_id else 0,
            self._starts_run(previous, message),
            following is None or self._starts_run(message, following),
        )

    def row_of(self, local_id: int) -> int | None:
        """The loaded row showing message ``local_id``, or ``None``."""
        key = self._key_of.get(local_id)
        if key is None:
            return None
        row = bisect.bisect_left(self._keys, key)
        if row < len(self._rows) and self._rows[row].local_id == local_id:
            return row
        return None

    def newest_incoming_seq(self, first_row: int, last_row: int) -> int | None:
        """The highest ``seq`` of an incoming message in rows ``first_row..last_row``."""
        best: int | None = None
        for row in range(max(0, first_row), min(last_row, len(self._rows) - 1) + 1):
            message = self._rows[row]
            if message.direction == "in" and message.seq is not None:
                best = message.seq if best is None else max(best, message.seq)
        return best

    # --- Qt model ---

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        row = index.row()
        if 0 <= row < len(self._rows) and is_system_line(self._rows[row]):
            # A system line ("Ana renamed the group…") is not a message: nothing to select,
            # reply to, react to, forward or delete (it shares the seq of the message
            # before it), so no menu either.
            return Qt.ItemFlag.ItemIsEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if 0 <= row < len(self._rows) and self._rows[row].deleted is None:
            # "Editable" only so a double-click opens the read-only selectable text browser.
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        return False

    def _starts_run(self, previous: StoredMessage | None, message: StoredMessage) -> bool:
        """Whether ``message`` starts a new run after ``previous``: another sender or
        direction, a pause, a new day, or the "new messages" marker between them."""
        return (
            previous is None
            or previous.direction != message.direction
            or previous.sender != message.sender
            or message.ts - previous.ts > _RUN_GAP_MS
            or local_date(previous.ts) != local_date(message.ts)
            or message.local_id == self._marker_local_id
        )

    def _previous(self, row: int) -> StoredMessage | None:
        return self._rows[row - 1] if row > 0 else self._before

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = index.row()
        message = self._rows[row]
        if role == MessageRole.MESSAGE:
            return message
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return system_text(message.text) if is_system_line(message) else message.text
        if role == MessageRole.LOCAL_ID:
            return message.local_id
        if role == MessageRole.FILES:
            return self.files(message.local_id)
        if role == MessageRole.SHAPE:
            return self.shape(row)
        if role == MessageRole.DAY_BREAK:
            previous = self._previous(row)
            return previous is None or local_date(previous.ts) != local_date(message.ts)
        if role == MessageRole.UNREAD_MARKER:
            return self._marker_count if message.local_id == self._marker_local_id else 0
        if role == MessageRole.FIRST_IN_RUN:
            return self._starts_run(self._previous(row), message)
        if role == MessageRole.LAST_IN_RUN:
            following = self._rows[row + 1] if row + 1 < len(self._rows) else None
            return following is None or self._starts_run(message, following)
        if role == MessageRole.HIGHLIGHTED:
            return self._highlight_level if message.local_id == self._highlight else 0.0
        if role == MessageRole.RECEIPTS:
            if (
                self._own_id is None
                or not message.is_group
                or message.direction != "out"
                or message.seq is None
            ):
                return None
            return self._reader.group_receipts(message.conversation, message.seq, me=self._own_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            if message.failure is not None:
                return "\n".join(
                    (
                        full_time(message.ts),
                        QCoreApplication.translate("ChatView", "Not sent: %1").replace(
                            "%1", failure_reason(message.failure)
                        ),
                        QCoreApplication.translate(
                            "ChatView", "Click the red mark to retry, or right-click to delete."
                        ),
                    )
                )
            return full_time(message.ts)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if is_system_line(message):
                return system_text(message.text)
            sender = (
                QCoreApplication.translate("ChatView", "You")
                if message.direction == "out"
                else (message.sender_name or message.sender or "")
            )
            body = message.text
            if message.deleted is not None:
                body = QCoreApplication.translate("BubbleDelegate", "Message deleted")
            elif message.edited:
                body += " (" + QCoreApplication.translate("BubbleDelegate", "edited") + ")"
            text = f"{sender}, {clock_time(message.ts)}: {body}"
            if message.failure is not None:
                text += " (" + QCoreApplication.translate("ChatView", "Not sent") + ")"
            return text
        return None


# --- painting --------------------------------------------------------------------------------

PREFETCH_SCREENS: Final = 3
"""The older page is read ahead when the top of what is loaded is this many screens away."""
HIGHLIGHT_MS: Final = 2000
"""How long a message jumped to (a search hit) is flashed, fading out at the end."""
HIGHLIGHT_HOLD: Final = 0.35
"""Part of :data:`HIGHLIGHT_MS` the flash stays at full strength before it fades."""
MARGIN_X: Final = 16
"""Space between the view's edge and a bubble."""
PAD_X: Final = 11
PAD_Y: Final = 6
RADIUS: Final = 14
GAP_IN_RUN: Final = 2
GAP_NEW_RUN: Final = 8
DAY_HEADER: Final = 40
MARKER_HEADER: Final = 36
MAX_BUBBLE: Final = 560
GROUP_AVATAR: Final = 34
"""Avatar beside the last bubble of a group member's run."""
AVATAR_SPACE: Final = GROUP_AVATAR + 8
TAIL: Final = 7
"""How far a bubble's tail reaches out of the bubble."""
META_GAP: Final = 10
BOTTOM_GAP: Final = 8
"""Space between the newest bubble and the composer."""


@dataclass(slots=True)
class BubbleLayout:
    """Where everything of one row goes, relative to the row's top-left corner."""

    size: QSize
    header_height: float
    bubble: QRectF
    name_pos: QPointF | None
    text_pos: QPointF
    text: QTextLayout
    links: list[tuple[int, int, str]]
    meta: QRectF
    """Time (and ticks) box inside the bubble, bottom right."""
    forwarded_pos: QPointF | None = None
    """Where "Forwarded from ..." is drawn (its baseline's left end), if forwarded."""
    quote: QRectF | None = None
    """The quoted message's box (a reply); a click there jumps to it."""
    chips: list[ReactionChip] | None = None
    """The reactions under the text."""
    files_pos: QPointF | None = None
    """issue 10: the top-left corner of the files' block, when the message has files."""
    files_limit: float = 0.0


@dataclass(slots=True, frozen=True)
class ReactionChip:
    """One emoji's reactions to a message: where its chip is (row coordinates), how many,
    who (display names, for the tooltip), and whether ours is among them."""

    rect: QRectF
    emoji: str
    count: int
    names: tuple[str, ...]
    mine: bool


def reaction_chips(
    message: StoredMessage, own_id: str | None
) -> list[tuple[str, int, tuple[str, ...], bool]]:
    """``(emoji, count, names, mine)`` per distinct emoji, in the order first used."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for reaction in message.reactions:
        grouped.setdefault(reaction.emoji, []).append((reaction.member, reaction.name))
    return [
        (
            emoji,
            len(who),
            tuple(name for _, name in who),
            own_id is not None and any(member == own_id for member, _ in who),
        )
        for emoji, who in grouped.items()
    ]


def _text_width_limit(row_width: int) -> int:
    bubble = min(MAX_BUBBLE, int((row_width - 2 * MARGIN_X) * 0.78))
    return max(80, bubble - 2 * PAD_X)


def _shown_text(message: StoredMessage) -> str:
    """A message's text, or what a system line says."""
    return system_text(message.text) if is_system_line(message) else message.text


def mention_spans(text: str, names: Sequence[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of every ``@Name`` in ``text`` for the given display names (the
    longest name wins where several start at the same ``@``)."""
    spans: list[tuple[int, int]] = []
    at = text.find("@")
    while at >= 0:
        for name in names:
            if name and text.startswith(name, at + 1):
                spans.append((at, at + 1 + len(name)))
                break
        at = text.find("@", at + 1)
    return spans


class BubbleDelegate(QStyledItemDelegate):
    """Paints message rows for :class:`MessageListModel`; see the module docstring.

    Args:
        parent: normally the :class:`ChatView` (its viewport width sets the bubble width).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.today: date | None = None
        """Pin "today" for tests and screenshots; ``None`` uses the real date."""
        self.fallback_width = 640
        """Row width when the delegate is used without a view (tests)."""
        self.own_id: str | None = None
        """This client's ID: its reaction chips are marked (a click takes them back)."""
        self._layouts: OrderedDict[tuple[Any, ...], BubbleLayout] = OrderedDict()
        self._sizes: OrderedDict[tuple[Any, ...], QSize] = OrderedDict()
        """Row sizes by layout key, kept longer than the layouts (they are small), but not
        for ever: a catch-up lays out 100,000 rows one after the other."""
        self._font_cache: dict[str, tuple[QFont, QFont, QFont]] = {}
        self._mention_names: tuple[str, ...] = ()

    def set_mention_names(self, names: Sequence[str]) -> None:
        """The display names an ``@Name`` may mention in the open group (empty outside
        groups): such mentions are highlighted in the bubbles."""
        wanted = tuple(sorted(set(names), key=len, reverse=True))  # longest first
        if wanted != self._mention_names:
            self._mention_names = wanted
            self._layouts.clear()

    def clear_caches(self) -> None:
        """Forget cached layouts and sizes (after a font or theme change)."""
        self._layouts.clear()
        self._sizes.clear()
        self._font_cache.clear()

    # --- geometry ---

    def _row_width(self, option: QStyleOptionViewItem) -> int:
        view = self.parent()
        if isinstance(view, QAbstractItemView):
            return view.viewport().width()
        width = option.rect.width()
        return width if width > 0 else self.fallback_width

    def _fonts(self, base: QFont) -> tuple[QFont, QFont, QFont]:
        """The text, small (time) and name fonts for ``base`` (made once per font)."""
        key = base.key()
        fonts = self._font_cache.get(key)
        if fonts is None:
            fonts = self._font_cache[key] = self._make_fonts(base)
        return fonts

    @staticmethod
    def _make_fonts(base: QFont) -> tuple[QFont, QFont, QFont]:
        text = QFont(base)
        text.setPointSizeF(base.pointSizeF() * 1.02)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.8)
        name = QFont(base)
        name.setPointSizeF(base.pointSizeF() * 0.92)
        name.setBold(True)
        return text, small, name

    def _key(self, option: QStyleOptionViewItem, index: _Index) -> tuple[Any, ...] | None:
        model = index.model()
        if isinstance(model, MessageListModel):
            # Asked for every row at each layout pass: read the model directly rather than
            # through three QModelIndex.data() calls (their binding cost most of the key).
            message = model.message(index.row())
            if message is None:
                return None
            shape = model.shape(index.row())
            files = model.files(message.local_id)
        else:
            message = index.data(MessageRole.MESSAGE)
            if not isinstance(message, StoredMessage):
                return None
            shape = index.data(MessageRole.SHAPE)
            files = index.data(MessageRole.FILES) or []
        indent = AVATAR_SPACE if message.is_group and message.direction == "in" else 0
        limit = _text_width_limit(self._row_width(option) - indent)
        dark = colours(option.palette).dark
        font: QFont = option.font
        return (
            message.local_id,
            message.text if len(message.text) < 64 else hash(message.text),
            message.ts // 60000,
            message.direction,
            message.failure is not None,
            message.edited,
            message.deleted,
            message.reactions,
            message.quote,
            message.forwarded_name,
            limit,
            *shape[:3],
            dark,
            font.key(),
            tuple((f.state, f.path) for f in files),  # issue 10
        )

    def layout(self, option: QStyleOptionViewItem, index: _Index) -> BubbleLayout | None:
        """The row's layout (cached); ``None`` for an invalid index."""
        key = self._key(option, index)
        if key is None:
            return None
        cached = self._layouts.get(key)
        if cached is not None:
            self._layouts.move_to_end(key)
            return cached
        message: StoredMessage = index.data(MessageRole.MESSAGE)
        built = self._build(option, index, message)
        self._layouts[key] = built
        if len(self._layouts) > LAYOUT_CACHE:
            self._layouts.popitem(last=False)
        self._sizes[key] = built.size
        if len(self._sizes) > 4 * MAX_ROWS:
            self._sizes.popitem(last=False)
        return built

    def _build(
        self, option: QStyleOptionViewItem, index: _Index, message: StoredMessage
    ) -> BubbleLayout:
        c = colours(option.palette)
        text_font, small_font, name_font = self._fonts(option.font)
        row_width = self._row_width(option)
        out = message.direction == "out"
        indent = AVATAR_SPACE if message.is_group and not out else 0
        limit = _text_width_limit(row_width - indent)
        shape: RowShape = index.data(MessageRole.SHAPE)
        first_in_run = shape.first_in_run
        header = 0.0
        if shape.day_break:
            header += DAY_HEADER
        if shape.unread_marker:
            header += MARKER_HEADER
        top_gap = GAP_NEW_RUN if first_in_run and not header else GAP_IN_RUN
        if header:
            top_gap = 4
        if is_system_line(message):
            return self._build_system(message, small_font, row_width, header)

        deleted = message.deleted is not None
        files: list[StoredFile] = [] if deleted else (index.data(MessageRole.FILES) or [])
        caption = caption_of(message.text, [f.name for f in files]) if files else message.text
        shown_text = self.deleted_text(message) if deleted else caption  # issue 10: caption
        links = [] if deleted else url_spans(caption)
        # Its bidi controls made harmless; the link spans stay valid (one for one).
        layout = QTextLayout(bidi_safe(shown_text), text_font)
        if deleted:
            italic = QTextCharFormat()
            italic.setFontItalic(True)
            italic.setForeground(c.meta_out if out else c.meta_in)
            span = QTextLayout.FormatRange()
            span.start, span.length, span.format = 0, len(shown_text), italic
            layout.setFormats([span])
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(text_option)
        mentions = mention_spans(message.text, self._mention_names) if message.is_group else []
        if links or mentions:
            formats = []
            for start, end, _url in links:
                fmt = QTextCharFormat()
                fmt.setForeground(c.link_out if out else c.link_in)
                fmt.setFontUnderline(True)
                span = QTextLayout.FormatRange()
                span.start, span.length, span.format = start, end - start, fmt
                formats.append(span)
            for start, end in mentions:
                fmt = QTextCharFormat()
                fmt.setForeground(c.link_out if out else c.link_in)
                fmt.setFontWeight(QFont.Weight.DemiBold)
                span = QTextLayout.FormatRange()
                span.start, span.length, span.format = start, end - start, fmt
                formats.append(span)
            layout.setFormats(formats)
        layout.setCacheEnabled(True)
        layout.beginLayout()
        height = 0.0
        widest = 0.0
        last_width = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(limit)
            line.setPosition(QPointF(0, height))
            height += line.height()
            last_width = line.naturalTextWidth()
            widest = max(widest, last_width)
        layout.endLayout()

        fm_small = QFontMetricsF(small_font)
        meta_w = fm_small.horizontalAdvance(self._meta_text(message)) + (
            TICK_WIDTH + 4 if out else 0
        )
        meta_h = fm_small.height()
        show_name = message.is_group and not out and first_in_run
        name_h = 0.0
        name_w = 0.0
        if show_name:
            fm_name = QFontMetricsF(name_font)
            name_h = fm_name.height() + 1
            name_w = min(fm_name.horizontalAdvance(isolate(self._sender_label(message))), limit)

        # Above the text: "Forwarded from ..." and the quoted message of a reply.
        forwarded_h = forwarded_w = 0.0
        if message.forwarded_name is not None and not deleted:
            forwarded_h = fm_small.height() + 2
            forwarded_w = min(fm_small.horizontalAdvance(self.forwarded_text(message)), limit)
        quote_h = quote_w = 0.0
        if message.quote is not None and not deleted:
            name_label, quoted = self.quote_texts(message)
            quote_h = 2 * fm_small.height() + 10
            bold_small = QFont(small_font)
            bold_small.setBold(True)
            quote_w = min(
                limit,
                max(
                    QFontMetricsF(bold_small).horizontalAdvance(name_label),
                    fm_small.horizontalAdvance(quoted),
                )
                + 18,
            )
        above = forwarded_h + (quote_h + 6 if quote_h else 0.0)
        # issue 10: the files (images, cards) between the quote and the caption.
        block = attachments.attachments_size(files, limit) if files else QSize(0, 0)
        files_top = above
        above += block.height() + 4 if files else 0.0

        # Below the text: the reaction chips, wrapped; the time goes on their last row
        # when it fits.
        chip_specs = [] if deleted else reaction_chips(message, self.own_id)
        chip_h = fm_small.height() + 8
        chip_places: list[tuple[float, float, float]] = []  # x, y (from chips' top), width
        chips_w = chips_h = last_row_w = 0.0
        x = y = 0.0
        for emoji, count, _names, _mine in chip_specs:
            w = fm_small.horizontalAdvance(f"{emoji} {count}") + 16
            if x > 0 and x + w > limit:
                x, y = 0.0, y + chip_h + 4
            chip_places.append((x, y, w))
            x += w + 4
            chips_w = max(chips_w, x - 4)
            last_row_w = x - 4
        if chip_places:
            chips_h = y + chip_h

        if chip_places:
            if last_row_w + META_GAP + meta_w <= limit:
                content_w = max(widest, last_row_w + META_GAP + meta_w, chips_w, name_w)
                content_h = height + 4 + chips_h
            else:
                content_w = max(widest, chips_w, meta_w, name_w)
                content_h = height + 4 + chips_h + meta_h
        elif last_width + META_GAP + meta_w <= limit:
            content_w = max(widest, last_width + META_GAP + meta_w, name_w)
            content_h = max(height, meta_h)
        else:
            content_w = max(widest, meta_w, name_w)
            content_h = height + meta_h
        content_w = max(content_w, forwarded_w, quote_w, block.width())
        bubble_w = content_w + 2 * PAD_X
        bubble_h = name_h + above + content_h + 2 * PAD_Y
        bubble_x = row_width - MARGIN_X - bubble_w if out else MARGIN_X + indent
        bubble_y = header + top_gap
        bubble = QRectF(bubble_x, bubble_y, bubble_w, bubble_h)
        name_pos = QPointF(bubble_x + PAD_X, bubble_y + PAD_Y) if show_name else None
        top = bubble_y + PAD_Y + name_h
        forwarded_pos = QPointF(bubble_x + PAD_X, top) if forwarded_h else None
        quote = (
            QRectF(bubble_x + PAD_X, top + forwarded_h + 2, content_w, quote_h) if quote_h else None
        )
        text_pos = QPointF(bubble_x + PAD_X, top + above)
        files_pos = QPointF(bubble_x + PAD_X, top + files_top) if files else None
        meta = QRectF(
            bubble.right() - PAD_X - meta_w, bubble.bottom() - PAD_Y - meta_h + 1, meta_w, meta_h
        )
        chips = None
        if chip_places:
            chips_top = text_pos.y() + height + 4
            chips = [
                ReactionChip(
                    QRectF(text_pos.x() + cx, chips_top + cy, cw, chip_h), emoji, count, names, mine
                )
                for (cx, cy, cw), (emoji, count, names, mine) in zip(
                    chip_places, chip_specs, strict=True
                )
            ]
        size = QSize(row_width, int(bubble.bottom() + 0.999))
        return BubbleLayout(
            size,
            header,
            bubble,
            name_pos,
            text_pos,
            layout,
            links,
            meta,
            forwarded_pos,
            quote,
            chips,
            files_pos=files_pos,
            files_limit=limit,
        )

    def deleted_text(self, message: StoredMessage) -> str:
        """The placeholder of a deleted message."""
        if message.deleted == "me":
            return self.tr("You deleted this message")
        return self.tr("Message deleted")  # by its author, or by a group admin

    def forwarded_text(self, message: StoredMessage) -> str:
        return self.tr("Forwarded from %1").replace("%1", bidi_safe(message.forwarded_name or ""))

    def quote_texts(self, message: StoredMessage) -> tuple[str, str]:
        """The quoted sender and one line of the quoted text (or why there is none)."""
        quote = message.quote
        assert quote is not None
        if quote.outgoing:
            name = QCoreApplication.translate("ChatView", "You")
        else:
            name = bidi_safe(quote.sender_name or quote.sender)
        if quote.deleted:
            text = self.tr("Deleted message")
        elif quote.local_id is None or quote.text is None:
            text = self.tr("Message not available")
        else:
            text = " ".join(quote.text.split())[:200]
        return name, text

    @staticmethod
    def _build_system(
        message: StoredMessage, font: QFont, row_width: int, header: float
    ) -> BubbleLayout:
        """A system line ("Ana renamed the group to …"): a centred pill, like a day."""
        layout = QTextLayout(system_text(message.text), font)
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        text_option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.setTextOption(text_option)
        limit = max(80, row_width - 2 * MARGIN_X - 40)
        layout.beginLayout()
        height = widest = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(limit)
            line.setPosition(QPointF(0, height))
            height += line.height()
            widest = max(widest, line.naturalTextWidth())
        layout.endLayout()
        pill_w, pill_h = widest + 22, height + 8
        pill = QRectF((row_width - pill_w) / 2, header + GAP_NEW_RUN, pill_w, pill_h)
        text_pos = QPointF(pill.left() + 11 - (limit - widest) / 2, pill.top() + 4)
        size = QSize(row_width, int(pill.bottom() + 4.999))
        return BubbleLayout(size, header, pill, None, text_pos, layout, [], QRectF())

    def _paint_system(self, painter: QPainter, c: Colours, built: BubbleLayout) -> None:
        path = QPainterPath()
        radius = min(built.bubble.height() / 2, 12)
        path.addRoundedRect(built.bubble, radius, radius)
        painter.fillPath(path, c.separator)
        painter.setPen(c.separator_text)
        built.text.draw(painter, built.text_pos)

    @staticmethod
    def _sender_label(message: StoredMessage) -> str:
        return message.sender_name or message.sender or ""

    def _meta_text(self, message: StoredMessage) -> str:
        """The time, after "Not sent" for a message the server refused, or "edited"."""
        if message.failure is None:
            if message.edited and message.deleted is None:
                return self.tr("edited") + " " + clock_time(message.ts)
            return clock_time(message.ts)
        return self.tr("Not sent") + " · " + clock_time(message.ts)

    def failure_mark_rect(self, option: QStyleOptionViewItem, index: _Index) -> QRectF | None:
        """Where the red "Not sent" mark and words are, in view coordinates (``option.rect``
        is the row), or ``None`` when the row shows no failed message. A click there
        retries."""
        message = index.data(MessageRole.MESSAGE)
        if not isinstance(message, StoredMessage) or message.failure is None:
            return None
        built = self.layout(option, index)
        if built is None:
            return None
        return built.meta.adjusted(-4, -4, 4, 4).translated(QPointF(option.rect.topLeft()))

    def meta_rect(self, option: QStyleOptionViewItem, index: _Index) -> QRectF | None:
        """Where the time (and ticks) are, in view coordinates (``option.rect`` is the row),
        a little enlarged for the mouse; ``None`` for an invalid index."""
        built = self.layout(option, index)
        if built is None:
            return None
        return built.meta.adjusted(-4, -4, 4, 4).translated(QPointF(option.rect.topLeft()))

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: _Index,
    ) -> bool:
        """The tooltip. Over the time and ticks of one's own group message it says how
        many members have it and have read it; elsewhere, the message's date and time."""
        if event.type() == QEvent.Type.ToolTip:
            chip = self.chip_at(option, index, event.pos())
            if chip is not None:
                names = "\n".join(bidi_safe(name) for name in chip.names)
                QToolTip.showText(event.globalPos(), plain_tooltip(names), view)
                return True
            receipts = index.data(MessageRole.RECEIPTS)
            area = self.meta_rect(option, index)
            if (
                isinstance(receipts, GroupReceipts)
                and receipts.members
                and area is not None
                and area.contains(QPointF(event.pos()))
            ):
                message: StoredMessage = index.data(MessageRole.MESSAGE)
                text = f"{full_time(message.ts)}\n{receipts_text(receipts)}"
                QToolTip.showText(event.globalPos(), text, view, area.toAlignedRect())
                return True
        return super().helpEvent(event, view, option, index)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        key = self._key(option, index)
        if key is None:
            return QSize(0, 0)
        size = self._sizes.get(key)
        if size is None:
            built = self.layout(option, index)
            assert built is not None
            size = built.size
        return size

    # --- painting ---

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        built = self.layout(option, index)
        if built is None:
            return
        message: StoredMessage = index.data(MessageRole.MESSAGE)
        c = colours(option.palette)
        rect: QRect = option.rect
        text_font, small_font, name_font = self._fonts(option.font)
        out = message.direction == "out"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.translate(rect.topLeft())
        width = rect.width()

        state = option.state
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(
                QRectF(0, built.header_height, width, rect.height() - built.header_height),
                c.selection,
            )
        level = float(index.data(MessageRole.HIGHLIGHTED) or 0.0)
        if level > 0:
            flash = QColor(c.highlight)
            flash.setAlphaF(flash.alphaF() * min(1.0, level))
            painter.fillRect(
                QRectF(0, built.header_height, width, rect.height() - built.header_height),
                flash,
            )

        y = 0.0
        shape: RowShape = index.data(MessageRole.SHAPE)
        if shape.day_break:
            self._paint_day(painter, c, small_font, width, y, local_date(message.ts))
            y += DAY_HEADER
        marker = shape.unread_marker
        if marker:
            self._paint_marker(painter, c, small_font, width, y, marker)
        if is_system_line(message):
            self._paint_system(painter, c, built)
            painter.restore()
            return

        # Bubble (with a tail at the end of a run) and a soft shadow in light mode.
        bubble = built.bubble
        last_in_run = shape.last_in_run
        path = bubble_path(bubble, out=out, tail=last_in_run)
        if not c.dark:
            painter.fillPath(path.translated(0, 1), QColor(0, 0, 0, 22))
        painter.fillPath(path, c.bubble_out if out else c.bubble_in)
        if message.is_group and not out and last_in_run:
            avatar = QRectF(MARGIN_X, bubble.bottom() - GROUP_AVATAR, GROUP_AVATAR, GROUP_AVATAR)
            paint_avatar(painter, avatar, message.sender or "", self._sender_label(message))

        if built.name_pos is not None:
            painter.setFont(name_font)
            painter.setPen(name_colour(message.sender or "", c.dark))
            fm = QFontMetricsF(name_font)
            name = fm.elidedText(
                isolate(self._sender_label(message)),
                Qt.TextElideMode.ElideRight,
                bubble.width() - 2 * PAD_X,
            )
            painter.drawText(built.name_pos + QPointF(0, fm.ascent()), name)

        if built.forwarded_pos is not None:
            painter.setFont(small_font)
            painter.setPen(c.link_out if out else c.link_in)
            fm = QFontMetricsF(small_font)
            label = fm.elidedText(
                self.forwarded_text(message),
                Qt.TextElideMode.ElideRight,
                bubble.width() - 2 * PAD_X,
            )
            painter.drawText(built.forwarded_pos + QPointF(0, fm.ascent()), label)
        if built.quote is not None:
            self._paint_quote(painter, c, small_font, built.quote, message, out)
        if built.chips:
            self._paint_chips(painter, c, small_font, built.chips, out)
        if built.files_pos is not None:  # issue 10: images and file cards
            model = index.model()
            progress = getattr(model, "file_progress", {})
            attachments.paint_attachments(
                painter,
                built.files_pos,
                index.data(MessageRole.FILES) or [],
                built.files_limit,
                c,
                out=out,
                font=text_font,
                progress=lambda f: progress.get(f.key),
            )

        if not self._editing(index):  # the selectable browser shows the text instead
            painter.setPen(c.bubble_out_text if out else c.bubble_in_text)
            painter.setFont(text_font)
            built.text.draw(painter, built.text_pos)

        painter.setFont(small_font)
        meta_colour = c.meta_out if out else c.meta_in
        if message.failure is not None:
            meta_colour = failed_colour(c.dark)
        painter.setPen(meta_colour)
        time_text = self._meta_text(message)
        time_rect = QRectF(built.meta)
        if out:
            time_rect.setRight(time_rect.right() - TICK_WIDTH - 4)
            tick_rect = QRectF(built.meta.right() - TICK_WIDTH, built.meta.top(), TICK_WIDTH, 12)
            tick_rect.moveCenter(QPointF(tick_rect.center().x(), built.meta.center().y()))
            if message.failure is not None:
                paint_failed(painter, tick_rect, meta_colour)
            else:
                paint_ticks(
                    painter,
                    tick_rect,
                    message.status,
                    c.tick_read if message.status == "read" else meta_colour,
                    c.bubble_out,
                )
        painter.drawText(
            time_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, time_text
        )
        if state & QStyle.StateFlag.State_MouseOver and _reactable(message):
            self._paint_react_button(painter, c, text_font, _react_button(built.bubble, out))
        painter.restore()

    def _paint_react_button(self, painter: QPainter, c: Colours, font: QFont, box: QRectF) -> None:
        """The hover button beside the bubble that opens the quick reactions."""
        path = QPainterPath()
        path.addEllipse(box)
        painter.fillPath(path, c.window)
        painter.setPen(c.border)
        painter.drawPath(path)
        painter.setPen(c.muted)
        painter.setFont(font)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "☺")

    def react_button_rect(self, option: QStyleOptionViewItem, index: _Index) -> QRectF | None:
        """Where the hover reaction button of the row is, in view coordinates (``None``
        when the message cannot be reacted to)."""
        message = index.data(MessageRole.MESSAGE)
        if not isinstance(message, StoredMessage) or not _reactable(message):
            return None
        built = self.layout(option, index)
        if built is None:
            return None
        box = _react_button(built.bubble, message.direction == "out")
        return box.translated(QPointF(option.rect.topLeft()))

    def _paint_quote(
        self,
        painter: QPainter,
        c: Colours,
        font: QFont,
        box: QRectF,
        message: StoredMessage,
        out: bool,
    ) -> None:
        quote = message.quote
        assert quote is not None
        accent = (
            c.link_out
            if quote.outgoing or quote.local_id is None
            else name_colour(quote.sender, c.dark)
        )
        fill = QColor(accent)
        fill.setAlpha(40 if c.dark else 28)
        path = QPainterPath()
        path.addRoundedRect(box, 5, 5)
        painter.fillPath(path, fill)
        painter.fillRect(QRectF(box.left(), box.top(), 3, box.height()), accent)
        name, text = self.quote_texts(message)
        fm = QFontMetricsF(font)
        bold = QFont(font)
        bold.setBold(True)
        inner = box.width() - 14
        painter.setFont(bold)
        painter.setPen(accent)
        painter.drawText(
            QPointF(box.left() + 9, box.top() + 4 + fm.ascent()),
            QFontMetricsF(bold).elidedText(name, Qt.TextElideMode.ElideRight, inner),
        )
        painter.setFont(font)
        unavailable = quote.deleted or quote.text is None
        painter.setPen(
            (c.meta_out if out else c.meta_in)
            if unavailable
            else (c.bubble_out_text if out else c.bubble_in_text)
        )
        painter.drawText(
            QPointF(box.left() + 9, box.top() + 4 + fm.height() + fm.ascent()),
            fm.elidedText(text, Qt.TextElideMode.ElideRight, inner),
        )

    def _paint_chips(
        self, painter: QPainter, c: Colours, font: QFont, chips: list[ReactionChip], out: bool
    ) -> None:
        painter.setFont(font)
        for chip in chips:
            base = QColor(c.accent)
            base.setAlpha(200 if chip.mine else (60 if c.dark else 36))
            path = QPainterPath()
            path.addRoundedRect(chip.rect, chip.rect.height() / 2, chip.rect.height() / 2)
            painter.fillPath(path, base)
            painter.setPen(
                c.accent_text if chip.mine else (c.bubble_out_text if out else c.bubble_in_text)
            )
            painter.drawText(chip.rect, Qt.AlignmentFlag.AlignCenter, f"{chip.emoji} {chip.count}")

    def quote_rect(self, option: QStyleOptionViewItem, index: _Index) -> QRectF | None:
        """Where the quoted message of a reply is, in view coordinates, or ``None``."""
        built = self.layout(option, index)
        if built is None or built.quote is None:
            return None
        return built.quote.translated(QPointF(option.rect.topLeft()))

    def chip_at(
        self, option: QStyleOptionViewItem, index: _Index, pos: QPoint | QPointF
    ) -> ReactionChip | None:
        """The reaction chip under ``pos`` (view coordinates), or ``None``."""
        built = self.layout(option, index)
        if built is None or not built.chips:
            return None
        local = QPointF(pos) - QPointF(option.rect.topLeft())
        return next((chip for chip in built.chips if chip.rect.contains(local)), None)

    def _editing(self, index: _Index) -> bool:
        view = self.parent()
        return (
            isinstance(view, QAbstractItemView)
            and view.state() == QAbstractItemView.State.EditingState
            and view.currentIndex() == index
        )

    def _paint_day(
        self, painter: QPainter, c: Colours, font: QFont, width: int, y: float, day: date
    ) -> None:
        label = day_label(day, self.today)
        bold = QFont(font)
        bold.setBold(True)
        fm = QFontMetricsF(bold)
        pill_w = fm.horizontalAdvance(label) + 22
        pill_h = fm.height() + 8
        pill = QRectF((width - pill_w) / 2, y + (DAY_HEADER - pill_h) / 2 + 2, pill_w, pill_h)
        path = QPainterPath()
        path.addRoundedRect(pill, pill_h / 2, pill_h / 2)
        painter.fillPath(path, c.separator)
        painter.setFont(bold)
        painter.setPen(c.separator_text)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_marker(
        self, painter: QPainter, c: Colours, font: QFont, width: int, y: float, count: int
    ) -> None:
        band = QRectF(0, y + 4, width, MARKER_HEADER - 8)
        fill = QColor(c.window)
        fill.setAlpha(210 if c.dark else 170)
        painter.fillRect(band, fill)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(c.accent)
        if count == 1:
            text = QCoreApplication.translate("BubbleDelegate", "1 new message")
        else:
            text = QCoreApplication.translate("BubbleDelegate", "%1 new messages").replace(
                "%1", str(count)
            )
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, text)

    # --- hit testing ---

    def link_at(self, option: QStyleOptionViewItem, index: _Index, pos: QPoint) -> str | None:
        """The URL under ``pos`` (viewport coordinates) in the row at ``option.rect``."""
        built = self.layout(option, index)
        if built is None or not built.links:
            return None
        rect: QRect = option.rect
        local = QPointF(pos - rect.topLeft()) - built.text_pos
        if local.y() < 0 or local.y() > built.text.boundingRect().height():
            return None
        for i in range(built.text.lineCount()):
            line = built.text.lineAt(i)
            if line.y() <= local.y() < line.y() + line.height():
                if local.x() > line.naturalTextWidth():
                    return None
                cursor = line.xToCursor(local.x())
                for start, end, url in built.links:
                    if start <= cursor < end:
                        return url
        return None

    def file_at(
        self, option: QStyleOptionViewItem, index: _Index, pos: QPoint
    ) -> StoredFile | None:
        """issue 10: the file under ``pos`` (viewport coordinates) in the row at
        ``option.rect``, if any."""
        built = self.layout(option, index)
        if built is None or built.files_pos is None:
            return None
        local = QPointF(pos - option.rect.topLeft()) - built.files_pos
        files = index.data(MessageRole.FILES) or []
        return attachments.file_at(files, built.files_limit, local)

    # --- read-only selectable editor ---

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        """A frameless read-only text browser over the bubble's text, so a part of the
        message can be selected with the mouse and copied; links open in the browser."""
        message: StoredMessage = index.data(MessageRole.MESSAGE)
        c = colours(option.palette)
        text_font, _small, _name = self._fonts(option.font)
        out = message.direction == "out"
        editor = QTextBrowser(parent)
        editor.setObjectName("messageSelector")
        editor.setFrameShape(QFrame.Shape.NoFrame)
        editor.setReadOnly(True)
        editor.setOpenExternalLinks(True)
        editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        editor.setFont(text_font)
        editor.document().setDocumentMargin(0)
        palette = editor.palette()
        palette.setColor(QPalette.ColorRole.Text, c.bubble_out_text if out else c.bubble_in_text)
        palette.setColor(QPalette.ColorRole.Link, c.link_out if out else c.link_in)
        editor.setPalette(palette)
        # Transparent: the bubble and its time stay visible; paint() skips the text.
        editor.viewport().setAutoFillBackground(False)
        editor.setStyleSheet(
            "QTextBrowser#messageSelector { background: transparent; border: none; }"
        )
        editor.setHtml(message_html(bidi_safe(message.text)))
        return editor

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        if isinstance(editor, QTextBrowser):
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _Index) -> None:
        """Read-only: nothing to write back."""

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: _Index
    ) -> None:
        built = self.layout(option, index)
        if built is None:
            return
        rect: QRect = option.rect
        text_rect = QRectF(
            built.text_pos.x(),
            built.text_pos.y(),
            built.bubble.width() - 2 * PAD_X + 4,
            built.text.boundingRect().height() + 4,
        )
        editor.setGeometry(text_rect.translated(QPointF(rect.topLeft())).toAlignedRect())


REACT_BUTTON: Final = 26
"""The hover reaction button's diameter."""


def _reactable(message: StoredMessage) -> bool:
    return message.seq is not None and message.deleted is None


def _react_button(bubble: QRectF, out: bool) -> QRectF:
    """The hover reaction button: beside the bubble, on the side facing the middle."""
    x = bubble.left() - REACT_BUTTON - 8 if out else bubble.right() + 8
    return QRectF(x, bubble.bottom() - REACT_BUTTON, REACT_BUTTON, REACT_BUTTON)


def bubble_path(rect: QRectF, *, out: bool, tail: bool) -> QPainterPath:
    """A rounded bubble; with ``tail`` the bottom corner on the sender's side turns into a
    small curved tail (outgoing: bottom right, incoming: bottom left)."""
    path = QPainterPath()
    path.addRoundedRect(rect, RADIUS, RADIUS)
    if not tail:
        return path
    bottom = rect.bottom()
    corner = QPainterPath()
    tip = QPainterPath()
    if out:
        right = rect.right()
        corner.addRect(QRectF(right - RADIUS, bottom - RADIUS, RADIUS, RADIUS))
        tip.moveTo(right, bottom - 16)
        tip.quadTo(right, bottom - 2, right + TAIL, bottom)
        tip.lineTo(right - RADIUS, bottom)
        tip.lineTo(right - RADIUS, bottom - 16)
    else:
        left = rect.left()
        corner.addRect(QRectF(left, bottom - RADIUS, RADIUS, RADIUS))
        tip.moveTo(left, bottom - 16)
        tip.quadTo(left, bottom - 2, left - TAIL, bottom)
        tip.lineTo(left + RADIUS, bottom)
        tip.lineTo(left + RADIUS, bottom - 16)
    tip.closeSubpath()
    return path.united(corner).united(tip)


def message_html(text: str) -> str:
    """``text`` as escaped HTML with links, whitespace kept (for the selectable editor)."""
    parts = []
    position = 0
    for start, end, url in url_spans(text):
        parts.append(html.escape(text[position:start]))
        parts.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(text[start:end])}</a>')
        position = end
    parts.append(html.escape(text[position:]))
    return f'<div style="white-space: pre-wrap;">{"".join(parts)}</div>'


# --- the view --------------------------------------------------------------------------------


class ChatView(QListView):
    """The message list of the open conversation.

    Emits :attr:`visible_range_changed` (debounced) after scrolling or new rows, so the
    window can confirm reading up to the newest visible incoming message, and
    :attr:`retry_requested` / :attr:`delete_requested` for a message the server refused
    (context menu, or a click on its red mark), for the controller to act on.
    """

    visible_range_changed = Signal()
    retry_requested = Signal(int)
    """The user wants a message that was not sent sent again (its ``local_id``)."""
    delete_requested = Signal(int)
    """The user wants a message that was not sent deleted (its ``local_id``)."""
    reply_requested = Signal(int)
    """"Reply" on a message (its ``local_id``)."""
    edit_requested = Signal(int)
    """"Edit" on one of our messages."""
    delete_messages_requested = Signal(list)
    """"Delete" on sent messages (their ``local_id``s, display order): ask for me or for
    everyone, then delete."""
    react_requested = Signal(int, str, bool)
    """``(local_id, emoji, on)``: set (``on``) or take back our reaction."""
    other_reaction_requested = Signal(int)
    """"Other emoji…" on a message: ask which emoji."""
    forward_requested = Signal(list)
    """"Forward" on messages (their ``local_id``s, display order): pick a chat."""
    selection_mode_changed = Signal(bool)
    """Selection mode began (plain clicks select several messages) or ended."""
    file_clicked = Signal(object)
    """issue 10: the user clicked a file of a message (its ``StoredFile``)."""
    file_menu_requested = Signal(object, object)
    """issue 10: a context menu opens over a file: ``(QMenu, StoredFile)``, to add the
    file's actions to it before it shows."""

    def __init__(self, model: MessageListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self._model = model
        self.setModel(model)
        self._delegate = BubbleDelegate(self)
        self.setItemDelegate(self._delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)  # the reaction button
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.setAutoScroll(False)
        self._stick_to_bottom = True
        self._adjusting = False
        self._placeholder = ("", "")
        self._removal_anchor: tuple[int, int] | None = None
        self._highlighted: int | None = None
        self.highlight_fade = QVariantAnimation(self)
        """Fades the flash of a message jumped to: full for a moment, then gone."""
        self.highlight_fade.setStartValue(1.0)
        self.highlight_fade.setKeyValueAt(HIGHLIGHT_HOLD, 1.0)
        self.highlight_fade.setEndValue(0.0)
        self.highlight_fade.setDuration(HIGHLIGHT_MS)
        self.highlight_fade.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self.highlight_fade.valueChanged.connect(self._fade_step)
        self.highlight_fade.finished.connect(self._fade_done)
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(250)
        self._visible_timer.timeout.connect(self.visible_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._range_changed)
        self.bottom_button = QToolButton(self)
        self.bottom_button.setObjectName("scrollToBottom")
        self.bottom_button.setToolTip(self.tr("Scroll to the newest message"))
        self.bottom_button.setIconSize(QSize(22, 22))
        self.bottom_button.setFixedSize(QSize(40, 40))
        self.bottom_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.bottom_button.clicked.connect(self.jump_to_newest)
        self.bottom_button.hide()
        self._style_bottom_button()
        model.rowsAboutToBeInserted.connect(self._before_insert)
        model.rowsInserted.connect(self._after_insert)
        model.rowsAboutToBeRemoved.connect(self._before_remove)
        model.rowsRemoved.connect(self._after_remove)
        model.modelReset.connect(self._after_reset)
        model.older_prefetched.connect(self._older_prefetched)

    @property
    def message_model(self) -> MessageListModel:
        return self._model

    @property
    def delegate(self) -> BubbleDelegate:
        return self._delegate

    def set_own_id(self, own_id: str | None) -> None:
        """This client's ID: its reactions are marked, and "Edit" is offered on its own
        messages."""
        self._delegate.own_id = own_id
        self._delegate.clear_caches()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Fill the chat background (a palette-derived colour, light or dark), then the rows."""
        painter = QPainter(self.viewport())
        c = colours(self.palette())
        painter.fillRect(event.rect(), c.chat_background)
        if self._model.rowCount() == 0 and self._model.conversation is not None:
            self._paint_placeholder(painter, c)
        painter.end()
        super().paintEvent(event)

    def set_placeholder(self, title: str, hint: str) -> None:
        """What an empty chat says (a newly added contact: "Say hi to Ana!")."""
        self._placeholder = (title, hint)
        self.viewport().update()

    def placeholder(self) -> tuple[str, str]:
        """The title and hint shown while the open chat has no messages (else blank)."""
        if self._model.rowCount() or self._model.conversation is None:
            return ("", "")
        return self._placeholder

    def _paint_placeholder(self, painter: QPainter, c: Colours) -> None:
        title, hint = self._placeholder
        if not title and not hint:
            return
        bold = QFont(self.font())
        bold.setBold(True)
        fm_title, fm_hint = QFontMetricsF(bold), QFontMetricsF(self.font())
        width = max(fm_title.horizontalAdvance(title), fm_hint.horizontalAdvance(hint)) + 36
        height = fm_title.height() + fm_hint.height() + 22
        area = QRectF(self.viewport().rect())
        card = QRectF(0, 0, min(width, area.width() - 20), height)
        card.moveCenter(area.center())
        path = QPainterPath()
        path.addRoundedRect(card, 14, 14)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillPath(path, c.separator)
        painter.setPen(c.separator_text)
        painter.setFont(bold)
        top = QRectF(card.left(), card.top() + 10, card.width(), fm_title.height())
        painter.drawText(top, Qt.AlignmentFlag.AlignCenter, title)
        painter.setFont(self.font())
        below = QRectF(card.left(), top.bottom() + 2, card.width(), fm_hint.height())
        painter.drawText(below, Qt.AlignmentFlag.AlignCenter, hint)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            # The strip above the viewport (see updateGeometries) is this widget's own.
            painter = QPainter(self)
            painter.fillRect(self.rect(), colours(self.palette()).chat_background)
            painter.end()
        return super().event(event)

    def updateGeometries(self) -> None:
        """Short chats sit at the bottom, next to the composer, as in every messenger: the
        viewport gets a top margin as tall as the empty space above the rows."""
        super().updateGeometries()
        available = self.height() - 2 * self.frameWidth() - BOTTOM_GAP
        content = self.contentsSize().height()
        margin = max(0, available - content) if self._model.rowCount() else 0
        if margin != self.viewportMargins().top():
            self.setViewportMargins(0, margin, 0, BOTTOM_GAP)

    def _style_bottom_button(self) -> None:
        c = colours(self.palette())
        self.bottom_button.setIcon(icon("arrow-down", c.muted))
        self.bottom_button.setStyleSheet(
            f"QToolButton#scrollToBottom {{ background: {c.window.name()}; border-radius: 20px;"
            f" border: 1px solid {c.border.name()}; }}"
            f"QToolButton#scrollToBottom:hover {{ background: {c.hover.name()}; }}"
        )

    def _place_bottom_button(self) -> None:
        margin = 14
        self.bottom_button.move(
            self.width() - self.bottom_button.width() - margin - 8,
            self.height() - self.bottom_button.height() - margin,
        )
        wanted = self._model.rowCount() > 0 and (not self._model.at_end or not self.is_at_bottom())
        self.bottom_button.setVisible(wanted)
        self.bottom_button.raise_()

    def jump_to_newest(self) -> None:
        """Show the newest messages (reloading the newest page after a jump far back)."""
        if not self._model.at_end:
            self._model.reload()
        self.scroll_to_bottom()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "bottom_button"):
            self._style_bottom_button()
        delegate = getattr(self, "_delegate", None)  # None while __init__ runs
        if delegate is not None and event.type() in (
            QEvent.Type.PaletteChange,
            QEvent.Type.FontChange,
        ):
            delegate.clear_caches()
            self.scheduleDelayedItemsLayout()
        super().changeEvent(event)

    # --- scrolling ---

    def is_at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def following_bottom(self) -> bool:
        """Whether the view shows the newest message and keeps showing new ones."""
        return self._stick_to_bottom

    def _scrolled(self, value: int) -> None:
        if self._adjusting:
            return
        self._stick_to_bottom = self.is_at_bottom() and self._model.at_end
        self._place_bottom_button()
        self._page_older_if_near(value)
        self._visible_timer.start()

    def _page_older_if_near(self, value: int) -> None:
        """Read the older page ahead (off the GUI thread) while the top is still
        :data:`PREFETCH_SCREENS` screens away, and prepend it once it is one screen away,
        so the top of the loaded history is never reached while scrolling."""
        if not self._model.can_fetch_older():
            return
        screen = max(1, self.viewport().height())
        if value <= PREFETCH_SCREENS * screen:
            self._model.prefetch_older()
        if value <= screen:
            QTimer.singleShot(0, self, self._load_older_keeping_position)

    def _older_prefetched(self) -> None:
        if not self._adjusting:
            self._page_older_if_near(self.verticalScrollBar().value())

    def _range_changed(self, _minimum: int, _maximum: int) -> None:
        if self._stick_to_bottom and not self._adjusting:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        self._place_bottom_button()

    def _load_older_keeping_position(self) -> None:
        bar = self.verticalScrollBar()
        if bar.value() > self.viewport().height() or not self._model.can_fetch_older():
            return
        anchor = self.indexAt(QPoint(10, 1))
        anchor_row = anchor.row() if anchor.isValid() else 0
        anchor_top = self.visualRect(anchor).top() if anchor.isValid() else 0
        self._adjusting = True
        try:
            added = self._model.fetch_older()
            if added:
                self.doItemsLayout()
                moved = self._model.index(anchor_row + added, 0)
                bar.setValue(bar.value() + self.visualRect(moved).top() - anchor_top)
        finally:
            self._adjusting = False

    def _before_insert(self, _parent: QModelIndex, first: int, _last: int) -> None:
        if first > 0:  # appended or inserted below: stick if the user was at the bottom
            self._stick_to_bottom = self.is_at_bottom() and not self._adjusting

    def _after_insert(self, _parent: QModelIndex, first: int, _last: int) -> None:
        if first > 0 and self._stick_to_bottom:
            QTimer.singleShot(0, self, self._follow_bottom)
        self._visible_timer.start()

    def _before_remove(self, _parent: QModelIndex, first: int, last: int) -> None:
        """Rows above what is shown are dropped (the window moves down): remember the
        first row shown below them, to keep it where it is."""
        self._removal_anchor = None
        if first != 0 or self._stick_to_bottom:
            return
        anchor = self.indexAt(QPoint(10, 1))
        if anchor.isValid() and anchor.row() > last:
            self._removal_anchor = (anchor.row() - (last + 1), self.visualRect(anchor).top())

    def _after_remove(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        anchor, self._removal_anchor = self._removal_anchor, None
        if anchor is None:
            return
        row, top = anchor
        self._adjusting = True
        try:
            self.doItemsLayout()
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + self.visualRect(self._model.index(row, 0)).top() - top)
        finally:
            self._adjusting = False

    def _after_reset(self) -> None:
        # The delegate's caches stay: they are keyed by message and width, and bounded.
        self._stick_to_bottom = True
        self.highlight_fade.stop()

    def _follow_bottom(self) -> None:
        """Deferred scroll for new rows or a resize, skipped if the user scrolled away."""
        if self._stick_to_bottom:
            self.scroll_to_bottom()

    def scroll_to_bottom(self) -> None:
        """Show the newest message and keep following new ones."""
        self._stick_to_bottom = True
        self.scrollToBottom()
        self._visible_timer.start()

    def scroll_to_open_position(self) -> None:
        """After opening a conversation: the "N new messages" marker near the top when
        there is one, else the bottom."""
        marker = self._model.unread_marker
        row = None if marker is None else self._model.row_of(marker[0])
        if row is None:
            self.scroll_to_bottom()
            return
        self.doItemsLayout()
        index = self._model.index(row, 0)
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        self._stick_to_bottom = self.is_at_bottom()
        self._visible_timer.start()

    def scroll_to_message(self, local_id: int) -> bool:
        """Bring message ``local_id`` to the middle and flash it. Returns False when it is
        not in the open conversation."""
        row = self._model.load_around(local_id)
        if row is None:
            return False
        self.doItemsLayout()
        index = self._model.index(row, 0)
        self._stick_to_bottom = False
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        # The current row for the keyboard, but not selected: a selection band would stay.
        self.selectionModel().clearSelection()
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        self._highlighted = local_id
        self._model.set_highlight(local_id, 1.0)
        self.highlight_fade.stop()
        self.highlight_fade.start()
        self._visible_timer.start()
        return True

    def _fade_step(self, value: object) -> None:
        if self._highlighted is not None and isinstance(value, float):
            self._model.set_highlight(self._highlighted, value)

    def _fade_done(self) -> None:
        self._highlighted = None
        self._model.set_highlight(None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        at_bottom = self._stick_to_bottom
        super().resizeEvent(event)
        self._place_bottom_button()
        if at_bottom:
            QTimer.singleShot(0, self, self._follow_bottom)

    def visible_rows(self) -> tuple[int, int] | None:
        """First and last row at least partly visible, or ``None`` when empty."""
        if self._model.rowCount() == 0:
            return None
        top = self.indexAt(QPoint(MARGIN_X + 1, 0))
        viewport = self.viewport().rect()
        bottom = QModelIndex()
        y = viewport.bottom()
        while not bottom.isValid() and y >= 0:
            bottom = self.indexAt(QPoint(viewport.width() // 2, y))
            y -= 8
        if not bottom.isValid():
            return None
        return (top.row() if top.isValid() else 0), bottom.row()

    # --- copying and links ---

    def selected_messages(self) -> list[StoredMessage]:
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [m for m in (self._model.message(r) for r in rows) if m is not None]

    def copy_selection(self) -> None:
        """Put the selected messages' text on the clipboard (one message: its text alone;
        several: each with sender and time)."""
        messages = self.selected_messages()
        if not messages:
            return
        if len(messages) == 1:
            text = _shown_text(messages[0])
        else:
            you = QCoreApplication.translate("ChatView", "You")
            text = "\n\n".join(
                _shown_text(m)
                if is_system_line(m)
                else f"{you if m.direction == 'out' else (m.sender_name or m.sender)}, "
                f"[{full_time(m.ts)}]:\n{m.text}"
                for m in messages
            )
        QGuiApplication.clipboard().setText(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.selecting:
            self.stop_selecting()
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        pos = event.pos()
        global_pos = event.globalPos()
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            # The Menu key (or Shift+F10): the current message, not where the mouse is.
            current = self.currentIndex()
            if current.isValid():
                pos = self.visualRect(current).center()
                global_pos = self.viewport().mapToGlobal(pos)
        index = self.indexAt(pos)
        picked = index.isValid() and not self.selectionModel().isSelected(index)
        if picked:  # highlighted while its menu is open
            self.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if not self.selectedIndexes():
            return
        menu = self.build_context_menu(index, pos)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if picked:  # once it closes (and its action ran), the band goes
            menu.aboutToHide.connect(lambda: QTimer.singleShot(0, self._unpick))
        menu.popup(global_pos)

    def _unpick(self) -> None:
        """After the menu of a message that was not selected: nothing stays selected,
        unless its "Select" began selection mode (the message is the first of several)."""
        if not self.selecting:
            self.clearSelection()

    def selectionCommand(
        self, index: _Index, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        """A plain click on a message selects nothing (no band left behind, as in
        Telegram); Ctrl or Shift+click selects several, and so does any click in selection
        mode."""
        if (
            isinstance(event, QMouseEvent)
            and not self.selecting
            and not event.modifiers()
            & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        ):
            return QItemSelectionModel.SelectionFlag.Clear
        return super().selectionCommand(index, event)

    def forwardable_selection(self) -> list[int]:
        """The selected messages' ids when every one of them can be forwarded (sent, not
        deleted), else ``[]``."""
        selected = self.selected_messages()
        ids = [m.local_id for m in selected if m.seq is not None and m.deleted is None]
        return ids if len(ids) == len(selected) else []

    def deletable_selection(self) -> list[int]:
        """The selected messages' ids when every one of them is sent (unsent ones are
        deleted from the outbox instead), else ``[]``."""
        selected = self.selected_messages()
        ids = [m.local_id for m in selected if m.seq is not None]
        return ids if len(ids) == len(selected) else []

    def build_context_menu(self, index: _Index, pos: QPoint) -> QMenu:
        """The menu for the selected messages, ``index`` being the one clicked (at
        ``pos``): reactions, Reply, Edit, Copy, Forward, Delete, as Telegram orders them.
        With several selected, only what applies to all of them (Copy, Forward, Delete)."""
        menu = QMenu(self)
        menu.setObjectName("messageMenu")
        selected = self.selected_messages()
        message = self._model.message(index.row()) if index.isValid() else None
        single = message if len(selected) <= 1 else None
        sent = single is not None and single.seq is not None and single.deleted is None
        if single is not None and sent:
            local_id = single.local_id
            row = menu.addMenu(self.tr("React"))
            row.setObjectName("reactMenu")
            row.menuAction().setObjectName("reactMenu")
            mine = {r.emoji for r in single.reactions if r.member == self._delegate.own_id}
            self._add_reactions(row, local_id, mine)
            reply = menu.addAction(self.tr("Reply"))
            reply.setObjectName("replyMessage")
            reply.triggered.connect(lambda: self.reply_requested.emit(local_id))
            if single.direction == "out":
                edit = menu.addAction(self.tr("Edit"))
                edit.setObjectName("editMessage")
                edit.triggered.connect(lambda: self.edit_requested.emit(local_id))
            menu.addSeparator()
        live = [m for m in selected if m.deleted is None]
        if live:
            copy = menu.addAction(self.tr("Copy text"))
            copy.setObjectName("copyMessage")
            copy.setShortcut(QKeySequence.StandardKey.Copy)
            copy.triggered.connect(self.copy_selection)
        if single is not None and single.deleted is None:
            select = menu.addAction(self.tr("Select text…"))
            select.triggered.connect(lambda: self.edit(index))
            link = self._link_at(pos)
            if link is not None:
                copy_link = menu.addAction(self.tr("Copy link"))
                copy_link.triggered.connect(lambda: QGuiApplication.clipboard().setText(link))
        forwardable = self.forwardable_selection()
        if forwardable:
            forward = menu.addAction(
                self.tr("Forward")
                if len(forwardable) == 1
                else self.tr("Forward %n messages", "", len(forwardable))
            )
            forward.setObjectName("forwardMessages")
            forward.triggered.connect(lambda: self.forward_requested.emit(forwardable))
        deletable = self.deletable_selection()
        if deletable:
            delete = menu.addAction(
                self.tr("Delete")
                if len(deletable) == 1
                else self.tr("Delete %n messages", "", len(deletable))
            )
            delete.setObjectName("deleteMessages")
            delete.triggered.connect(lambda: self.delete_messages_requested.emit(deletable))
        if len(selected) <= 1:
            menu.addSeparator()
            choose = menu.addAction(self.tr("Select"))
            choose.setObjectName("selectMessages")
            choose.setToolTip(self.tr("Select several messages (Ctrl+click or Shift+click)"))
            choose.triggered.connect(self._start_selecting)
        if index.isValid():
            self.add_failure_actions(menu, index)
            clicked_file = self._file_at(pos)  # issue 10
            if clicked_file is not None:
                menu.addSeparator()
                self.file_menu_requested.emit(menu, clicked_file)
        return menu

    def _start_selecting(self) -> None:
        """Selection mode: plain clicks add messages to the selection (Esc ends it)."""
        self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.selection_mode_changed.emit(True)

    def stop_selecting(self) -> None:
        """Leave selection mode and clear the selection."""
        if self.selectionMode() == QAbstractItemView.SelectionMode.MultiSelection:
            self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
            self.selection_mode_changed.emit(False)
        self.clearSelection()

    @property
    def selecting(self) -> bool:
        return self.selectionMode() == QAbstractItemView.SelectionMode.MultiSelection

    def add_failure_actions(self, menu: QMenu, index: _Index) -> None:
        """Add "Retry" and "Delete" to ``menu`` when ``index`` shows a message that was not
        sent; they emit :attr:`retry_requested` / :attr:`delete_requested`."""
        message = self._model.message(index.row())
        if message is None or message.failure is None:
            return
        local_id = message.local_id
        menu.addSeparator()
        retry = menu.addAction(self.tr("Retry"))
        retry.setObjectName("retryMessage")
        retry.triggered.connect(lambda: self.retry_requested.emit(local_id))
        delete = menu.addAction(self.tr("Delete"))
        delete.setObjectName("deleteMessage")
        delete.triggered.connect(lambda: self.delete_requested.emit(local_id))

    def _failed_at(self, pos: QPoint) -> int | None:
        """The ``local_id`` of the failed message whose red mark is at ``pos``, if any."""
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        mark = self._delegate.failure_mark_rect(option, index)
        if mark is None or not mark.contains(QPointF(pos)):
            return None
        return int(index.data(MessageRole.LOCAL_ID))

    def _file_at(self, pos: QPoint) -> StoredFile | None:
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return self._delegate.file_at(option, index, pos)

    def _link_at(self, pos: QPoint) -> str | None:
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return self._delegate.link_at(option, index, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() == Qt.MouseButton.NoButton:
            pos = event.position().toPoint()
            clickable = (
                self._link_at(pos) is not None
                or self._failed_at(pos) is not None
                or self._quote_at(pos) is not None
                or self._chip_at(pos) is not None
                or self._react_button_at(pos) is not None
                or self._file_at(pos) is not None
            )
            self.viewport().setCursor(
                Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor
            )
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            link = self._link_at(pos)
            if link is not None:
                QDesktopServices.openUrl(QUrl(link))
            failed = self._failed_at(pos)
            if failed is not None:
                self.retry_requested.emit(failed)
            quoted = self._quote_at(pos)
            if quoted is not None:
                self.jump_to_quote(quoted)
            chip = self._chip_at(pos)
            if chip is not None:
                self.react_requested.emit(chip[0], chip[1].emoji, not chip[1].mine)
            target = self._react_button_at(pos)
            if target is not None:
                self.reaction_bar(target).popup(self.viewport().mapToGlobal(pos))
            clicked_file = self._file_at(pos)
            if clicked_file is not None:
                self.file_clicked.emit(clicked_file)
        super().mouseReleaseEvent(event)

    def reaction_bar(self, local_id: int) -> QMenu:
        """The quick reactions for message ``local_id`` (the hover button opens it): the
        six emoji side by side, then "Other emoji…"."""
        menu = QMenu(self)
        menu.setObjectName("reactionBar")
        message = self._model.message(self._model.row_of(local_id) or 0)
        mine = (
            {r.emoji for r in message.reactions if r.member == self._delegate.own_id}
            if message is not None and message.local_id == local_id
            else set()
        )
        self._add_reactions(menu, local_id, mine)
        return menu

    def _add_reactions(self, menu: QMenu, local_id: int, mine: set[str]) -> None:
        """The quick reactions (ticked: ours; a click toggles), then "Other emoji…"."""
        for emoji in QUICK_REACTIONS:
            action = menu.addAction(emoji)
            action.setCheckable(True)
            action.setChecked(emoji in mine)
            action.triggered.connect(
                lambda _c=False, e=emoji, on=emoji not in mine: self.react_requested.emit(
                    local_id, e, on
                )
            )
        menu.addSeparator()
        other = menu.addAction(self.tr("Other emoji…"))
        other.setObjectName("otherReaction")
        other.triggered.connect(lambda: self.other_reaction_requested.emit(local_id))

    def _react_button_at(self, pos: QPoint) -> int | None:
        """The ``local_id`` of the message whose hover reaction button is at ``pos``."""
        found = self._option_at(pos)
        if found is None:
            return None
        index, option = found
        box = self._delegate.react_button_rect(option, index)
        if box is None or not box.contains(QPointF(pos)):
            return None
        return int(index.data(MessageRole.LOCAL_ID))

    def jump_to_quote(self, message: StoredMessage) -> bool:
        """Scroll to the message ``message`` quotes (loading it from the history however
        far back it is). False when this history does not have it, or it is deleted."""
        quote = message.quote
        if quote is None or quote.local_id is None or quote.deleted:
            return False
        return self.scroll_to_message(quote.local_id)

    def _option_at(self, pos: QPoint) -> tuple[QModelIndex, QStyleOptionViewItem] | None:
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = self.visualRect(index)
        return index, option

    def _quote_at(self, pos: QPoint) -> StoredMessage | None:
        """The reply whose quote is under ``pos``, if any."""
        found = self._option_at(pos)
        if found is None:
            return None
        index, option = found
        box = self._delegate.quote_rect(option, index)
        if box is None or not box.contains(QPointF(pos)):
            return None
        message = index.data(MessageRole.MESSAGE)
        return message if isinstance(message, StoredMessage) else None

    def _chip_at(self, pos: QPoint) -> tuple[int, ReactionChip] | None:
        """``(local_id, chip)`` of the reaction chip under ``pos``, if any."""
        found = self._option_at(pos)
        if found is None:
            return None
        index, option = found
        chip = self._delegate.chip_at(option, index, pos)
        if chip is None:
            return None
        return int(index.data(MessageRole.LOCAL_ID)), chip
