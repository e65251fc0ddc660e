"""Person rows for the dialogs' lists: round avatar, name, muted ID, an optional pill.

The group-info and new-group dialogs list people with the same avatars (initials, a colour
stable per ID) as the sidebar. Each item keeps a plain ``text()`` (for filtering, tests and
screen readers); :class:`PersonDelegate` paints it from the roles below instead. A list of
checkable items gets a round check mark at the right, drawn in the accent colour, so it
stays visible in the dark palette too.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QListWidgetItem, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from messenger_gui.ui.avatars import paint_avatar
from messenger_gui.ui.formatting import isolate
from messenger_gui.ui.theme import colours

ID_ROLE: Final = Qt.ItemDataRole.UserRole
"""The person's client ID (also picks the avatar colour)."""
NAME_ROLE: Final = Qt.ItemDataRole.UserRole + 10
"""The name painted on the first line ("You" for oneself)."""
PILL_ROLE: Final = Qt.ItemDataRole.UserRole + 11
"""A short label painted as a pill after the name (``"admin"``), or nothing."""
AVATAR_ROLE: Final = Qt.ItemDataRole.UserRole + 12
"""The name the avatar's initials come from (one's own name on a row saying "You")."""

ROW_HEIGHT: Final = 56
AVATAR: Final = 40
_PADDING: Final = 10
_CHECK: Final = 20

_Index = QModelIndex | QPersistentModelIndex


def person_item(
    client_id: str, name: str, text: str, pill: str = "", avatar_name: str | None = None
) -> QListWidgetItem:
    """A list item for one person; ``text`` is the plain description kept as ``text()``,
    ``avatar_name`` the name for the initials when it is not ``name``."""
    item = QListWidgetItem(text)
    item.setData(ID_ROLE, client_id)
    item.setData(NAME_ROLE, name)
    item.setData(AVATAR_ROLE, avatar_name or name)
    item.setData(PILL_ROLE, pill)
    item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
    return item


class PersonDelegate(QStyledItemDelegate):
    """Paints a person row like the sidebar: hover and selection as rounded tints."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(240, ROW_HEIGHT)

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: _Index,
    ) -> bool:
        """A click anywhere on a checkable row (or Space) ticks it, as in Telegram; the
        check mark is painted at the right, not where the style would look for it."""
        flags = index.flags()
        if not (
            flags & Qt.ItemFlag.ItemIsUserCheckable
            and flags & Qt.ItemFlag.ItemIsEnabled
            and index.data(Qt.ItemDataRole.CheckStateRole) is not None
        ):
            return False
        kind = event.type()
        toggle = False
        if kind == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            toggle = event.button() == Qt.MouseButton.LeftButton and option.rect.contains(
                event.position().toPoint()
            )
        elif kind == QEvent.Type.MouseButtonDblClick:
            return True  # the two clicks already ticked and unticked it
        elif kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            toggle = event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select)
        if not toggle:
            return False
        state = index.data(Qt.ItemDataRole.CheckStateRole)
        checked = state in (Qt.CheckState.Checked, Qt.CheckState.Checked.value)
        new_state = Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked
        return bool(model.setData(index, new_state, Qt.ItemDataRole.CheckStateRole))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        c = colours(option.palette)
        rect: QRect = option.rect
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        enabled = bool(state & QStyle.StateFlag.State_Enabled)
        # A QListWidgetItem is user-checkable by default; only rows given a state are.
        check_state = index.data(Qt.ItemDataRole.CheckStateRole)
        checkable = check_state is not None and bool(
            index.flags() & Qt.ItemFlag.ItemIsUserCheckable
        )
        checked = check_state in (Qt.CheckState.Checked, Qt.CheckState.Checked.value)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if not enabled:
            painter.setOpacity(0.55)
        # A checklist shows the choice by its marks; only hover is tinted there.
        background: QColor | None = None
        if selected and not checkable:
            background = c.selection
        elif hovered or (selected and checkable):
            background = c.hover
        if background is not None:
            path = QPainterPath()
            path.addRoundedRect(QRectF(rect).adjusted(2, 1, -2, -1), 10, 10)
            painter.fillPath(path, background)

        client_id = str(index.data(ID_ROLE) or "")
        name = str(index.data(NAME_ROLE) or index.data(Qt.ItemDataRole.DisplayRole) or "")
        pill = str(index.data(PILL_ROLE) or "")
        avatar = QRectF(
            rect.left() + _PADDING, rect.top() + (rect.height() - AVATAR) / 2, AVATAR, AVATAR
        )
        paint_avatar(painter, avatar, client_id, str(index.data(AVATAR_ROLE) or name))
        name = isolate(name)  # drawn as plain text; its bidi controls kept inside

        right = rect.right() - _PADDING
        if checkable:
            check = QRectF(
                right - _CHECK, rect.top() + (rect.height() - _CHECK) / 2, _CHECK, _CHECK
            )
            paint_check(painter, check, checked, c.accent, c.muted, c.accent_text)
            right = int(check.left()) - 10

        text_left = int(avatar.right()) + 12
        name_font = QFont(option.font)
        name_font.setBold(True)
        small_font = QFont(option.font)
        small_font.setPointSizeF(option.font.pointSizeF() * 0.9)
        fm_name = QFontMetrics(name_font)
        fm_small = QFontMetrics(small_font)
        line1 = QRect(text_left, rect.top() + 9, right - text_left, fm_name.height())
        line2 = QRect(text_left, line1.bottom() + 3, right - text_left, fm_small.height())

        pill_w = 0
        if pill:
            pill_w = fm_small.horizontalAdvance(pill) + 14
        name_w = min(
            fm_name.horizontalAdvance(name) + 2, line1.width() - (pill_w + 8 if pill else 0)
        )
        painter.setFont(name_font)
        painter.setPen(c.text)
        painter.drawText(
            QRect(line1.left(), line1.top(), max(0, name_w), line1.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_name.elidedText(name, Qt.TextElideMode.ElideRight, max(0, name_w)),
        )
        if pill:
            pill_h = fm_small.height() + 2
            pill_rect = QRectF(
                line1.left() + name_w + 8,
                line1.top() + (line1.height() - pill_h) / 2,
                pill_w,
                pill_h,
            )
            tint = QColor(c.accent)
            tint.setAlpha(40 if not c.dark else 60)
            pill_path = QPainterPath()
            pill_path.addRoundedRect(pill_rect, pill_h / 2, pill_h / 2)
            painter.fillPath(pill_path, tint)
            bold_small = QFont(small_font)
            bold_small.setBold(True)
            painter.setFont(bold_small)
            painter.setPen(c.accent)
            painter.drawText(pill_rect, Qt.AlignmentFlag.AlignCenter, pill)

        painter.setFont(small_font)
        painter.setPen(c.muted)
        painter.drawText(
            line2,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_small.elidedText(client_id, Qt.TextElideMode.ElideRight, line2.width()),
        )
        painter.restore()


def paint_check(
    painter: QPainter,
    rect: QRectF,
    checked: bool,
    accent: QColor,
    outline: QColor,
    mark: QColor,
) -> None:
    """A round check box: an outlined circle, or a filled accent circle with a tick."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if checked:
        path = QPainterPath()
        path.addEllipse(rect)
        painter.fillPath(path, accent)
        pen = QPen(mark, max(1.6, rect.width() / 9))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        w, x, y = rect.width(), rect.left(), rect.top()
        painter.drawPolyline(
            [
                QPointF(x + w * 0.28, y + w * 0.52),
                QPointF(x + w * 0.44, y + w * 0.67),
                QPointF(x + w * 0.72, y + w * 0.36),
            ]
        )
    else:
        painter.setPen(QPen(outline, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect.adjusted(1, 1, -1, -1))
    painter.restore()
