"""The sidebar: the conversation list model, its row delegate and the filter proxy.

:class:`ConversationListModel` is fed by a callable returning
``list[storage.ConversationSummary]`` (``store.conversations_summary``), most recent activity
first; :meth:`ConversationListModel.reload` calls it again and keeps the current row on the
same conversation. :class:`ConversationDelegate` paints each row (avatar, title, preview,
time, unread badge); :class:`ConversationFilterModel` filters by title, ID or preview,
ignoring case and accents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from messenger_gui.storage import ConversationSummary, MessageStatus, fold_accents
from messenger_gui.ui.avatars import paint_avatar
from messenger_gui.ui.formatting import bidi_safe, isolate, list_time, plain_tooltip, system_text
from messenger_gui.ui.resources import icon
from messenger_gui.ui.theme import Colours, colours
from messenger_gui.ui.ticks import failed_colour, paint_failed, paint_ticks

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex


class ConversationRole(IntEnum):
    """Data roles of :class:`ConversationListModel` (``DisplayRole`` is the title)."""

    ID = Qt.ItemDataRole.UserRole + 1
    TITLE = Qt.ItemDataRole.UserRole + 2
    PREVIEW = Qt.ItemDataRole.UserRole + 3
    TIME = Qt.ItemDataRole.UserRole + 4
    """``last_ts`` in milliseconds, or ``None``."""
    UNREAD = Qt.ItemDataRole.UserRole + 5
    IS_GROUP = Qt.ItemDataRole.UserRole + 6
    SUMMARY = Qt.ItemDataRole.UserRole + 7
    """The whole :class:`ConversationSummary`."""
    FILTER_TEXT = Qt.ItemDataRole.UserRole + 8
    """Title, ID and preview, folded (lower case, no accents), for the filter."""
    TYPING = Qt.ItemDataRole.UserRole + 9
    """"Ana is typing…" while someone types there (shown instead of the preview), else
    ``""``."""


def _folded(text: str) -> str:
    return fold_accents(text).casefold()


class ConversationListModel(QAbstractListModel):
    """One row per conversation, in the order the source returns them.

    Args:
        source: returns the rows, most recent activity first (``store.conversations_summary``).
        parent: Qt parent.
    """

    def __init__(
        self,
        source: Callable[[], list[ConversationSummary]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._source = source
        self._rows: list[ConversationSummary] = []
        self._filter_texts: list[str] = []
        self._typing: dict[str, str] = {}

    def set_typing(self, conversation: str, text: str) -> None:
        """Show ``text`` ("Ana is typing…") in the row of ``conversation`` instead of its
        last message; ``""`` shows the message again. Kept across reloads."""
        if self._typing.get(conversation, "") == text:
            return
        if text:
            self._typing[conversation] = text
        else:
            self._typing.pop(conversation, None)
        row = self.row_of(conversation)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [ConversationRole.TYPING])

    def reload(self) -> None:
        """Fetch the rows again.

        Rows that stay are moved, not reset (``layoutChanged`` with persistent indexes
        updated), so a view's selection and current row stay on the same conversation, as
        does whatever a proxy model maps. Vanished rows are removed, new ones inserted.
        """
        self.set_rows(self._source())

    def set_rows(self, rows: list[ConversationSummary]) -> None:
        """Show ``rows`` (read elsewhere, e.g. on the history's reader thread), as
        :meth:`reload` does."""
        new_ids = {r.conversation for r in rows}
        for row in reversed(range(len(self._rows))):
            if self._rows[row].conversation not in new_ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                del self._filter_texts[row]
                self.endRemoveRows()
        known = {r.conversation for r in self._rows}
        added = [r for r in rows if r.conversation not in known]
        if added:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self._rows.extend(added)
            self._filter_texts.extend(self._filter_text(r) for r in added)
            self.endInsertRows()
        # Same set of conversations now: move them into the source's order.
        self.layoutAboutToBeChanged.emit()
        old_ids = [r.conversation for r in self._rows]
        position = {r.conversation: i for i, r in enumerate(rows)}
        old_persistent = self.persistentIndexList()
        self._set_rows(rows)
        self.changePersistentIndexList(
            old_persistent,
            [self.index(position[old_ids[p.row()]], 0) for p in old_persistent],
        )
        self.layoutChanged.emit()
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, 0))

    def _set_rows(self, rows: list[ConversationSummary]) -> None:
        self._rows = rows
        self._filter_texts = [self._filter_text(r) for r in rows]

    @staticmethod
    def _filter_text(row: ConversationSummary) -> str:
        return _folded(f"{row.title}\n{row.conversation}\n{row.last_text or ''}")

    def summary(self, row: int) -> ConversationSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, conversation: str) -> int | None:
        """The row of ``conversation``, or ``None`` when it is not listed."""
        for row, summary in enumerate(self._rows):
            if summary.conversation == conversation:
                return row
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, ConversationRole.TITLE):
            return row.title
        if role == ConversationRole.ID:
            return row.conversation
        if role == ConversationRole.PREVIEW:
            return row.last_text
        if role == ConversationRole.TIME:
            return row.last_ts
        if role == ConversationRole.UNREAD:
            return row.unread
        if role == ConversationRole.IS_GROUP:
            return row.is_group
        if role == ConversationRole.SUMMARY:
            return row
        if role == ConversationRole.FILTER_TEXT:
            return self._filter_texts[index.row()]
        if role == ConversationRole.TYPING:
            return self._typing.get(row.conversation, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{isolate(row.title)}\n{row.conversation}")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            parts = [row.title]
            if row.draft:
                parts.append(_draft_prefix() + row.draft)
            if row.unread:
                parts.append(
                    QCoreApplication.translate("ConversationDelegate", "%1 unread").replace(
                        "%1", str(row.unread)
                    )
                )
            if row.last_text:
                parts.append(row.last_text)
            return ", ".join(parts)
        return None


class ConversationFilterModel(QSortFilterProxyModel):
    """Keeps the rows whose title, ID or last message contains every typed word, ignoring
    case and accents (``joao`` finds ``João``). Order is the source's (no sorting)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.archived = False
        """Show the archived chats (the "Archived" section) instead of the others."""

    def set_archived(self, archived: bool) -> None:
        """Show the archived chats (True) or the main list (False)."""
        if archived == self.archived:
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            self.archived = archived
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.archived = archived
            self.invalidateRowsFilter()

    def set_filter(self, text: str) -> None:
        """Filter by ``text`` (the filter box's contents); blank shows everything."""
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            self._words = _folded(text).split()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._words = _folded(text).split()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        summary = model.data(index, ConversationRole.SUMMARY)
        if isinstance(summary, ConversationSummary) and summary.archived != self.archived:
            return False
        if not self._words:
            return True
        text = model.data(index, ConversationRole.FILTER_TEXT)
        return isinstance(text, str) and all(word in text for word in self._words)


# --- painting ----------------------------------------------------------------------------

ROW_HEIGHT = 68
AVATAR = 48
PADDING = 10
MARK = 14
"""Size of the small muted and pinned icons of a row."""


def _you_prefix() -> str:
    return QCoreApplication.translate("ConversationDelegate", "You: ")


def _draft_prefix() -> str:
    return QCoreApplication.translate("ConversationDelegate", "Draft: ")


def _preview(summary: ConversationSummary) -> str:
    """The second line of a row: the last message on one line, or a hint when empty."""
    if summary.last_text is None:
        if summary.is_group:
            return QCoreApplication.translate("ConversationDelegate", "Group created")
        return QCoreApplication.translate("ConversationDelegate", "No messages yet")
    if summary.last_direction == "in" and summary.last_text.startswith('{"system"'):
        return bidi_safe(system_text(summary.last_text))  # "Ana renamed the group to …"
    if not summary.last_text:  # only a deleted message has no text
        return QCoreApplication.translate("ConversationDelegate", "Message deleted")
    return bidi_safe(" ".join(summary.last_text.split()))


class ConversationDelegate(QStyledItemDelegate):
    """Paints a conversation row like Telegram or Signal Desktop: round avatar, bold title
    and time on the first line; the last message (``You:`` for one's own, with ticks) and
    an unread pill on the second. The selected row is filled with the accent colour."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.today: date | None = None
        """Pin "today" for tests and screenshots; ``None`` uses the real date."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(280, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        summary = index.data(ConversationRole.SUMMARY)
        if not isinstance(summary, ConversationSummary):
            return
        c = colours(option.palette)
        rect: QRect = option.rect
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        background = c.sidebar_selected if selected else (c.hover if hovered else c.sidebar)
        bg_rect = QRectF(rect).adjusted(6, 2, -6, -2)
        path = QPainterPath()
        path.addRoundedRect(bg_rect, 10, 10)
        painter.fillRect(rect, c.sidebar)
        painter.fillPath(path, background)

        avatar = QRectF(
            rect.left() + PADDING + 4, rect.top() + (rect.height() - AVATAR) / 2, AVATAR, AVATAR
        )
        paint_avatar(
            painter, avatar, summary.conversation, summary.title, is_group=summary.is_group
        )

        text_left = int(avatar.right()) + 12
        right = rect.right() - PADDING - 6
        base_font = QFont(option.font)
        title_font = QFont(base_font)
        title_font.setBold(True)
        title_font.setPointSizeF(base_font.pointSizeF() * 1.05)
        small_font = QFont(base_font)
        small_font.setPointSizeF(base_font.pointSizeF() * 0.88)
        fm_title = QFontMetrics(title_font)
        fm_small = QFontMetrics(small_font)
        fm_base = QFontMetrics(base_font)

        primary = c.sidebar_selected_text if selected else c.text
        secondary = QColor(c.sidebar_selected_text) if selected else c.muted
        if selected:
            secondary.setAlpha(200)

        line1_y = rect.top() + 13
        line2_y = rect.top() + rect.height() // 2 + 3

        # First line: time at the right, ticks before it for our own last message.
        time_text = "" if summary.last_ts is None else list_time(summary.last_ts, self.today)
        time_w = fm_small.horizontalAdvance(time_text)
        painter.setFont(small_font)
        painter.setPen(secondary)
        time_rect = QRect(right - time_w, line1_y, time_w, fm_title.height())
        painter.drawText(
            time_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, time_text
        )
        title_right = time_rect.left() - 8
        if summary.last_direction == "out" and summary.last_status is not None:
            tick_w = 18
            tick_rect = QRectF(
                time_rect.left() - tick_w - 4, line1_y + (fm_title.height() - 12) / 2, tick_w, 12
            )
            if summary.last_failure is not None:  # refused by the server: "not sent"
                paint_failed(painter, tick_rect, failed_colour(c.dark))
            else:
                self._paint_status(painter, tick_rect, summary.last_status, c, selected, background)
            title_right = int(tick_rect.left()) - 6

        # Title, elided; a muted chat has the muted icon after it.
        painter.setFont(title_font)
        painter.setPen(primary)
        if summary.muted:
            title_right -= MARK + 4
        title = fm_title.elidedText(
            isolate(summary.title), Qt.TextElideMode.ElideRight, title_right - text_left
        )
        if summary.muted:
            mark_x = text_left + fm_title.horizontalAdvance(title) + 4
            mark_y = line1_y + (fm_title.height() - MARK) // 2
            icon("muted", secondary).paint(painter, QRect(mark_x, mark_y, MARK, MARK))
        painter.drawText(
            QRect(text_left, line1_y, title_right - text_left, fm_title.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            title,
        )

        # Second line: unread pill at the right, preview before it.
        preview_right = right
        if summary.unread > 0:
            count = str(summary.unread) if summary.unread < 1000 else "999+"
            painter.setFont(small_font)
            pill_h = fm_small.height() + 4
            pill_w = max(pill_h, fm_small.horizontalAdvance(count) + 12)
            pill = QRectF(right - pill_w, line2_y + (fm_base.height() - pill_h) / 2, pill_w, pill_h)
            pill_path = QPainterPath()
            pill_path.addRoundedRect(pill, pill_h / 2, pill_h / 2)
            pill_colour = c.muted if summary.muted else c.accent  # muted: greyed
            painter.fillPath(pill_path, c.accent_text if selected else pill_colour)
            bold_small = QFont(small_font)
            bold_small.setBold(True)
            painter.setFont(bold_small)
            painter.setPen(c.sidebar_selected if selected else c.accent_text)
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, count)
            preview_right = int(pill.left()) - 8
        elif summary.pinned:
            pin_y = line2_y + (fm_base.height() - MARK) // 2
            icon("pin", secondary).paint(painter, QRect(right - MARK, pin_y, MARK, MARK))
            preview_right = right - MARK - 8

        painter.setFont(base_font)
        available = preview_right - text_left
        x = text_left
        preview = _preview(summary)
        prefix = _you_prefix() if summary.last_direction == "out" else ""
        prefix_colour = c.sidebar_selected_text if selected else c.accent
        if summary.draft and not selected:  # the open chat shows its draft in the field
            preview = bidi_safe(" ".join(summary.draft.split()))
            prefix = _draft_prefix()
            prefix_colour = failed_colour(c.dark)
        typing = index.data(ConversationRole.TYPING)
        if typing:  # as Telegram: who is typing replaces the last message
            preview, prefix = str(typing), ""
            secondary = QColor(c.sidebar_selected_text) if selected else QColor(c.accent)
        if prefix:
            painter.setPen(prefix_colour)
            prefix_w = min(fm_base.horizontalAdvance(prefix), available)
            painter.drawText(
                QRect(x, line2_y, prefix_w, fm_base.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                prefix,
            )
            x += prefix_w
            available -= prefix_w
        painter.setPen(secondary)
        elided = fm_base.elidedText(preview, Qt.TextElideMode.ElideRight, max(0, available))
        painter.drawText(
            QRect(x, line2_y, max(0, available), fm_base.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            elided,
        )
        painter.restore()

    @staticmethod
    def _paint_status(
        painter: QPainter,
        rect: QRectF,
        status: MessageStatus,
        c: Colours,
        selected: bool,
        background: QColor,
    ) -> None:
        if selected:
            colour = c.sidebar_selected_text
        elif status == "read":
            colour = c.tick_read
        else:
            colour = c.muted
        paint_ticks(painter, rect, status, colour, background)


__all__ = [
    "ConversationDelegate",
    "ConversationFilterModel",
    "ConversationListModel",
    "ConversationRole",
]
