"""History search (Ctrl+F): type a word or part of one, pick a result, jump to it."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from PySide6.QtCore import (
    QDateTime,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.storage import SearchHit
from messenger_gui.ui.avatars import paint_avatar
from messenger_gui.ui.formatting import bidi_safe, isolate, plain_tooltip
from messenger_gui.ui.resources import icon
from messenger_gui.ui.theme import colours

_HIT_ROLE: Final = Qt.ItemDataRole.UserRole
_HTML_ROLE: Final = Qt.ItemDataRole.UserRole + 1
_TITLE_ROLE: Final = Qt.ItemDataRole.UserRole + 2
_AVATAR: Final = 40
_PADDING: Final = 10
_CONTEXT_CHARS: Final = 60
"""Characters kept before the match in a long message, so the match is visible."""
_DEBOUNCE_MS: Final = 150
RESULT_LIMIT: Final = 100
"""Most results shown; the newest ones win."""
_MUTED: Final = "#muted"
"""Stands for the secondary text colour in a result's HTML; the delegate substitutes the
colour that reads well on the row's background (selected or not)."""


def _snippet_html(hit: SearchHit, highlight: str) -> str:
    """The hit's text as HTML on one line, the match highlighted and kept in view."""
    text = " ".join(hit.text.split())
    same = hit.text == text
    text = bidi_safe(text)  # one for one: the match's offsets still hold
    start, end = hit.match_start, hit.match_end
    if start is not None and end is not None and same:
        prefix = ""
        if start > _CONTEXT_CHARS:
            prefix, cut = "…", start - _CONTEXT_CHARS // 2
            text, start, end = text[cut:], start - cut, end - cut
        return (
            prefix
            + html.escape(text[:start])
            + f'<span style="background-color:{highlight};font-weight:600">'
            + html.escape(text[start:end])
            + "</span>"
            + html.escape(text[end:])
        )
    return html.escape(text)


def format_when(ts_ms: int, locale: QLocale | None = None) -> str:
    """A short date for a result: the time today, else the date."""
    locale = QLocale() if locale is None else locale
    when = QDateTime.fromMSecsSinceEpoch(ts_ms).toLocalTime()
    if when.date() == QDateTime.currentDateTime().date():
        return locale.toString(when.time(), QLocale.FormatType.ShortFormat)
    if when.date().year() == datetime.now().year:
        return locale.toString(when.date(), "d MMM")
    return locale.toString(when.date(), QLocale.FormatType.ShortFormat)


class _ResultDelegate(QStyledItemDelegate):
    """A result like a sidebar row: the conversation's avatar, then its title and the date
    on the first line and the text with the match marked on the second."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        c = colours(option.palette)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        rect = option.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = c.sidebar_selected if selected else (c.hover if hovered else None)
        if background is not None:
            path = QPainterPath()
            path.addRoundedRect(QRectF(rect).adjusted(2, 1, -2, -1), 10, 10)
            painter.fillPath(path, background)
        hit = index.data(_HIT_ROLE)
        if isinstance(hit, SearchHit):
            avatar = QRectF(
                rect.left() + _PADDING, rect.top() + (rect.height() - _AVATAR) / 2, _AVATAR, _AVATAR
            )
            title = str(index.data(_TITLE_ROLE) or "")
            paint_avatar(painter, avatar, hit.conversation, title, is_group=hit.is_group)
        text_left = _PADDING + _AVATAR + 4
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(8)
        muted = QColor(c.sidebar_selected_text) if selected else QColor(c.muted)
        if selected:
            muted.setAlpha(210)
        document.setHtml(
            str(index.data(_HTML_ROLE)).replace(_MUTED, muted.name(QColor.NameFormat.HexArgb))
        )
        width = rect.width() - text_left - _PADDING + 8
        document.setTextWidth(width)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(
            QPalette.ColorRole.Text, c.sidebar_selected_text if selected else c.text
        )
        top = rect.top() + (rect.height() - document.size().height()) / 2
        painter.translate(rect.left() + text_left, top)
        painter.setClipRect(QRectF(0, 0, width, rect.height()))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        height = option.fontMetrics.lineSpacing()
        return QSize(200, max(_AVATAR + 16, int(height * 2 + 26)))


class SearchDialog(QDialog):
    """Search every conversation's history as the user types.

    Args:
        search: runs a query on the local history, at most so many results, newest
            first (``ClientStore.search``).
        title_of: a conversation's title (``ClientStore.conversation_title``).

    Activating a result emits :attr:`result_activated` and closes the dialog; the
    controller then shows the message in its chat.
    """

    result_activated = Signal(int, str, bool)
    """(local_id, conversation, is_group)"""

    def __init__(
        self,
        search: Callable[[str, int], Sequence[SearchHit]],
        title_of: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._search = search
        self._title_of = title_of
        self.setWindowTitle(self.tr("Search messages"))
        self.setMinimumSize(540, 460)
        self.query_edit = QLineEdit()
        self.query_edit.setObjectName("searchBox")
        self.query_edit.setPlaceholderText(self.tr("Search all conversations"))
        self.query_edit.setClearButtonEnabled(True)
        self.query_edit.addAction(
            icon("search", colours(self.palette()).muted), QLineEdit.ActionPosition.LeadingPosition
        )
        self.query_edit.installEventFilter(self)
        self.results = QListWidget()
        self.results.setObjectName("searchResults")
        self.results.setItemDelegate(_ResultDelegate(self.results))
        self.results.setUniformItemSizes(True)
        self.results.setMouseTracking(True)
        self.status_label = QLabel(self.tr("Type a word or part of one."))
        self.status_label.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 10)
        layout.setSpacing(8)
        layout.addWidget(self.query_edit)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_DEBOUNCE_MS)
        self._timer.timeout.connect(self.run_search)
        self.query_edit.textChanged.connect(lambda _text: self._timer.start())
        self.query_edit.returnPressed.connect(self._enter)
        self.results.itemActivated.connect(self._activate)

    def hits(self) -> list[SearchHit]:
        """The results shown, in order."""
        return [self.results.item(i).data(_HIT_ROLE) for i in range(self.results.count())]

    def run_search(self) -> None:
        """Search now for the query box's text (normally after a short typing pause)."""
        self._timer.stop()
        query = self.query_edit.text().strip()
        self.results.clear()
        if not query:
            self.status_label.setText(self.tr("Type a word or part of one."))
            return
        hits = self._search(query, RESULT_LIMIT)
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        highlight.setAlpha(90)
        colour = highlight.name(highlight.NameFormat.HexArgb)
        titles: dict[str, str] = {}
        for hit in hits:
            title = titles.get(hit.conversation)
            if title is None:
                title = titles[hit.conversation] = self._title_of(hit.conversation)
            who = ""
            if hit.is_group:
                who = self.tr("You") if hit.direction == "out" else (hit.sender_name or "")
                who = f" · {html.escape(isolate(who))}" if who else ""
            item = QListWidgetItem()
            item.setData(_HIT_ROLE, hit)
            item.setData(_TITLE_ROLE, title)
            item.setData(Qt.ItemDataRole.ToolTipRole, plain_tooltip(bidi_safe(hit.text[:500])))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{title}: {hit.text[:200]}")
            item.setData(
                _HTML_ROLE,
                '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
                f"<td><b>{html.escape(isolate(title))}</b>{who}</td>"
                f'<td align="right"><span style="color:{_MUTED}">'
                f"{html.escape(format_when(hit.ts))}</span></td>"
                f'</tr></table><div style="white-space:nowrap">{_snippet_html(hit, colour)}</div>',
            )
            self.results.addItem(item)
        if len(hits) >= RESULT_LIMIT:
            self.results.setCurrentRow(0)
            self.status_label.setText(
                self.tr("Many messages match: showing the newest %1. Type more to narrow.").replace(
                    "%1", str(RESULT_LIMIT)
                )
            )
        elif hits:
            self.results.setCurrentRow(0)
            self.status_label.setText(self.tr("%n message(s) found", "", len(hits)))
        else:
            self.status_label.setText(self.tr("No messages found."))

    def _enter(self) -> None:
        if self._timer.isActive() or self.results.count() == 0:
            self.run_search()
            return
        item = self.results.currentItem()
        if item is not None:
            self._activate(item)

    def activate_row(self, row: int) -> None:
        """Open result ``row`` (what double-clicking or Enter does)."""
        item = self.results.item(row)
        if item is not None:
            self._activate(item)

    def _activate(self, item: QListWidgetItem) -> None:
        hit: SearchHit = item.data(_HIT_ROLE)
        self.result_activated.emit(hit.local_id, hit.conversation, hit.is_group)
        self.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down in the query box move through the results, like a browser's find bar."""
        if (
            watched is self.query_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down)
            and self.results.count()
        ):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
            self.results.setCurrentRow(row)
            return True
        return super().eventFilter(watched, event)
