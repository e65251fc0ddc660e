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

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

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
    (QColor("#f5b76a"), QColor("#d98a3a")),  # amber
)
"""Pleasant avatar colours; an ID always maps to the same one (:func:`avatar_index`)."""

_NAME_COLOURS_LIGHT = (
    "#e3524a",
    "#d98a1f",
    "#6d5ce8",
    "#3ba74e",
    "#1ea394",
    "#2a8ee0",
    "#bd56d8",
    "#b36b16",
)
_NAME_COLOURS_DARK = (
    "#ff8a7a",
    "#ffc46a",
    "#a99bff",
    "#8ddb77",
    "#5fe0cd",
    "#71c4ff",
    "#e59bf5",
    "#f0b474",
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


def style_sheet(c: Colours) -> str:
    """A small style sheet for what a palette cannot say (rounded inputs, thin scroll bars,
    flat tool buttons). Object names are set by the widgets in this package."""
    selection = c.accent.name()
    return f"""
QToolTip {{ color: {c.text.name()}; background: {c.window.name()};
    border: 1px solid {c.border.name()}; padding: 4px; }}
QSplitter::handle {{ background: {c.border.name()}; }}
QLineEdit#filterBox {{ background: {c.input_background.name()}; border: 1px solid transparent;
    border-radius: 16px; padding: 5px 12px; selection-background-color: {selection}; }}
QLineEdit#filterBox:focus {{ border: 1px solid {c.accent.name()};
    background: {c.window.name()}; }}
QPlainTextEdit#composerInput {{ background: transparent; border: none;
    selection-background-color: {selection}; }}
QFrame#composer {{ background: {c.window.name()}; border-top: 1px solid {c.border.name()}; }}
QFrame#composerField {{ background: {c.input_background.name()}; border-radius: 18px; }}
QFrame#chatHeader, QFrame#sidebarHeader {{ background: {c.window.name()};
    border-bottom: 1px solid {c.border.name()}; }}
QWidget#sidebar {{ background: {c.sidebar.name()}; }}
QLabel#headerTitle {{ font-weight: 600; }}
QLabel#headerSubtitle, QLabel#muted {{ color: {c.muted.name()}; }}
QLabel#composerCounter {{ color: {c.muted.name()}; }}
QLabel#composerCounter[over="true"] {{ color: #e5484d; font-weight: 600; }}
QLabel#composerReason {{ color: {c.muted.name()}; padding: 12px; }}
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
        app.setStyle("Fusion")
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
