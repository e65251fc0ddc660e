"""Files through two real app instances and a real server (issue 10): the preview's Send
reaches the client core, the recipient's chat shows the image downloaded by itself, a
click on a document downloads it, and the viewer opens on the image."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

from messenger_gui.ui.attachments import ImageViewer
from tests.app_harness import Scenario, registered, scenario, wait_until

__all__ = ["scenario"]


def test_a_photo_and_a_document_go_from_one_window_to_the_other(
    scenario: Scenario, tmp_path: Path
) -> None:
    photo = tmp_path / "praia.png"
    picture = QImage(800, 600, QImage.Format.Format_RGB32)
    picture.fill(QColor("#3390ec"))
    picture.save(str(photo))
    document = tmp_path / "notas.txt"
    document.write_text("levar protetor solar\n")

    async def run() -> None:
        server = await scenario.start_server()
        ana, bruno = await registered(scenario, server, "Ana", "Bruno")
        ana.open_chat(bruno.own_id)
        ana.window.file_sending.preview([photo, document])
        dialog = ana.window.file_sending.dialog
        assert dialog is not None
        dialog.caption_edit.setText("olha")
        dialog.accept()
        await wait_until(
            lambda: any(m.status != "queued" for m in ana.messages(bruno.own_id)), 10, "sent"
        )
        await wait_until(lambda: len(bruno.messages(ana.own_id)) == 1, 10, "delivery")
        [message] = bruno.messages(ana.own_id)
        assert message.text == "olha"
        await wait_until(
            lambda: bruno.store.message_files(message.local_id)[0].state == "done", 10, "photo"
        )
        image, card = bruno.store.message_files(message.local_id)
        assert image.thumbnail is not None  # made by Ana's app
        assert card.state == "remote"  # documents wait for a click

        bruno.open_chat(ana.own_id)
        await bruno.settle()
        files = bruno.controller.files
        assert files is not None
        files.actions.activate(card)  # what a click on the card does
        await wait_until(
            lambda: bruno.store.message_files(message.local_id)[1].state == "done", 10, "doc"
        )
        done = bruno.store.message_files(message.local_id)[1]
        assert done.path is not None and done.path.endswith("notas.txt")
        viewer = files.actions.view(bruno.store.message_files(message.local_id)[0])
        assert isinstance(viewer, ImageViewer) and viewer.image is not None
        assert viewer.image.size().width() == 800
        viewer.close()
        assert bruno.window.message_model.files(message.local_id)[1].state == "done"

    scenario.run(run)


def test_automatic_image_downloads_can_be_turned_off_and_stay_off(scenario: Scenario) -> None:
    async def run() -> None:
        server = await scenario.start_server()
        [ana] = await registered(scenario, server, "Ana")
        files = ana.controller.files
        assert files is not None
        assert files.auto_download_action.isChecked()
        assert ana.client.transfers.auto_download_bytes == 5 * 1024 * 1024
        files.auto_download_action.setChecked(False)  # the menu entry
        assert ana.client.transfers.auto_download_bytes == 0
        assert int(ana.controller.settings.value("files/auto_download_images_mb")) == 0
        await ana.quit()

        again = scenario.app("ana", server)  # the same profile, started again
        again.start()
        await again.wait_online()
        restarted = again.controller.files
        assert restarted is not None and not restarted.auto_download_action.isChecked()
        assert again.client.transfers.auto_download_bytes == 0

    scenario.run(run)
