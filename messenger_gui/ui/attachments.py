"""Files in the chat (issue 10): decoding images safely, painting a message's images and
file cards inside its bubble, what a click on them does, and the image viewer.

* :func:`read_image` decodes with ``QImageReader.setAllocationLimit`` and a pixel limit: a
  decompression bomb or a corrupt file gives ``None`` (painted as a broken-image card),
  never a frozen or killed app. Everything decoded here goes through it: thumbnails from
  the sender, received images, images the user is about to send.
* :func:`attachments_size` and :func:`paint_attachments` are called by the chat's
  :class:`~messenger_gui.ui.chat.BubbleDelegate` (the bubble grows by the files' block,
  above the caption). Decoded pictures are kept in a small cache.
* :class:`FileActions` does what the user asks of a file (open, save as, show in folder,
  view, download, cancel): a received file is never run by itself, and opening an
  executable type asks first.
* :class:`ImageViewer`: fit / zoom, Save as, Copy, Open with the system's viewer.
"""

from __future__ import annotations

import base64
import logging
import shutil
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QImageReader,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from messenger_gui.filenames import is_executable_name, safe_file_name
from messenger_gui.storage.files import StoredFile
from messenger_gui.ui.theme import Colours

log = logging.getLogger(__name__)

MAX_IMAGE_PIXELS: Final = 40_000_000
"""Images with more pixels than this (about 7,700 by 5,200) are not decoded."""
ALLOCATION_LIMIT_MB: Final = 256
"""What Qt may allocate to decode one image (``QImageReader.setAllocationLimit``)."""
THUMBNAIL_EDGE: Final = 320
"""Longest edge of a thumbnail we send."""
MAX_THUMBNAIL_CHARS: Final = 16_384
IMAGE_MAX_WIDTH: Final = 300
IMAGE_MIN_HEIGHT: Final = 90
IMAGE_MAX_HEIGHT: Final = 340
CARD_HEIGHT: Final = 56
CARD_WIDTH: Final = 280
GAP: Final = 6
PIXMAP_CACHE: Final = 48


def read_image(
    source: str | Path | bytes,
    *,
    fit: QSize | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
    allocation_mb: int = ALLOCATION_LIMIT_MB,
) -> QImage | None:
    """Decode an image file (a path) or image bytes, scaled down into ``fit`` when given
    (decoded at that size where the format allows: a big JPEG costs little).

    Returns ``None`` for anything that is not a decodable image within the limits: more
    than ``max_pixels`` pixels (checked from the header, before decoding), more memory
    than ``allocation_mb``, a corrupt or truncated file.
    """
    buffer: QBuffer | None = None
    if isinstance(source, bytes):
        buffer = QBuffer()
        buffer.setData(QByteArray(source))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(str(source))
    reader.setAllocationLimit(allocation_mb)
    reader.setAutoTransform(True)
    size = reader.size()
    if not size.isValid() or size.width() * size.height() > max_pixels:
        return None
    if fit is not None and (size.width() > fit.width() or size.height() > fit.height()):
        reader.setScaledSize(size.scaled(fit, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if buffer is not None:
        buffer.close()
    if image.isNull():
        log.info("image not decoded: %s", reader.errorString())
        return None
    return image


def image_size(path: str | Path) -> QSize | None:
    """An image file's size from its header (nothing decoded), or ``None``."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    return size if size.isValid() else None


def make_thumbnail(path: str | Path) -> str | None:
    """A thumbnail to send with an image: base64 of a small JPEG (at most
    :data:`MAX_THUMBNAIL_CHARS` characters), or ``None`` when it is not a decodable image."""
    image = read_image(path, fit=QSize(THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    if image is None:
        return None
    for edge, quality in ((THUMBNAIL_EDGE, 60), (200, 50), (120, 40), (64, 30)):
        scaled = image.scaled(
            QSize(edge, edge),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        scaled.convertToFormat(QImage.Format.Format_RGB32).save(buffer, "JPEG", quality)  # type: ignore[call-overload]
        buffer.close()
        encoded = base64.b64encode(bytes(data.data())).decode("ascii")
        if len(encoded) <= MAX_THUMBNAIL_CHARS:
            return encoded
    return None


def format_size(size: int) -> str:
    """``532 B``, ``14 KB``, ``3.2 MB``, ``1.1 GB`` (powers of 1024, as file managers do)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def file_label(item: StoredFile) -> str:
    """The short type on a file's icon: its suffix in capitals (``PDF``), or ``FILE``."""
    suffix = Path(safe_file_name(item.name)).suffix.lstrip(".").upper()
    return suffix[:4] if suffix else "FILE"


# --- geometry and painting inside a bubble -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileBox:
    """Where one file of a message is painted, relative to the files' block."""

    item: StoredFile
    rect: QRectF
    image: bool


def _image_height(item: StoredFile, width: float) -> float:
    size: QSize | None = None
    if item.path is not None and (item.state == "done" or item.direction == "out"):
        size = image_size(item.path)
    if size is None and item.thumbnail:
        thumbnail = _thumbnail_image(item.thumbnail)
        size = thumbnail.size() if thumbnail is not None else None
    if size is None or size.width() <= 0:
        return width * 0.75
    return max(IMAGE_MIN_HEIGHT, min(IMAGE_MAX_HEIGHT, width * size.height() / size.width()))


def layout_files(files: Sequence[StoredFile], limit: float) -> list[FileBox]:
    """The boxes of ``files`` stacked top to bottom within ``limit`` pixels of width."""
    boxes = []
    y = 0.0
    for item in files:
        shows_image = item.is_image and not _broken(item)
        if shows_image:
            width = min(limit, IMAGE_MAX_WIDTH)
            height = _image_height(item, width)
        else:
            width, height = min(limit, CARD_WIDTH), CARD_HEIGHT
        boxes.append(FileBox(item, QRectF(0, y, width, height), shows_image))
        y += height + GAP
    return boxes


def attachments_size(files: Sequence[StoredFile], limit: float) -> QSize:
    """The size of the files' block of a bubble."""
    boxes = layout_files(files, limit)
    if not boxes:
        return QSize(0, 0)
    width = max(box.rect.width() for box in boxes)
    return QSize(int(width + 0.999), int(boxes[-1].rect.bottom() + 0.999))


_pixmaps: OrderedDict[tuple[str, int, int], QPixmap | None] = OrderedDict()
_thumbnails: OrderedDict[str, QImage | None] = OrderedDict()


def _thumbnail_image(encoded: str) -> QImage | None:
    key = encoded[:64] + str(len(encoded))
    if key in _thumbnails:
        return _thumbnails[key]
    try:
        data = base64.b64decode(encoded, validate=True)
    except ValueError:
        image = None
    else:
        image = read_image(data, max_pixels=1_000_000, allocation_mb=16)
    _thumbnails[key] = image
    if len(_thumbnails) > PIXMAP_CACHE:
        _thumbnails.popitem(last=False)
    return image


def _picture(path: str, size: QSize) -> QPixmap | None:
    """The image at ``path`` decoded (with limits) to fill ``size``; cached."""
    key = (path, size.width(), size.height())
    if key in _pixmaps:
        _pixmaps.move_to_end(key)
        return _pixmaps[key]
    image = read_image(path, fit=size * 2)
    pixmap = None if image is None else QPixmap.fromImage(image)
    _pixmaps[key] = pixmap
    if len(_pixmaps) > PIXMAP_CACHE:
        _pixmaps.popitem(last=False)
    return pixmap


def _broken(item: StoredFile) -> bool:
    """A downloaded image that does not decode (corrupt, or a decompression bomb)."""
    if item.state != "done" or item.path is None:
        return False
    return _picture(item.path, QSize(IMAGE_MAX_WIDTH, IMAGE_MAX_HEIGHT)) is None


def forget_pictures() -> None:
    """Drop the decoded pictures (tests; a theme change does not need it)."""
    _pixmaps.clear()
    _thumbnails.clear()


def status_text(item: StoredFile, progress: tuple[int, int] | None) -> str:
    """The line under a file's name: its size, the progress, or what a click does."""
    size = format_size(item.size)
    if progress is not None and progress[0] < progress[1]:
        done = format_size(progress[0])
        return (
            QCoreApplication.translate("Attachments", "%1 of %2")
            .replace("%1", done)
            .replace("%2", size)
        )
    if item.direction == "out":
        if item.state == "upload":
            return QCoreApplication.translate("Attachments", "%1 · waiting to upload").replace(
                "%1", size
            )
        return size
    if item.state == "remote":
        return QCoreApplication.translate("Attachments", "%1 · Download").replace("%1", size)
    if item.state == "download":
        return QCoreApplication.translate("Attachments", "%1 · waiting to download").replace(
            "%1", size
        )
    if item.state == "failed":
        if item.error == "not_found":
            return QCoreApplication.translate("Attachments", "No longer on the server")
        return QCoreApplication.translate("Attachments", "Download failed · Retry")
    return size


def paint_attachments(
    painter: QPainter,
    origin: QPointF,
    files: Sequence[StoredFile],
    limit: float,
    c: Colours,
    *,
    out: bool,
    font: QFont,
    progress: Callable[[StoredFile], tuple[int, int] | None],
) -> None:
    """Paint the files' block with its top-left corner at ``origin``."""
    for box in layout_files(files, limit):
        rect = box.rect.translated(origin)
        current = progress(box.item)
        if box.image:
            _paint_image(painter, rect, box.item, c, font, current)
        else:
            _paint_card(painter, rect, box.item, c, out=out, font=font, progress=current)


def _rounded(rect: QRectF, radius: float = 10) -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    return path


def _paint_image(
    painter: QPainter,
    rect: QRectF,
    item: StoredFile,
    c: Colours,
    font: QFont,
    progress: tuple[int, int] | None,
) -> None:
    painter.save()
    clip = _rounded(rect)
    painter.setClipPath(clip)
    pixmap: QPixmap | None = None
    local = item.path is not None and (item.state == "done" or item.direction == "out")
    if local and item.path is not None:
        pixmap = _picture(item.path, rect.size().toSize())
    if pixmap is None and item.thumbnail:
        thumbnail = _thumbnail_image(item.thumbnail)
        if thumbnail is not None:
            pixmap = QPixmap.fromImage(thumbnail)
    if pixmap is not None:
        scaled = pixmap.scaled(
            rect.size().toSize(),
            Qt.AspectRatioMode.KeepAspectRatioByExpanding,
            Qt.TransformationMode.SmoothTransformation,
        )
        x = rect.x() + (rect.width() - scaled.width()) / 2
        y = rect.y() + (rect.height() - scaled.height()) / 2
        painter.drawPixmap(QPointF(x, y), scaled)
    else:
        painter.fillPath(clip, QColor(128, 128, 128, 60))
    waiting = not local and item.state in ("remote", "download", "failed")
    if waiting or (progress is not None and progress[0] < progress[1]):
        centre = rect.center()
        disc = QRectF(centre.x() - 22, centre.y() - 22, 44, 44)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 140))
        painter.drawEllipse(disc)
        pen = QPen(QColor("#ffffff"), 2.5)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if progress is not None and progress[1] > 0 and progress[0] < progress[1]:
            span = int(-360 * 16 * progress[0] / progress[1])
            painter.drawArc(disc.adjusted(4, 4, -4, -4), 90 * 16, span)
            _cross(painter, centre, 7)
        elif item.state == "download":
            painter.drawArc(disc.adjusted(4, 4, -4, -4), 90 * 16, -60 * 16)
            _cross(painter, centre, 7)
        else:
            _arrow_down(painter, centre)
        label = status_text(item, progress)
        small = QFont(font)
        small.setPointSizeF(font.pointSizeF() * 0.8)
        painter.setFont(small)
        fm = QFontMetricsF(small)
        pill = QRectF(0, 0, fm.horizontalAdvance(label) + 12, fm.height() + 4)
        pill.moveTopLeft(rect.topLeft() + QPointF(6, 6))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 140))
        painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
    painter.restore()


def _cross(painter: QPainter, centre: QPointF, r: float) -> None:
    painter.drawLine(centre + QPointF(-r, -r), centre + QPointF(r, r))
    painter.drawLine(centre + QPointF(-r, r), centre + QPointF(r, -r))


def _arrow_down(painter: QPainter, centre: QPointF) -> None:
    painter.drawLine(centre + QPointF(0, -9), centre + QPointF(0, 9))
    painter.drawLine(centre + QPointF(-7, 2), centre + QPointF(0, 9))
    painter.drawLine(centre + QPointF(7, 2), centre + QPointF(0, 9))


def _paint_card(
    painter: QPainter,
    rect: QRectF,
    item: StoredFile,
    c: Colours,
    *,
    out: bool,
    font: QFont,
    progress: tuple[int, int] | None,
) -> None:
    painter.save()
    text_colour = c.bubble_out_text if out else c.bubble_in_text
    meta_colour = c.meta_out if out else c.meta_in
    shade = QColor(0, 0, 0, 26) if not c.dark else QColor(255, 255, 255, 22)
    painter.fillPath(_rounded(rect, 8), shade)
    icon = QRectF(rect.x() + 8, rect.y() + 8, rect.height() - 16, rect.height() - 16)
    broken = item.is_image and item.state == "done"
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(c.accent if not broken else QColor("#e53935"))
    painter.drawEllipse(icon)
    small = QFont(font)
    small.setPointSizeF(font.pointSizeF() * 0.72)
    small.setBold(True)
    painter.setFont(small)
    painter.setPen(c.accent_text)
    active = progress is not None and progress[0] < progress[1]
    if active or item.state == "download":
        pen = QPen(c.accent_text, 2)
        painter.setPen(pen)
        _cross(painter, icon.center(), 6)
        if active and progress is not None and progress[1]:
            painter.drawArc(
                icon.adjusted(3, 3, -3, -3), 90 * 16, int(-360 * 16 * progress[0] / progress[1])
            )
    elif item.direction == "in" and item.state in ("remote", "failed"):
        painter.setPen(QPen(c.accent_text, 2))
        _arrow_down(painter, icon.center())
    else:
        painter.drawText(icon, Qt.AlignmentFlag.AlignCenter, "!" if broken else file_label(item))
    text_x = icon.right() + 10
    width = rect.right() - 8 - text_x
    name_font = QFont(font)
    name_font.setBold(True)
    fm = QFontMetricsF(name_font)
    painter.setFont(name_font)
    painter.setPen(text_colour)
    name = fm.elidedText(item.name, Qt.TextElideMode.ElideMiddle, width)
    painter.drawText(QPointF(text_x, rect.y() + 8 + fm.ascent()), name)
    meta_font = QFont(font)
    meta_font.setPointSizeF(font.pointSizeF() * 0.85)
    painter.setFont(meta_font)
    painter.setPen(meta_colour)
    line = (
        QCoreApplication.translate("Attachments", "Image could not be shown")
        if broken
        else status_text(item, progress)
    )
    fm_meta = QFontMetricsF(meta_font)
    painter.drawText(
        QPointF(text_x, rect.bottom() - 9 - fm_meta.descent()),
        fm_meta.elidedText(line, Qt.TextElideMode.ElideRight, width),
    )
    painter.restore()


def file_at(files: Sequence[StoredFile], limit: float, pos: QPointF) -> StoredFile | None:
    """The file whose box contains ``pos`` (relative to the files' block), if any."""
    for box in layout_files(files, limit):
        if box.rect.contains(pos):
            return box.item
    return None


# --- what a click does ----------------------------------------------------------------------


class FileActions:
    """What the user can do with a file, given the client's async callables (wired by the
    app): ``download(local_id, position)``, ``cancel_download(local_id, position)`` and
    ``cancel_upload(local_id)`` (deletes the unsent message).

    :meth:`activate` is a click on the file: download or cancel while it is not here, view
    an image, or open another file with the system's application (asking first for an
    executable type: a received file is never run by itself).
    """

    def __init__(
        self,
        parent: QWidget,
        *,
        download: Callable[[int, int], object],
        cancel_download: Callable[[int, int], object],
        cancel_upload: Callable[[int], object],
        transferring: Callable[[StoredFile], bool],
    ) -> None:
        self._parent = parent
        self._download = download
        self._cancel_download = cancel_download
        self._cancel_upload = cancel_upload
        self._transferring = transferring
        self.viewer: ImageViewer | None = None

    @staticmethod
    def local_path(item: StoredFile) -> Path | None:
        """The file on this disk, when it is here."""
        if item.path is None or (item.direction == "in" and item.state != "done"):
            return None
        path = Path(item.path)
        return path if path.is_file() else None

    def activate(self, item: StoredFile) -> None:
        if item.direction == "out" and item.state == "upload":
            self._cancel_upload(item.local_id)
            return
        if item.direction == "in" and item.state == "download":
            self._cancel_download(item.local_id, item.position)
            return
        if item.direction == "in" and item.state in ("remote", "failed"):
            self._download(item.local_id, item.position)
            return
        path = self.local_path(item)
        if path is None:
            return
        if item.is_image and read_image(path, fit=QSize(64, 64)) is not None:
            self.view(item)
        else:
            self.open(item)

    def open(self, item: StoredFile) -> bool:
        """Open with the system's application; asks first for an executable type.
        Returns whether it was opened."""
        path = self.local_path(item)
        if path is None:
            return False
        if is_executable_name(item.name) or is_executable_name(path.name):
            answer = QMessageBox.warning(
                self._parent,
                QCoreApplication.translate("Attachments", "Open this file?"),
                QCoreApplication.translate(
                    "Attachments",
                    "“%1” is a program or script: opening it may run code on your computer. "
                    "Open it only if you trust its sender and expected this file.",
                ).replace("%1", item.name),
                QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Open:
                return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def save_as(self, item: StoredFile) -> Path | None:
        """Copy the file where the user chooses; returns the copy's path."""
        path = self.local_path(item)
        if path is None:
            return None
        target, _ = QFileDialog.getSaveFileName(
            self._parent,
            QCoreApplication.translate("Attachments", "Save file"),
            str(Path.home() / safe_file_name(item.name)),
        )
        if not target:
            return None
        shutil.copyfile(path, target)
        return Path(target)

    def show_in_folder(self, item: StoredFile) -> bool:
        path = self.local_path(item)
        if path is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

    def view(self, item: StoredFile) -> ImageViewer | None:
        path = self.local_path(item)
        if path is None:
            return None
        viewer = ImageViewer(path, item.name, self._parent)
        if viewer.image is None:
            return None
        self.viewer = viewer
        viewer.show()
        return viewer


# --- the viewer -----------------------------------------------------------------------------


class _ZoomArea(QScrollArea):
    """Ctrl + wheel zooms."""

    def __init__(self, viewer: ImageViewer) -> None:
        super().__init__(viewer)
        self._viewer = viewer

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._viewer.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)
            event.accept()
            return
        super().wheelEvent(event)


class ImageViewer(QDialog):
    """A received (or sent) image at full size: fit to the window or zoom (Ctrl + wheel,
    ``+``/``-``, ``0`` fits), Save as, Copy, Open with the system's viewer. Decoded with
    the same limits as the chat's pictures."""

    def __init__(self, path: Path, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setWindowTitle(name)
        self.path = path
        self.name = name
        self.image = read_image(path)
        self.zoom = 1.0
        self.fitting = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.area = _ZoomArea(self)
        self.area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area.setObjectName("imageViewerArea")
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.area.setWidget(self.label)
        self.area.setWidgetResizable(True)
        layout.addWidget(self.area, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(10, 6, 10, 8)
        self.fit_button = QPushButton(self.tr("Fit"))
        self.zoom_out_button = QPushButton("\N{MINUS SIGN}")
        self.zoom_in_button = QPushButton("+")
        self.actual_button = QPushButton("100%")
        self.save_button = QPushButton(self.tr("Save as…"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.open_button = QPushButton(self.tr("Open with system viewer"))
        self.zoom_out_button.setToolTip(self.tr("Zoom out"))
        self.zoom_in_button.setToolTip(self.tr("Zoom in"))
        self.actual_button.setToolTip(self.tr("Actual size"))
        for button in (
            self.fit_button,
            self.zoom_out_button,
            self.zoom_in_button,
            self.actual_button,
        ):
            bar.addWidget(button)
        bar.addStretch(1)
        for button in (self.save_button, self.copy_button, self.open_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.fit_button.clicked.connect(self.fit)
        self.zoom_in_button.clicked.connect(lambda: self.zoom_by(1.25))
        self.zoom_out_button.clicked.connect(lambda: self.zoom_by(0.8))
        self.actual_button.clicked.connect(lambda: self.set_zoom(1.0))
        self.save_button.clicked.connect(self.save_as)
        self.copy_button.clicked.connect(self.copy)
        self.open_button.clicked.connect(self.open_externally)
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, lambda: self.zoom_by(1.25)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.zoom_by(0.8)),
            (QKeySequence("0"), self.fit),
            (QKeySequence.StandardKey.Copy, self.copy),
            (QKeySequence.StandardKey.Save, self.save_as),
        ):
            QShortcut(keys, self, slot)
        screen = QGuiApplication.primaryScreen()
        available = screen.availableSize() if screen is not None else QSize(1280, 800)
        self.resize(
            min(1000, int(available.width() * 0.8)), min(760, int(available.height() * 0.8))
        )
        if self.image is None:
            self.label.setText(self.tr("This image could not be shown."))
        self._render()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._render()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitting:
            self._render()

    def fit(self) -> None:
        self.fitting = True
        self._render()

    def set_zoom(self, zoom: float) -> None:
        self.fitting = False
        self.zoom = max(0.05, min(16.0, zoom))
        self._render()

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.current_zoom() * factor)

    def current_zoom(self) -> float:
        if self.image is None:
            return 1.0
        if not self.fitting:
            return self.zoom
        room = self.area.viewport().size()
        scale = min(
            room.width() / max(1, self.image.width()), room.height() / max(1, self.image.height())
        )
        return min(1.0, scale)

    def _render(self) -> None:
        if self.image is None:
            return
        zoom = self.current_zoom()
        size = QSize(
            max(1, int(self.image.width() * zoom)), max(1, int(self.image.height() * zoom))
        )
        pixmap = QPixmap.fromImage(self.image).scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.label.setPixmap(pixmap)
        self.label.setMinimumSize(QSize(0, 0) if self.fitting else pixmap.size())

    def copy(self) -> None:
        if self.image is not None:
            QGuiApplication.clipboard().setImage(self.image)

    def save_as(self) -> Path | None:
        target, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save image"), str(Path.home() / safe_file_name(self.name))
        )
        if not target:
            return None
        shutil.copyfile(self.path, target)
        return Path(target)

    def open_externally(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))
