"""Screenshots of the real app for the README: ``python -m messenger_gui.devtools.screenshots``.

Nothing is faked: a real server runs in this process on 127.0.0.1 (a free port), four real
profiles register with it and talk through real clients (so ticks, unread counts and group
membership are what the app would show), and the real :class:`AppController` opens the
main window of one of them. The window is rendered offscreen, in light and dark, in English
and Brazilian Portuguese, with a few dialogs, into ``docs/screenshots/*.png``. Everything
lives in a temporary folder: the user's own profiles are never touched.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPolygonF
from PySide6.QtWidgets import QApplication, QWidget

from messenger_gui.app import PRIVACY_KEY, AppController
from messenger_gui.client import MessengerClient, register_client
from messenger_gui.events import ConnectionState
from messenger_gui.storage import MUTED_FOREVER, ClientData, ClientStore, save_client_data
from messenger_gui.storage.files import StoredFile
from messenger_gui.transfers import TransferProgress
from messenger_gui.ui import i18n
from messenger_gui.ui.attachments import make_thumbnail
from messenger_gui.ui.theme import Theme
from messenger_server.config import load_settings
from messenger_server.repository import SQLiteRepository
from messenger_server.server import MessengerServer

log = logging.getLogger(__name__)

SIZE: Final = (1100, 700)
PEOPLE: Final = ("Marina Alves", "Ana Souza", "Bruno Lima", "Carla Mendes")
"""The first one is the person whose window is shown."""
STRANGER: Final = "Diego Rocha"


@dataclass(frozen=True)
class Script:
    """What the people say, in one language. Speakers are indexes into :data:`PEOPLE`;
    ``None`` as the conversation means the group."""

    group_name: str
    lines: tuple[tuple[int, int | None, str], ...]
    search: str
    new_group: str
    """The name typed into the new-group dialog."""
    description: str
    """The group's description, set by Marina (a system line in the group's chat)."""
    edits: tuple[tuple[int, str], ...] = ()
    """``(line, new text)``: its speaker edits that line afterwards (shows "edited")."""


REPLIES: Final = {1: 0, 4: 3, 11: 10, 14: 13}
"""Line → the earlier line it replies to (the same in every language)."""
REACTIONS: Final = ((2, 3, "❤️"), (3, 3, "❤️"), (1, 3, "😮"), (1, 15, "❤️"), (0, 16, "😂"))
"""``(person, line, emoji)``: who reacts to which line, once the script is played (emoji
that DejaVu Sans draws too, for machines without a colour emoji font)."""


SCRIPTS: Final[dict[str, Script]] = {
    "en": Script(
        group_name="Saturday hike",
        lines=(
            (0, None, "Who's in for the trail on Saturday?"),
            (1, None, "Me! What time?"),
            (2, None, "Count me in, I'll bring snacks"),
            (0, None, "Let's meet at 7:30 at the park entrance"),
            (3, None, "Perfect. Weather looks great"),
            (2, 0, "Did you get the tickets for Friday?"),
            (0, 2, "Not yet, I'll buy them tonight"),
            (2, 0, "Great, thanks!"),
            (3, 0, "Could you send me the report before the meeting?"),
            (0, 3, "Sure, sending it after lunch"),
            (0, 1, "Ana, did you see the photos Carla posted?"),
            (1, 0, "Yes! The view from the top is incredible"),
            (1, 0, "Hi Marina! Are we still on for coffee tomorrow?"),
            (0, 1, "Of course! 10 o'clock at the usual place?"),
            (1, 0, "Perfect. I'll bring the photos from the trip"),
            (0, 1, "Can't wait to see them. The ones from the waterfall must be amazing"),
            (1, 0, "They are! I also found a great restaurant reservation for Friday"),
            (0, 1, "Let's talk about it tomorrow then. See you!"),
            (2, 0, "By the way, the reservation is at 8"),
        ),
        search="reserv",
        new_group="Friday dinner",
        edits=((13, "Of course! 10:30 at the usual place?"),),
        description="Trail at 7:30, bring water and a snack",
    ),
    "pt_BR": Script(
        group_name="Trilha de sábado",
        lines=(
            (0, None, "Quem topa a trilha no sábado?"),
            (1, None, "Eu! Que horas?"),
            (2, None, "Tô dentro, levo os lanches"),
            (0, None, "Vamos nos encontrar às 7h30 na entrada do parque"),
            (3, None, "Perfeito. A previsão do tempo está ótima"),
            (2, 0, "Você conseguiu os ingressos para sexta?"),
            (0, 2, "Ainda não, compro hoje à noite"),
            (2, 0, "Ótimo, valeu!"),
            (3, 0, "Pode me mandar o relatório antes da reunião?"),
            (0, 3, "Claro, envio depois do almoço"),
            (0, 1, "Ana, você viu as fotos que a Carla postou?"),
            (1, 0, "Vi! A vista lá de cima é incrível"),
            (1, 0, "Oi, Marina! Nosso café amanhã está de pé?"),
            (0, 1, "Claro! Às 10h no lugar de sempre?"),
            (1, 0, "Combinado. Vou levar as fotos da viagem"),
            (0, 1, "Quero muito ver. As da cachoeira devem estar lindas"),
            (1, 0, "Estão sim! Também achei uma reserva ótima num restaurante para sexta"),
            (0, 1, "Então a gente conversa amanhã. Até lá!"),
            (2, 0, "Aliás, a reserva é às 20h"),
        ),
        search="reserv",
        new_group="Jantar de sexta",
        edits=((13, "Claro! Às 10h30 no lugar de sempre?"),),
        description="Trilha às 7h30, leve água e um lanche",
    ),
}


async def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _online(client: MessengerClient) -> Callable[[], bool]:
    return lambda: client.state == ConnectionState.ONLINE


def _has_group(store: ClientStore, group_id: str) -> Callable[[], bool]:
    return lambda: store.group(group_id) is not None


def _sent(store: ClientStore, local_id: int) -> Callable[[], bool]:
    def check() -> bool:
        message = store.message(local_id)
        return message is not None and message.status != "queued"

    return check


def _received(store: ClientStore, conversation: str) -> Callable[[], bool]:
    return lambda: store.latest_seq(conversation) is not None


class World:
    """A server and the four people's profiles, talking through real clients."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server: MessengerServer | None = None
        self.storage: SQLiteRepository | None = None
        self.identities: list[ClientData] = []
        self.stores: list[ClientStore] = []
        self.clients: list[MessengerClient] = []
        self.group_id = ""
        self.stranger: ClientData
        """Someone registered who is nobody's contact yet (for the add-contact dialog)."""

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def profile(self, index: int) -> Path:
        return self.folder / f"person{index}"

    async def start(self) -> None:
        settings = load_settings(
            environ={},
            overrides={"host": "127.0.0.1", "port": 0, "data_dir": self.folder / "server"},
        )
        self.storage = SQLiteRepository(settings.database_path)
        await self.storage.open()
        self.server = MessengerServer(settings, self.storage)
        await self.server.start()

    async def act(self, script: Script) -> None:
        """Register everyone, make contacts and the group, and play the script. Marina
        (person 0) reads everything but Bruno's last message and Ana's last three."""
        for index, name in enumerate(PEOPLE):
            identity = await register_client("127.0.0.1", self.port, name)
            save_client_data(self.profile(index), identity)
            store = ClientStore(self.profile(index))
            client = MessengerClient(store, identity)
            client.start()
            self.identities.append(identity)
            self.stores.append(store)
            self.clients.append(client)
        for client in self.clients:
            await _wait_for(_online(client), 10, "login")
        self.stranger = await register_client("127.0.0.1", self.port, STRANGER)
        ids = [identity.client_id for identity in self.identities]
        for index, other in enumerate(ids[1:], start=1):
            await self.clients[0].add_contact(other)
            await self.clients[index].add_contact(ids[0])
        group = await self.clients[0].create_group(script.group_name, ids[1:])
        self.group_id = group.group_id
        for store in self.stores[1:]:
            await _wait_for(_has_group(store, group.group_id), 10, "the group")
        seqs: list[int] = []
        for line, (speaker, to, text) in enumerate(script.lines):
            is_group = to is None
            conversation = self.group_id if to is None else ids[to]
            quoted = None
            if line in REPLIES:
                quoted = await self._local_id(speaker, script, REPLIES[line], seqs[REPLIES[line]])
            message = await self.clients[speaker].send_message(
                conversation, is_group, text, reply_to=quoted
            )
            await _wait_for(_sent(self.stores[speaker], message.local_id), 10, "the server")
            sent = self.stores[speaker].message(message.local_id)
            assert sent is not None and sent.seq is not None
            seqs.append(sent.seq)
            # Everyone but Marina reads what they are sent at once.
            readers = range(1, len(ids)) if to is None else [to]
            for reader in readers:
                if reader in (speaker, 0):
                    continue
                peer = self.group_id if is_group else ids[speaker]
                await _wait_for(_received(self.stores[reader], peer), 10, "delivery")
                seq = self.stores[reader].latest_seq(peer)
                assert seq is not None
                await self.clients[reader].confirm_read(peer, is_group, seq)
        for line, text in script.edits:
            speaker = script.lines[line][0]
            local_id = await self._local_id(speaker, script, line, seqs[line])
            await self.clients[speaker].edit_message(local_id, text)
        for person, line, emoji in REACTIONS:
            local_id = await self._local_id(person, script, line, seqs[line])
            await self.clients[person].react(local_id, emoji)
        for client in self.clients:
            await client.ping()  # the edits and reactions are on the server
        # Everyone shows their presence to those who share a chat; Marina describes the
        # group and makes Ana an admin (two system lines at the end of the group's chat).
        for client in self.clients:
            await client.set_privacy("chats")
        await self.clients[0].update_group(self.group_id, description=script.description)
        await self.clients[0].set_admin(self.group_id, ids[1], True)
        await _wait_for(
            lambda: (
                len(self.stores[0].group_members(self.group_id)) == len(ids)
                and any(
                    m.admin
                    for m in self.stores[0].group_members(self.group_id)
                    if m.client_id == ids[1]
                )
            ),
            10,
            "the group's settings",
        )
        # Marina has read everything but Bruno's last message and Ana's last three.
        marina = self.stores[0]
        unread = {self.group_id: 0, ids[1]: 3, ids[2]: 1, ids[3]: 0}
        for conversation, unread_left in unread.items():
            incoming = [
                m.seq
                for m in marina.messages_page(conversation, None, 200)
                if m.direction == "in" and m.seq is not None
            ]
            if len(incoming) > unread_left:
                seq = incoming[len(incoming) - unread_left - 1]
                await self.clients[0].confirm_read(conversation, conversation == self.group_id, seq)
        await asyncio.sleep(0.3)  # let the last receipts arrive
        await self.clients[0].stop()  # the app takes over Marina's profile
        self.stores[0].close()

    async def _local_id(self, person: int, script: Script, line: int, seq: int) -> int:
        """The local id of ``line`` (at ``seq``) in ``person``'s history, once it is there."""
        speaker, to, _ = script.lines[line]
        ids = [identity.client_id for identity in self.identities]
        if to is None:
            conversation = self.group_id
        else:
            conversation = ids[to] if person == speaker else ids[speaker]
        store = self.stores[person]

        def find() -> int | None:
            page = store.messages_page(conversation, None, 200)
            return next((m.local_id for m in page if m.seq == seq), None)

        await _wait_for(lambda: find() is not None, 10, f"line {line} at person {person}")
        found = find()
        assert found is not None
        return found

    async def stop(self) -> None:
        for client in self.clients[1:]:
            await client.stop()
        for store in self.stores[1:]:
            store.close()
        if self.server is not None:
            await self.server.stop()
        if self.storage is not None:
            await self.storage.close()


class _Camera:
    """Saves widget renderings into the output folder, letting Qt settle first."""

    def __init__(self, app: QApplication, out: Path) -> None:
        self.app = app
        self.out = out
        self.written: list[Path] = []

    async def settle(self) -> None:
        """Give Qt a few loop turns to lay out and paint.

        Only by awaiting: qasync's loop *is* Qt's, so Qt handles its events meanwhile.
        Never ``processEvents()`` here: qasync runs asyncio callbacks as Qt timer events,
        so a nested ``processEvents()`` would run other tasks' wake-ups inside this task,
        asyncio refuses them ("Cannot enter into task"), and those tasks (the in-process
        server's connection handlers, the clients' read loops) would never run again.
        """
        for _ in range(5):
            await asyncio.sleep(0.05)

    async def shoot(self, widget: QWidget, name: str) -> None:
        await self.settle()
        path = self.out / f"{name}.png"
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        self.written.append(path)
        log.info("wrote %s", path)


async def _shoot_world(camera: _Camera, theme: Theme, lang: str, suffix: str, tmp: Path) -> None:
    """The main window (light, dark, a group) and the dialogs, over a fresh world."""
    world = World(tmp)
    await world.start()
    controller: AppController | None = None
    try:
        await world.act(SCRIPTS[lang])
        controller = AppController(world.profile(0), server=("127.0.0.1", world.port))
        controller.settings.setValue(PRIVACY_KEY, "chats")  # "online" in the headers
        controller.start()
        app_controller = controller
        await _wait_for(
            lambda: app_controller.state == ConnectionState.ONLINE, 10, "the app to connect"
        )
        window = controller.window
        assert window is not None
        window.resize(*SIZE)
        window.open_conversation(world.identities[1].client_id, False)
        for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
            theme.force(scheme)
            await camera.settle()
            window.chat_view.scroll_to_bottom()
            await camera.shoot(window, f"main-{name}-{suffix}")
        theme.force(Qt.ColorScheme.Light)
        window.open_conversation(world.group_id, True)
        await camera.settle()
        # Replying to Carla's last message: the bar above the composer.
        model = window.message_model
        messages = [model.message(row) for row in range(model.rowCount())]
        last = next((m for m in reversed(messages) if m is not None and m.sender), None)
        if last is not None:
            window.start_reply(last.local_id)
        window.chat_view.scroll_to_bottom()
        await camera.shoot(window, f"group-light-{suffix}")
        window.composer.cancel_action()
        await _shoot_files(camera, theme, controller, world, lang, suffix, tmp)

        search = controller.open_search()
        assert search is not None
        search.query_edit.setText(SCRIPTS[lang].search)
        search.run_search()
        await camera.shoot(search, f"search-{suffix}")
        search.reject()

        dialog = controller.open_add_contact()
        assert dialog is not None
        dialog.id_edit.setText(world.stranger.client_id.lower().replace("-", " "))
        dialog.lookup_button.click()
        await _wait_for(
            lambda: dialog.found_id is not None or dialog.result_label.objectName() == "errorLabel",
            5,
            "the lookup",
        )
        if dialog.found_id is None:
            raise RuntimeError(f"the lookup failed: {dialog.result_text}")
        await camera.shoot(dialog, f"add-contact-{suffix}")
        dialog.reject()

        for scheme, name in ((Qt.ColorScheme.Light, ""), (Qt.ColorScheme.Dark, "-dark")):
            theme.force(scheme)
            group_info = controller.open_group_info(world.group_id)
            assert group_info is not None
            group_info.select_member(world.identities[2].client_id)
            await camera.shoot(group_info, f"group-info{name}-{suffix}")
            group_info.reject()

            new_group = controller.open_new_group()
            assert new_group is not None
            new_group.name_edit.setText(SCRIPTS[lang].new_group)
            for identity in world.identities[1:3]:
                new_group.set_checked(identity.client_id)
            await camera.shoot(new_group, f"new-group{name}-{suffix}")
            new_group.reject()
        theme.force(Qt.ColorScheme.Light)
        await _shoot_conversation_state(camera, controller, world, suffix)
    finally:
        if controller is not None:
            stopping = controller
            stopping.quit(0)
            await _wait_for(lambda: stopping.stopped, 10, "the app to quit")
        await world.stop()


async def _shoot_conversation_state(
    camera: _Camera, controller: AppController, world: World, suffix: str
) -> None:
    """The list with a pinned group, a muted chat (grey badge) and an archived one, while
    people type: Ana to Marina, Bruno and Carla in the group (open)."""
    window = controller.window
    store = controller.store
    assert window is not None and store is not None
    ids = [identity.client_id for identity in world.identities]
    store.set_pinned(world.group_id, True)
    store.set_muted(ids[2], MUTED_FOREVER)  # Bruno: one unread, greyed
    store.set_archived(ids[3], True)
    window.reload_conversations()
    window.open_conversation(world.group_id, True)
    world.clients[1].draft_edited(ids[0], False)
    world.clients[2].draft_edited(world.group_id, True)
    world.clients[3].draft_edited(world.group_id, True)
    await _wait_for(
        lambda: (
            len(controller.client.typing_in(world.group_id)) == 2  # type: ignore[union-attr]
            and window.typing_shown(ids[1]) != ""
        ),
        10,
        "the typing notices",
    )
    window.chat_view.scroll_to_bottom()
    await camera.shoot(window, f"typing-muted-pinned-{suffix}")
    for client, conversation in ((1, ids[0]), (2, world.group_id), (3, world.group_id)):
        world.clients[client].draft_stopped(conversation, conversation == world.group_id)


FILES_TEXT: Final = {
    "en": ("The view from the top!", "trail-report.pdf"),
    "pt_BR": ("A vista lá de cima!", "relatorio-da-trilha.pdf"),
}
"""issue 10: the photo's caption and the document's name, per language."""


def _landscape(path: Path) -> None:
    """A picture to send: a sky, a sun, two ridges and a lake (drawn, not a stock photo)."""
    image = QImage(1600, 1067, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    sky = QLinearGradient(0, 0, 0, 700)
    sky.setColorAt(0, QColor("#ff9a62"))
    sky.setColorAt(1, QColor("#ffd9a0"))
    painter.fillRect(image.rect(), sky)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#fff3c4"))
    painter.drawEllipse(QPointF(1100, 420), 110, 110)
    for colour, peaks in (
        ("#7b5ea7", [(0, 620), (300, 380), (620, 560), (900, 330), (1250, 600), (1600, 420)]),
        ("#3f3a6b", [(0, 760), (380, 540), (760, 720), (1120, 520), (1600, 780)]),
    ):
        ridge = QPolygonF(
            [QPointF(x, y) for x, y in peaks] + [QPointF(1600, 1067), QPointF(0, 1067)]
        )
        painter.setBrush(QColor(colour))
        painter.drawPolygon(ridge)
    lake = QLinearGradient(0, 820, 0, 1067)
    lake.setColorAt(0, QColor("#5b7fc7"))
    lake.setColorAt(1, QColor("#26386b"))
    painter.fillRect(QRectF(0, 840, 1600, 227), lake)
    painter.end()
    image.save(str(path), "JPEG", 88)  # type: ignore[call-overload]


async def _shoot_files(
    camera: _Camera,
    theme: Theme,
    controller: AppController,
    world: World,
    lang: str,
    suffix: str,
    tmp: Path,
) -> None:
    """issue 10: Ana sends Marina a photo (downloaded by itself, shown inline) and a
    document; the document's card is shot mid-download, then the photo in the viewer."""
    window = controller.window
    files = controller.files
    assert window is not None and files is not None
    caption, document_name = FILES_TEXT[lang]
    photo = tmp / "sunset.jpg"
    _landscape(photo)
    document = tmp / document_name
    document.write_bytes(os.urandom(3_400_000))
    ana = world.clients[1]
    marina = world.identities[0].client_id
    await ana.send_files(marina, False, [photo], caption, thumbnails=[make_thumbnail(photo)])
    await ana.send_files(marina, False, [document])
    store = controller.store
    assert store is not None
    ana_id = world.identities[1].client_id

    def arrived() -> list[StoredFile]:
        messages = store.messages_page(ana_id, None, 5)
        found = store.files_of(m.local_id for m in messages)
        return [f for m in messages for f in found.get(m.local_id, [])]

    await _wait_for(lambda: len(arrived()) == 2 and arrived()[0].state == "done", 15, "the photo")
    image, card = arrived()
    window.open_conversation(ana_id, False)
    # A loopback download ends before a frame is drawn: show the card as the core reports
    # a download under way (the same event the transfer emits at 40 %).
    files.on_transfer_event(
        TransferProgress(ana_id, card.local_id, 0, card.size * 2 // 5, card.size, False)
    )
    for scheme, name in ((Qt.ColorScheme.Light, "light"), (Qt.ColorScheme.Dark, "dark")):
        theme.force(scheme)
        await camera.settle()
        window.chat_view.scroll_to_bottom()
        await camera.shoot(window, f"files-{name}-{suffix}")
        viewer = files.actions.view(image)
        assert viewer is not None
        viewer.resize(900, 640)
        await camera.shoot(viewer, f"viewer-{name}-{suffix}")
        viewer.close()
    theme.force(Qt.ColorScheme.Light)
    window.message_model.file_progress.clear()


async def _shoot_welcome(camera: _Camera, suffix: str, tmp: Path) -> None:
    controller = AppController(tmp / "new", server=("chat.example.org", 7850))
    controller.start()
    welcome = controller.welcome
    assert welcome is not None
    welcome.name_edit.setText("Marina Alves")
    await camera.shoot(welcome, f"welcome-{suffix}")
    welcome.registration_succeeded("K7QM-4XPA", "Marina Alves")
    await camera.shoot(welcome, f"welcome-id-{suffix}")
    welcome.hide()
    welcome.deleteLater()
    controller.deleteLater()


async def take_screenshots(out: Path, languages: Sequence[str]) -> list[Path]:
    """Render every screenshot into ``out``; returns the files written."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme = Theme(app, Qt.ColorScheme.Light)
    camera = _Camera(app, out)
    for lang in languages:
        translators = i18n.install_translators(app, lang)
        suffix = "en" if lang == "en" else "pt-br"
        try:
            with tempfile.TemporaryDirectory(prefix="messenger-screenshots-") as tmp:
                await _shoot_world(camera, theme, lang, suffix, Path(tmp) / "world")
                await _shoot_welcome(camera, suffix, Path(tmp) / "welcome")
        finally:
            for translator in translators:
                app.removeTranslator(translator)
    return camera.written


def main(argv: Sequence[str] | None = None) -> int:
    """Render the screenshots; offscreen unless ``QT_QPA_PLATFORM`` says otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m messenger_gui.devtools.screenshots",
        description="Render the app's screenshots (real server, real profiles, offscreen).",
    )
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--lang", action="append", choices=["en", "pt_BR"])
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    import qasync

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    args.out.mkdir(parents=True, exist_ok=True)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        written = loop.run_until_complete(take_screenshots(args.out, args.lang or ["en", "pt_BR"]))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
