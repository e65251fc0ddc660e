"""Delivery marks drawn as vector strokes: clock (queued), ✓ (sent), ✓✓ (delivered/read),
and a red "!" disc for a message the server refused (:func:`paint_failed`)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from messenger_gui.storage import MessageStatus

TICK_WIDTH = 18
"""Width the marks need at the default size; callers reserve it beside the time."""

FAILED_LIGHT = QColor("#e0393e")
FAILED_DARK = QColor("#ff6b6b")


def failed_colour(dark: bool) -> QColor:
    """The red of "not sent": the marker and its words, readable on either bubble."""
    return QColor(FAILED_DARK if dark else FAILED_LIGHT)


def paint_failed(painter: QPainter, rect: QRectF, colour: QColor) -> None:
    """Paint the "not sent" mark, a disc of ``colour`` with a white "!", right-aligned and
    vertically centred in ``rect`` (the place of the ticks, about 18 x 12 px)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    d = min(rect.height(), 14.0)
    centre = QPointF(rect.right() - d / 2 - 0.5, rect.center().y())
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(centre, d / 2, d / 2)
    pen = QPen(QColor("#ffffff"), 1.8)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawLine(
        QPointF(centre.x(), centre.y() - d * 0.27), QPointF(centre.x(), centre.y() + d * 0.06)
    )
    painter.drawPoint(QPointF(centre.x(), centre.y() + d * 0.26))
    painter.restore()


def paint_ticks(
    painter: QPainter,
    rect: QRectF,
    status: MessageStatus,
    colour: QColor,
    knockout: QColor | None = None,
) -> None:
    """Paint the mark for ``status`` right-aligned and vertically centred in ``rect``
    (about 18 x 12 px). ``received`` paints nothing.

    Delivered and read differ in shape, not only in colour: delivered is two outlined
    checks; read is a filled pill of ``colour`` with the two checks cut out of it in
    ``knockout`` (the colour behind the mark: the bubble, the list row), so they are told
    apart in light and dark mode and by people who do not see the hue.
    """
    if status == "received":
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(colour, 1.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    h = min(rect.height(), 12.0)
    top = rect.center().y() - h / 2
    right = rect.right()
    if status == "queued":
        r = h / 2 - 0.5
        centre = QPointF(right - r - 1, top + h / 2)
        painter.drawEllipse(centre, r, r)
        hands = QPainterPath(QPointF(centre.x(), centre.y() - r * 0.55))
        hands.lineTo(centre)
        hands.lineTo(centre.x() + r * 0.45, centre.y() + r * 0.3)
        painter.drawPath(hands)
    elif status == "read":
        pill = QRectF(right - READ_PILL_WIDTH, top - 1, READ_PILL_WIDTH, h + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        pen.setColor(knockout if knockout is not None else QColor("#ffffff"))
        pen.setWidthF(1.4)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inner = pill.adjusted(4.5, 3, -4, -3)
        painter.drawPath(_checks(inner.left(), inner.top(), inner.width(), inner.height()))
    else:
        double = status == "delivered"
        width = 16.5 if double else 11.0
        painter.drawPath(_checks(right - width, top, width, h, double=double))
    painter.restore()


READ_PILL_WIDTH = 20.0
"""The width of the read mark's pill (it overhangs :data:`TICK_WIDTH` by 2 px to the left)."""


def _checks(
    left: float, top: float, width: float, height: float, *, double: bool = True
) -> QPainterPath:
    """One check (short stroke down to the right, long stroke up to the right) or two
    overlapping ones, in the box ``left, top, width, height``."""
    unit = width / (16.5 if double else 11.0)
    path = QPainterPath()
    path.moveTo(left + 0.5 * unit, top + height * 0.5)
    path.lineTo(left + 4.2 * unit, top + height * 0.9)
    path.lineTo(left + 11.0 * unit, top + height * 0.1)
    if double:
        # The second check overlaps the first: only the tip of its short stroke shows.
        path.moveTo(left + 7.4 * unit, top + height * 0.72)
        path.lineTo(left + 9.7 * unit, top + height * 0.9)
        path.lineTo(left + 16.5 * unit, top + height * 0.1)
    return path
