"""Files in the chat (issue 10), with real widgets: safe image decoding (a decompression
bomb, a corrupt file), images and file cards in bubbles, clicks, the preview before
sending, the executable warning and the image viewer."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QObject, QPoint, QSize, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from messenger_gui.storage import ClientStore
from messenger_gui.storage.files import StoredFile
from messenger_gui.storage.records import Chunk
from messenger_gui.ui import attachments
from messenger_gui.ui.attachments import FileActions, ImageViewer, make_thumbnail, read_image
from messenger_gui.ui.chat import ChatView, MessageListModel, MessageRole
from messenger_gui.ui.dialogs.send_files import FileSending, SendFilesDialog
from messenger_server import protocol

ME = "MMMM-0000"
ANA = "AAAA-1111"
BASE_TS = 1_767_000_000_000


def png(width: int, height: int, *, colour: int = 0) -> bytes:
    """A greyscale PNG written row by row (never the whole image in memory): a 10,000 by
    10,000 one of a single colour is a few hundred KB on disk, 100 MB decoded."""

    def part(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes([colour]) * width
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", body) + part(b"IEND", b"")


@pytest.fixture(autouse=True)
def fresh_pictures() -> Iterator[None]:
    attachments.forget_pictures()
    yield
    attachments.forget_pictures()


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png(10_000, 10_000))  # 100 megapixels, ~100 KB
    assert bomb.stat().st_size < 1_000_000
    assert read_image(bomb) is None
    assert make_thumbnail(bomb) is None
    # Within the pixel limit but over the memory allowed: refused by the allocation limit.
    big = tmp_path / "big.png"
    big.write_bytes(png(3000, 3000))
    assert read_image(big, allocation_mb=1) is None
    decoded = read_image(big, fit=QSize(300, 300))
    assert decoded is not None and decoded.width() == 300


def test_a_corrupt_image_and_a_non_image_are_refused(tmp_path: Path) -> None:
    corrupt = tmp_path / "foto.png"
    corrupt.write_bytes(png(40, 40)[:60])
    assert read_image(corrupt) is None
    text = tmp_path / "nota.jpg"
    text.write_text("not a picture")
    assert read_image(text) is None
    assert read_image(b"\x89PNG garbage") is None


def test_a_thumbnail_is_a_small_jpeg_within_the_protocol_limit(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    image = QImage(1600, 1200, QImage.Format.Format_RGB32)
    image.fill(QColor("#3390ec"))
    image.save(str(photo))
    thumbnail = make_thumbnail(photo)
    assert thumbnail is not None and len(thumbnail) <= protocol.MAX_THUMBNAIL_CHARS
    decoded = read_image(base64.b64decode(thumbnail))
    assert decoded is not None and max(decoded.width(), decoded.height()) <= 320


# --- bubbles ---------------------------------------------------------------------------------


def incoming_with_files(
    store: ClientStore, message_id: int, files: list[protocol.FileInfo], text: str = ""
) -> int:
    message = protocol.Message(
        message_id=message_id,
        seq=message_id,
        ts=BASE_TS + message_id * 1000,
        sender=ANA,
        sender_name="Ana",
        text=protocol.message_text(text, files),
        to=ME,
        files=files,
    )
    saved = store.save_chunk(Chunk(messages=[message]), me=ME)
    return saved.received[0].local_id


def info(
    name: str, size: int, mime: str, thumbnail: str | None = None, n: int = 1
) -> protocol.FileInfo:
    return protocol.FileInfo(
        file_id=f"F-AAAA-BBBB-CCCC-{n:04d}", name=name, size=size, mime=mime, sha256="0" * 64,
        thumbnail=thumbnail,
    )  # fmt: skip


@pytest.fixture
def chat(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[ClientStore, MessageListModel, ChatView]]:
    store = ClientStore(tmp_path / "profile")
    model = MessageListModel(store, own_id=ME)
    view = ChatView(model)
    qtbot.addWidget(view)
    view.resize(700, 600)
    view.show()
    yield store, model, view
    store.close()


def row_rect(view: ChatView, local_id: int) -> tuple[int, object]:
    model = view.message_model
    row = model.row_of(local_id)
    assert row is not None
    return row, view.visualRect(model.index(row, 0))


def test_files_show_in_the_bubble_above_the_caption(
    chat: tuple[ClientStore, MessageListModel, ChatView], qtbot: QtBot
) -> None:
    store, model, view = chat
    thumbnail = base64.b64encode(png(40, 30, colour=200)).decode()
    plain = incoming_with_files(store, 1, [info("relatório.pdf", 2_500_000, "application/pdf")])
    captioned = incoming_with_files(
        store, 2, [info("praia.jpg", 9_000_000, "image/jpeg", thumbnail, 2)], "a praia"
    )
    model.open(ANA, False)
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    card = model.index(model.row_of(plain) or 0, 0)
    [item] = card.data(MessageRole.FILES)
    assert (item.name, item.state) == ("relatório.pdf", "remote")
    # Without a caption the "📎 name" line is not repeated under the card.
    layout = view.delegate.layout(_option(view, card), card)
    assert layout is not None and layout.files_pos is not None
    assert layout.text.text() == ""
    image_index = model.index(model.row_of(captioned) or 0, 0)
    image_layout = view.delegate.layout(_option(view, image_index), image_index)
    assert image_layout is not None and image_layout.text.text() == "a praia"
    assert image_layout.bubble.height() > 200  # the picture's block, from the thumbnail
    view.viewport().grab()  # paints both without error


def _option(view: ChatView, index: object) -> object:
    from PySide6.QtWidgets import QStyleOptionViewItem

    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualRect(index)  # type: ignore[arg-type]
    return option


def test_a_broken_downloaded_image_becomes_a_card(
    chat: tuple[ClientStore, MessageListModel, ChatView], tmp_path: Path, qtbot: QtBot
) -> None:
    store, model, view = chat
    local_id = incoming_with_files(store, 1, [info("bomba.png", 120_000, "image/png")])
    bomb = tmp_path / "profile" / "files" / "bomba.png"
    bomb.parent.mkdir(parents=True, exist_ok=True)
    bomb.write_bytes(png(10_000, 10_000))
    store.set_file_state(local_id, 0, "done", path=str(bomb))
    model.open(ANA, False)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    [item] = model.files(local_id)
    [box] = attachments.layout_files([item], 400)
    assert not box.image and box.rect.height() == attachments.CARD_HEIGHT
    view.viewport().grab()


def test_clicking_a_file_asks_to_download_it_and_again_cancels(
    chat: tuple[ClientStore, MessageListModel, ChatView], qtbot: QtBot
) -> None:
    store, model, view = chat
    local_id = incoming_with_files(store, 1, [info("dados.zip", 30_000_000, "application/zip")])
    model.open(ANA, False)
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    index = model.index(0, 0)
    layout = view.delegate.layout(_option(view, index), index)
    assert layout is not None and layout.files_pos is not None
    rect = view.visualRect(index)
    point = (layout.files_pos + rect.topLeft().toPointF()).toPoint() + QPoint(20, 20)
    calls: list[tuple[str, int, int]] = []
    actions = FileActions(
        view,
        download=lambda lid, pos: calls.append(("download", lid, pos)),
        cancel_download=lambda lid, pos: calls.append(("cancel", lid, pos)),
        cancel_upload=lambda lid: calls.append(("cancel upload", lid, 0)),
        transferring=lambda item: False,
    )
    view.file_clicked.connect(actions.activate)
    with qtbot.waitSignal(view.file_clicked):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert calls == [("download", local_id, 0)]
    store.want_downloads([(local_id, 0)])
    model.refresh_messages([local_id])
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert calls[-1] == ("cancel", local_id, 0)


class UrlRecorder(QObject):
    """Receives the ``file:`` URLs the app asks the desktop to open (a real Qt hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened_urls() -> Iterator[UrlRecorder]:
    recorder = UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "open")
    yield recorder
    QDesktopServices.unsetUrlHandler("file")


def received(path: Path, name: str, mime: str = "application/octet-stream") -> StoredFile:
    return StoredFile(1, 0, name, path.stat().st_size, mime, "0" * 64, "F-A", None, str(path),
                      "done", None, ANA, "in")  # fmt: skip


def answer_next_box(qtbot: QtBot, button: QMessageBox.StandardButton, seen: list[str]) -> None:
    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.button(button).click()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, answer)


def test_an_executable_is_never_opened_without_asking(
    qtbot: QtBot, tmp_path: Path, opened_urls: UrlRecorder
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = FileActions(
        parent, download=print, cancel_download=print, cancel_upload=print, transferring=bool
    )
    program = tmp_path / "fatura.exe"
    program.write_bytes(b"MZ")
    seen: list[str] = []
    answer_next_box(qtbot, QMessageBox.StandardButton.Cancel, seen)
    assert not actions.open(received(program, "fatura.exe"))
    assert opened_urls.urls == [] and "fatura.exe" in seen[0]
    answer_next_box(qtbot, QMessageBox.StandardButton.Open, seen)
    assert actions.open(received(program, "fatura.exe"))
    assert opened_urls.urls == [QUrl.fromLocalFile(str(program))]
    document = tmp_path / "notas.txt"
    document.write_text("olá")
    assert actions.open(received(document, "notas.txt"))  # no question for a document
    assert len(seen) == 2 and opened_urls.urls[-1] == QUrl.fromLocalFile(str(document))


def test_the_viewer_fits_zooms_and_copies(
    qtbot: QtBot, tmp_path: Path, opened_urls: UrlRecorder
) -> None:
    photo = tmp_path / "praia.png"
    image = QImage(2400, 1600, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffaa00"))
    image.save(str(photo))
    viewer = ImageViewer(photo, "praia.png")
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.fitting and viewer.current_zoom() < 0.5
    pixmap = viewer.label.pixmap()
    assert pixmap.width() <= 800
    viewer.set_zoom(1.0)
    assert viewer.label.pixmap().width() == 2400
    viewer.zoom_by(0.5)
    assert viewer.label.pixmap().width() == 1200
    viewer.fit()
    assert viewer.label.pixmap().width() <= 800
    viewer.copy()
    assert QGuiApplication.clipboard().image().size() == QSize(2400, 1600)
    assert viewer.open_externally()
    assert opened_urls.urls == [QUrl.fromLocalFile(str(photo))]


# --- sending -------------------------------------------------------------------------------


def test_the_preview_sends_with_enter_and_cancels_with_esc(qtbot: QtBot, tmp_path: Path) -> None:
    document = tmp_path / "lista.txt"
    document.write_text("arroz\nfeijão\n")
    photo = tmp_path / "foto.png"
    photo.write_bytes(png(64, 48, colour=90))
    dialog = SendFilesDialog([document, photo], "Ana")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.caption_edit, "para o jantar")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.caption_edit, Qt.Key.Key_Return)
    assert dialog.caption() == "para o jantar" and dialog.paths == [document, photo]

    again = SendFilesDialog([document], "Ana")
    qtbot.addWidget(again)
    again.show()
    with qtbot.waitSignal(again.rejected):
        qtbot.keyClick(again.caption_edit, Qt.Key.Key_Escape)


def test_a_pasted_screenshot_opens_the_preview_as_a_png(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    sending = FileSending(window, lambda: "Ana")
    screenshot = QImage(320, 200, QImage.Format.Format_RGB32)
    screenshot.fill(QColor("#22aa66"))
    mime = QMimeData()
    mime.setImageData(screenshot)
    assert sending.from_mime(mime)
    dialog = sending.dialog
    assert dialog is not None
    [path] = dialog.paths
    assert path.suffix == ".png" and read_image(path) is not None
    with qtbot.waitSignal(sending.send_requested) as signal:
        qtbot.keyClick(dialog.caption_edit, Qt.Key.Key_Return)
    assert signal.args == [[path], ""]
    # No chat open: nothing happens.
    closed = FileSending(window, lambda: None)
    assert not closed.from_mime(mime)


def test_files_dropped_on_the_chat_or_pasted_in_the_composer_open_the_preview(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDropEvent

    from messenger_gui.ui.composer import Composer

    document = tmp_path / "ata.pdf"
    document.write_bytes(b"%PDF-1.4")
    window = QWidget()
    qtbot.addWidget(window)
    sending = FileSending(window, lambda: "Ana")
    target = QWidget(window)
    target.setAcceptDrops(True)
    target.installEventFilter(sending)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(document))])
    drop = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    # Qt delivers drops only during a real drag (none offscreen): hand the event to the
    # filter the chat's viewport has, as Qt would.
    assert sending.eventFilter(target, drop)
    assert drop.isAccepted()
    assert sending.dialog is not None and sending.dialog.paths == [document]

    composer = Composer()
    qtbot.addWidget(composer)
    with qtbot.waitSignal(composer.input.files_pasted) as pasted:
        composer.input.insertFromMimeData(mime)
    assert pasted.args == [mime]
    assert composer.text() == ""  # the file's URL is not typed into the message
    text = QMimeData()
    text.setText("just words")
    composer.input.insertFromMimeData(text)
    assert composer.text() == "just words"
