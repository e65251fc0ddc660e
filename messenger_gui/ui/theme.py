"""The app's look: Fusion style, a light and a dark palette, colours for bubbles and avatars.

:class:`Theme` follows the system colour scheme (``QStyleHints.colorScheme()``) and re-applies
the palette when it changes; :meth:`Theme.force` pins light or dark (screenshots, tests, a
future setting). Painting code never asks the theme object: it calls :func:`colours` with the
palette it paints with, so a delegate needs no reference to the app.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Colours:
    """Every colour the custom painting uses, for one scheme."""

    dark: bool
    window: QColor
    sidebar: QColor
    text: QColor
    muted: QColor
    accent: QColor
    accent_text: QColor
    chat_background: QColor
    bubble_in: QColor
    bubble_out: QColor
    bubble_in_text: QColor
    bubble_out_text: QColor
    meta_in: QColor
    """Time under an incoming bubble's text."""
    meta_out: QColor
    """Time and sent/delivered ticks in an outgoing bubble."""
    tick_read: QColor
    link_in: QColor
    link_out: QColor
    separator: QColor
    """Background of the day-separator pill (drawn over the chat background)."""
    separator_text: QColor
    selection: QColor
    hover: QColor
    sidebar_selected: QColor
    sidebar_selected_text: QColor
    border: QColor
    badge_muted: QColor
    highlight: QColor
    """Brief flash behind a message the user jumped to."""
    input_background: QColor


ACCENT = QColor("#3390ec")

LIGHT = Colours(
    dark=False,
    window=QColor("#ffffff"),
    sidebar=QColor("#ffffff"),
    text=QColor("#1c1f23"),
    muted=QColor("#707984"),
    accent=ACCENT,
    accent_text=QColor("#ffffff"),
    chat_background=QColor("#e7ecf1"),
    bubble_in=QColor("#ffffff"),
    bubble_out=QColor("#dbeeff"),
    bubble_in_text=QColor("#1c1f23"),
    bubble_out_text=QColor("#14212e"),
    meta_in=QColor("#8a939c"),
    meta_out=QColor("#5f86ad"),
    tick_read=QColor("#2f8cec"),
    link_in=QColor("#2a7ad6"),
    link_out=QColor("#1f6cc4"),
    separator=QColor(40, 60, 80, 90),
    separator_text=QColor("#ffffff"),
    selection=QColor(51, 144, 236, 46),
    hover=QColor("#f1f3f5"),
    sidebar_selected=ACCENT,
    sidebar_selected_text=QColor("#ffffff"),
    border=QColor("#dfe3e7"),
    badge_muted=QColor("#aab2ba"),
    highlight=QColor(255, 214, 10, 90),
    input_background=QColor("#f1f3f5"),
)

DARK = Colours(
    dark=True,
    window=QColor("#17212b"),
    sidebar=QColor("#17212b"),
    text=QColor("#e9edf1"),
    muted=QColor("#7f8c99"),
    accent=QColor("#4ea4f6"),
    accent_text=QColor("#ffffff"),
    chat_background=QColor("#0e1621"),
    bubble_in=QColor("#182533"),
    bubble_out=QColor("#2b5278"),
    bubble_in_text=QColor("#eef2f6"),
    bubble_out_text=QColor("#ffffff"),
    meta_in=QColor("#6d7f8f"),
    meta_out=QColor("#8fb4d6"),
    tick_read=QColor("#6ec3ff"),
    link_in=QColor("#6ab3f3"),
    link_out=QColor("#9fd3ff"),
    separator=QColor(30, 44, 58, 200),
    separator_text=QColor("#dfe7ee"),
    selection=QColor(78, 164, 246, 56),
    hover=QColor("#202b36"),
    sidebar_selected=QColor("#2b5278"),
    sidebar_selected_text=QColor("#ffffff"),
    border=QColor("#0b1118"),
    badge_muted=QColor("#3e4c59"),
    highlight=QColor(255, 214, 10, 60),
    input_background=QColor("#242f3d"),
)

AVATAR_COLOURS: tuple[tuple[QColor, QColor], ...] = (
    # (top, bottom) of a soft vertical gradient; the same hue names the sender in groups.
    (QColor("#ff885e"), QColor("#ff516a")),  # red
    (QColor("#ffcd6a"), QColor("#ffa85c")),  # orange
    (QColor("#82b1ff"), QColor("#665fff")),  # violet
    (QColor("#a0de7e"), QColor("#54cb68")),  # green
    (QColor("#53edd6"), QColor("#28c9b7")),  # cyan
    (QColor("#72d5fd"), QColor("#2a9ef1")),  # blue
    (QColor("#e0a2f3"), QColor("#d669ed")),  # pink
)
"""Pleasant avatar colours, each of its own hue (Telegram's seven: an amber beside the orange
made two people look alike); an ID always maps to the same one (:func:`avatar_index`)."""

_NAME_COLOURS_LIGHT = (
    "#e3524a",
    "#d98a1f",
    "#6d5ce8",
    "#3ba74e",
    "#1ea394",
    "#2a8ee0",
    "#bd56d8",
)
_NAME_COLOURS_DARK = (
    "#ff8a7a",
    "#ffc46a",
    "#a99bff",
    "#8ddb77",
    "#5fe0cd",
    "#71c4ff",
    "#e59bf5",
)


def avatar_index(identifier: str) -> int:
    """A stable index into :data:`AVATAR_COLOURS` for an ID (same on every run and machine,
    unlike ``hash()``)."""
    return zlib.crc32(identifier.encode("utf-8")) % len(AVATAR_COLOURS)


def avatar_colours(identifier: str) -> tuple[QColor, QColor]:
    """The gradient stops of the avatar of ``identifier``."""
    return AVATAR_COLOURS[avatar_index(identifier)]


def name_colour(identifier: str, dark: bool) -> QColor:
    """The colour of a sender's name above their group messages: their avatar's hue,
    readable on an incoming bubble of the given scheme."""
    table = _NAME_COLOURS_DARK if dark else _NAME_COLOURS_LIGHT
    return QColor(table[avatar_index(identifier)])


def is_dark_palette(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def colours(palette: QPalette | None = None) -> Colours:
    """The colour set matching ``palette`` (the application palette when omitted)."""
    if palette is None:
        palette = QGuiApplication.palette()
    return DARK if is_dark_palette(palette) else LIGHT


def build_palette(c: Colours) -> QPalette:
    """A Fusion palette for the scheme; disabled text is dimmed."""
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, c.window)
    p.setColor(role.WindowText, c.text)
    p.setColor(role.Base, c.window)
    p.setColor(role.AlternateBase, c.hover)
    p.setColor(role.Text, c.text)
    p.setColor(role.PlaceholderText, c.muted)
    p.setColor(role.Button, c.input_background if c.dark else QColor("#f4f6f8"))
    p.setColor(role.ButtonText, c.text)
    p.setColor(role.BrightText, QColor("#ff5f5f"))
    p.setColor(role.Highlight, c.accent)
    p.setColor(role.HighlightedText, c.accent_text)
    p.setColor(role.Link, c.link_in)
    p.setColor(role.LinkVisited, c.link_in)
    p.setColor(role.ToolTipBase, c.window)
    p.setColor(role.ToolTipText, c.text)
    p.setColor(role.Light, c.window.lighter(130))
    p.setColor(role.Midlight, c.hover)
    p.setColor(role.Mid, c.border)
    p.setColor(role.Dark, c.border.darker(120))
    p.setColor(role.Shadow, QColor(0, 0, 0, 80))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, c.muted)
    p.setColor(disabled, role.Base, c.hover)
    return p


def _rgba(colour: QColor, alpha: float) -> str:
    """``colour`` with ``alpha`` (0..1) as a style-sheet ``rgba()``."""
    return f"rgba({colour.red()}, {colour.green()}, {colour.blue()}, {round(alpha * 255)})"


DANGER = QColor("#e5484d")
"""Destructive actions (remove a member, leave a group) and error lines."""


def style_sheet(c: Colours) -> str:
    """A style sheet for what a palette cannot say (rounded inputs and buttons, thin scroll
    bars, flat tool buttons). Object names and the ``variant`` property (``"primary"``,
    ``"danger"``) are set by the widgets in this package; a plain push button is the flat,
    outlined secondary kind."""
    selection = c.accent.name()
    outline = _rgba(c.muted, 0.45)
    danger_tint = _rgba(DANGER, 0.12)
    return f"""
QToolTip {{ color: {c.text.name()}; background: {c.window.name()};
    border: 1px solid {c.border.name()}; padding: 4px; }}
QSplitter::handle {{ background: {c.border.name()}; }}
QPushButton {{ background: transparent; color: {c.accent.name()}; border: 1px solid {outline};
    border-radius: 8px; padding: 6px 18px; font-weight: 600; }}
QPushButton:hover {{ background: {c.hover.name()}; }}
QPushButton:pressed {{ background: {_rgba(c.accent, 0.16)}; }}
QPushButton:focus {{ border: 1px solid {c.accent.name()}; }}
QPushButton:disabled {{ color: {c.muted.name()}; border: 1px solid {_rgba(c.muted, 0.25)}; }}
QPushButton[variant="primary"], QMessageBox QPushButton:default {{
    background: {c.accent.name()}; color: {c.accent_text.name()};
    border: 1px solid {c.accent.name()}; }}
QPushButton[variant="primary"]:hover, QMessageBox QPushButton:default:hover {{
    background: {c.accent.lighter(110).name()}; border: 1px solid {c.accent.lighter(110).name()}; }}
QPushButton[variant="primary"]:pressed {{ background: {c.accent.darker(110).name()}; }}
QPushButton[variant="primary"]:focus {{ border: 1px solid {c.accent.darker(125).name()}; }}
QPushButton[variant="primary"]:disabled {{ background: {_rgba(c.accent, 0.25 if c.dark else 0.35)};
    border: 1px solid transparent; color: {_rgba(c.accent_text, 0.55 if c.dark else 0.85)}; }}
QPushButton#archiveButton {{ border: none; border-radius: 8px; margin: 0 6px 2px 6px;
    padding: 7px 12px; text-align: left; color: {c.muted.name()}; font-weight: 600; }}
QPushButton#archiveButton:hover {{ background: {c.hover.name()}; color: {c.text.name()}; }}
QPushButton#archiveButton:focus {{ border: 1px solid {c.accent.name()}; }}
QPushButton[variant="danger"] {{ color: {DANGER.name()}; border: 1px solid {_rgba(DANGER, 0.5)}; }}
QPushButton[variant="danger"]:hover {{ background: {danger_tint}; }}
QPushButton[variant="danger"]:disabled {{ color: {_rgba(DANGER, 0.4)};
    border: 1px solid {_rgba(DANGER, 0.2)}; }}
QLineEdit, QComboBox#picker {{ background: {c.input_background.name()}; color: {c.text.name()};
    border: 1px solid transparent; border-radius: 8px; padding: 6px 10px;
    selection-background-color: {selection}; selection-color: {c.accent_text.name()}; }}
QLineEdit:focus, QComboBox#picker:focus {{ border: 1px solid {c.accent.name()};
    background: {c.window.name()}; }}
QPlainTextEdit#groupDescription {{ background: {c.input_background.name()};
    color: {c.text.name()}; border: 1px solid transparent; border-radius: 8px; padding: 4px 6px;
    selection-background-color: {selection}; selection-color: {c.accent_text.name()}; }}
QPlainTextEdit#groupDescription:focus {{ border: 1px solid {c.accent.name()};
    background: {c.window.name()}; }}
QLineEdit:read-only {{ color: {c.muted.name()}; }}
QLineEdit:disabled, QComboBox#picker:disabled {{ color: {c.muted.name()}; }}
QComboBox#picker {{ padding-right: 28px; }}
QComboBox#picker::drop-down {{ border: none; width: 0; }}
QComboBox#picker QAbstractItemView {{ background: {c.window.name()}; color: {c.text.name()};
    border: 1px solid {outline}; selection-background-color: {c.hover.name()};
    selection-color: {c.text.name()}; padding: 4px; }}
QLineEdit#filterBox {{ background: {c.input_background.name()}; border: 1px solid transparent;
    border-radius: 16px; padding: 5px 12px; selection-background-color: {selection}; }}
QLineEdit#filterBox:focus {{ border: 1px solid {c.accent.name()};
    background: {c.window.name()}; }}
QLineEdit#searchBox {{ border-radius: 16px; padding: 6px 8px; }}
QLineEdit#idField {{ font-size: 12pt; letter-spacing: 1px; padding: 7px 12px; }}
QPlainTextEdit#composerInput {{ background: transparent; border: none;
    selection-background-color: {selection}; }}
QFrame#composer {{ background: {c.window.name()}; border-top: 1px solid {c.border.name()}; }}
QFrame#composerField {{ background: {c.input_background.name()}; border-radius: 18px; }}
QFrame#chatHeader, QFrame#sidebarHeader {{ background: {c.window.name()};
    border-bottom: 1px solid {c.border.name()}; }}
QFrame#card {{ background: {c.input_background.name()}; border-radius: 12px; }}
QFrame#card QLabel {{ background: transparent; }}
QFrame#dialogHeader {{ border-bottom: 1px solid {_rgba(c.muted, 0.2)}; }}
QWidget#sidebar {{ background: {c.sidebar.name()}; }}
QLabel#headerTitle {{ font-weight: 600; }}
QLabel#headerSubtitle, QLabel#muted {{ color: {c.muted.name()}; }}
QLabel#headerSubtitle[live="true"] {{ color: {c.accent.name()}; }}
QLabel#sectionLabel {{ color: {c.accent.name()}; font-weight: 600; }}
QLabel#errorLabel {{ color: {DANGER.name()}; }}
QLabel#successLabel {{ color: #3ba74e; font-weight: 600; }}
QLabel#composerCounter {{ color: {c.muted.name()}; }}
QLabel#composerCounter[over="true"] {{ color: {DANGER.name()}; font-weight: 600; }}
QLabel#composerReason {{ color: {c.muted.name()}; padding: 12px; }}
QFrame#composerActionBar {{ background: {c.input_background.name()}; border: none;
    border-left: 3px solid {c.accent.name()}; border-radius: 4px; }}
QFrame#composerActionBar QLabel {{ background: transparent; }}
QLabel#composerActionTitle {{ color: {c.accent.name()}; font-weight: 600; }}
QLabel#composerActionPreview, QLabel#selectionCount {{ color: {c.muted.name()}; }}
QFrame#selectionBar {{ background: {c.window.name()}; border-top: 1px solid {c.border.name()}; }}
QToolButton {{ border: none; border-radius: 16px; padding: 6px; }}
QToolButton:hover {{ background: {c.hover.name()}; }}
QToolButton:pressed {{ background: {c.border.name()}; }}
QToolButton#sendButton {{ background: {c.accent.name()}; border-radius: 18px; }}
QToolButton#sendButton:hover {{ background: {c.accent.lighter(110).name()}; }}
QToolButton#sendButton:disabled {{ background: {c.badge_muted.name()}; }}
QPushButton#emptyStateButton {{ background: {c.accent.name()}; color: {c.accent_text.name()};
    border: none; border-radius: 10px; padding: 8px 18px; font-weight: 600; }}
QPushButton#emptyStateButton:hover {{ background: {c.accent.lighter(110).name()}; }}
QPushButton#secondaryButton {{ background: {c.window.name()}; color: {c.accent.name()};
    border: 1px solid {c.accent.name()}; border-radius: 10px; padding: 7px 18px;
    font-weight: 600; }}
QPushButton#secondaryButton:hover {{ background: {c.hover.name()}; }}
QListView {{ border: none; outline: none; }}
QProgressBar {{ background: {c.input_background.name()}; border: none; border-radius: 2px; }}
QProgressBar::chunk {{ background: {c.accent.name()}; border-radius: 2px; }}
QScrollBar:vertical {{ background: transparent; width: 8px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {c.muted.name()}; border-radius: 2px;
    min-height: 32px; }}
QScrollBar::handle:vertical:hover {{ background: {c.text.name()}; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: none; }}
QStatusBar {{ color: {c.muted.name()}; }}
QMenu {{ padding: 4px; }}
QMenu::item {{ padding: 6px 24px 6px 12px; border-radius: 4px; }}
QMenu::item:selected {{ background: {c.hover.name()}; color: {c.text.name()}; }}
"""


def set_variant(widget: QWidget, variant: str) -> None:
    """Mark a push button ``"primary"`` or ``"danger"`` (see :func:`style_sheet`), even one
    already shown or polished (a message box's button)."""
    widget.setProperty("variant", variant)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


class MessengerStyle(QProxyStyle):
    """Fusion with check boxes that read in both schemes: Fusion outlines an unchecked box
    in a darker shade of the window colour, which all but disappears on the dark palette.
    Here the box is outlined in the muted text colour and filled with the accent when on."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element in (
            QStyle.PrimitiveElement.PE_IndicatorCheckBox,
            QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
        ):
            paint_check_box(painter, QRectF(option.rect), option.state, option.palette)
            return
        super().drawPrimitive(element, option, painter, widget)


def paint_check_box(
    painter: QPainter, rect: QRectF, state: QStyle.StateFlag, palette: QPalette
) -> None:
    """A rounded check box: outlined when off, accent with a white tick when on."""
    side = min(rect.width(), rect.height()) - 2
    box = QRectF(0, 0, side, side)
    box.moveCenter(rect.center())
    on = bool(state & QStyle.StateFlag.State_On)
    partial = bool(state & QStyle.StateFlag.State_NoChange)
    enabled = bool(state & QStyle.StateFlag.State_Enabled)
    accent = palette.color(QPalette.ColorRole.Highlight)
    mark = palette.color(QPalette.ColorRole.HighlightedText)
    outline = palette.color(QPalette.ColorRole.PlaceholderText)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if not enabled:
        painter.setOpacity(0.5)
    path = QPainterPath()
    path.addRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
    if on or partial:
        painter.fillPath(path, accent)
        pen = QPen(mark, max(1.5, side / 8))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x, y, w = box.left(), box.top(), box.width()
        if partial:
            painter.drawLine(QPointF(x + w * 0.28, y + w * 0.5), QPointF(x + w * 0.72, y + w * 0.5))
        else:
            painter.drawPolyline(
                [
                    QPointF(x + w * 0.26, y + w * 0.52),
                    QPointF(x + w * 0.43, y + w * 0.68),
                    QPointF(x + w * 0.74, y + w * 0.34),
                ]
            )
    else:
        painter.fillPath(path, palette.color(QPalette.ColorRole.Base))
        painter.setPen(QPen(outline, 1.4))
        painter.drawPath(path)
    painter.restore()


class Theme(QObject):
    """Applies the look to the application and keeps it in step with the system scheme.

    Create one after the ``QApplication``; connect :attr:`changed` to refresh anything that
    caches colours (icons rendered with a tint).

    Args:
        app: the application to style.
        scheme: ``Qt.ColorScheme.Light``/``Dark`` to pin one, ``None`` to follow the system.
    """

    changed = Signal()

    def __init__(self, app: QApplication, scheme: Qt.ColorScheme | None = None) -> None:
        super().__init__(app)
        self._app = app
        self._forced = scheme
        self._style = MessengerStyle()
        app.setStyle(self._style)
        app.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self.apply()

    @property
    def dark(self) -> bool:
        """Whether the dark palette is in use."""
        if self._forced is not None:
            return self._forced == Qt.ColorScheme.Dark
        return self._app.styleHints().colorScheme() == Qt.ColorScheme.Dark

    @property
    def colours(self) -> Colours:
        return DARK if self.dark else LIGHT

    def force(self, scheme: Qt.ColorScheme | None) -> None:
        """Pin ``Light``/``Dark``, or follow the system again with ``None``."""
        self._forced = None if scheme == Qt.ColorScheme.Unknown else scheme
        self.apply()

    def apply(self) -> None:
        """Set palette and style sheet for the current scheme and emit :attr:`changed`."""
        c = self.colours
        self._app.setPalette(build_palette(c))
        self._app.setStyleSheet(style_sheet(c))
        log.debug("theme applied: %s", "dark" if c.dark else "light")
        self.changed.emit()

    def _system_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self._forced is None:
            log.info("system colour scheme changed to %s", scheme.name)
            self.apply()


def ensure_theme() -> Theme | None:
    """The application's :class:`Theme`, created (following the system scheme) if none
    exists yet; ``None`` without a ``QApplication``. The main window calls this, so the
    app has its look even when the entry point does not create a theme itself."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return None
    existing = app.findChild(Theme)
    return existing if isinstance(existing, Theme) else Theme(app)
