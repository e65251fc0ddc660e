"""Where the app's files (icons, translations) are, and SVG icons as crisp ``QIcon`` values.

The ``resources/`` folder lives in one of three places, tried in this order:

1. a PyInstaller bundle: ``sys._MEIPASS/resources`` (``sys.frozen`` is set);
2. the source tree or an editable install: ``<repository>/resources``;
3. an installed wheel, which ships it as package data: ``messenger_gui/resources``.

Line icons in ``resources/icons`` draw with ``currentColor``; :func:`icon` substitutes a
colour (the palette's text colour by default) and renders the SVG at whatever size and
device pixel ratio Qt asks for, so icons stay sharp on HiDPI screens and follow dark mode.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

import messenger_gui

log = logging.getLogger(__name__)


@functools.cache
def resources_root() -> Path:
    """The ``resources`` directory of this installation (see the module docstring)."""
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "resources"
    source_tree = Path(__file__).resolve().parents[2] / "resources"
    if source_tree.is_dir():
        return source_tree
    return Path(messenger_gui.__file__).resolve().parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a file under ``resources/``, e.g. ``resource_path("icons", "send.svg")``.

    The file is not required to exist: callers that may run without it (translations)
    check ``exists()`` themselves.
    """
    return resources_root().joinpath(*parts)


class _SvgIconEngine(QIconEngine):
    """Renders one SVG document at the requested size: no blurry scaled bitmaps."""

    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        self._renderer = QSvgRenderer(QByteArray(svg))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        if mode == QIcon.Mode.Disabled:
            painter.setOpacity(0.4)
        self._renderer.render(painter, rect.toRectF())

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        pixmap = QPixmap(size * scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        pixmap.setDevicePixelRatio(scale)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._svg)


@functools.cache
def _svg_source(name: str) -> bytes:
    path = resource_path("icons", f"{name}.svg")
    try:
        return path.read_bytes()
    except OSError:
        log.warning("icon %s not found at %s", name, path)
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"/>'


def _default_colour() -> QColor:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app.palette().color(QPalette.ColorRole.WindowText)
    return QColor("#1f2328")


def icon(name: str, colour: QColor | str | None = None) -> QIcon:
    """The SVG icon ``resources/icons/<name>.svg`` as a resolution-independent ``QIcon``.

    Args:
        name: file name without ``.svg`` (``"send"``, ``"messenger"``...).
        colour: what ``currentColor`` becomes; the palette's text colour when omitted, so
            call again after the palette changes (the theme module does this for the main
            window's icons). Multi-coloured icons (the app logo) ignore it.
    """
    svg = _svg_source(name)
    if b"currentColor" in svg:
        tint = QColor(colour) if colour is not None else _default_colour()
        svg = svg.replace(b"currentColor", tint.name(QColor.NameFormat.HexRgb).encode("ascii"))
    return QIcon(_SvgIconEngine(svg))


def app_icon() -> QIcon:
    """The application icon (window, taskbar, about box)."""
    return icon("messenger")
