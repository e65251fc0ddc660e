"""Round avatars with initials: painted, never loaded, in a colour stable per ID."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap

from messenger_gui.ui.theme import avatar_colours


def initials(title: str) -> str:
    """Up to two letters for an avatar: first letters of the first and last word
    (``"Ana Maria Souza"`` → ``"AS"``), or the first two characters of one word."""
    words = [w for w in title.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        stripped = title.strip()
        return stripped[:1].upper() or "?"
    if len(words) == 1:
        return words[0][:1].upper()
    return (words[0][:1] + words[-1][:1]).upper()


def paint_avatar(
    painter: QPainter, rect: QRectF, identifier: str, title: str, *, is_group: bool = False
) -> None:
    """Paint the avatar of ``identifier`` into ``rect`` (a square).

    Contacts are circles; groups are rounded squares with a small people mark, so the two
    are told apart at a glance. A contact's colour follows its ID; a group's follows its
    name, so the New group dialog, which has no ID yet, shows the colour the group gets.
    The painter's state is restored afterwards.
    """
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    top, bottom = avatar_colours(title if is_group else identifier)
    gradient = QLinearGradient(rect.topLeft(), rect.bottomLeft())
    gradient.setColorAt(0.0, top)
    gradient.setColorAt(1.0, bottom)
    path = QPainterPath()
    if is_group:
        radius = rect.width() * 0.3
        path.addRoundedRect(rect, radius, radius)
    else:
        path.addEllipse(rect)
    painter.fillPath(path, gradient)
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(max(6, round(rect.height() * 0.38)))
    painter.setFont(font)
    painter.setPen(QPen(Qt.GlobalColor.white))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, initials(title))
    painter.restore()


def avatar_pixmap(
    identifier: str, title: str, size: int, ratio: float = 1.0, *, is_group: bool = False
) -> QPixmap:
    """The avatar as a transparent square (``size`` wide) pixmap for a ``QLabel`` (dialog
    headers); ``ratio`` is the widget's ``devicePixelRatioF()`` so it stays sharp."""
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        paint_avatar(painter, QRectF(0, 0, size, size), identifier, title, is_group=is_group)
    finally:
        painter.end()
    return pixmap
