"""The client core on Qt's event loop (qasync), as in the app: no asyncio feature it uses
is missing there. A plain (synchronous) test, so pytest-asyncio makes no loop of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from messenger_gui.client import MessengerClient, register_client
from messenger_gui.events import ConnectionState, MessageSent, MessagesReceived
from messenger_gui.storage import ClientStore
from tests.app_harness import kill_loop_timers
from tests.client_support import FAST, EventLog
from tests.conftest import RunningServer


def test_the_core_runs_on_the_qasync_loop(qapp: QApplication, tmp_path: Path) -> None:
    async def scenario() -> None:
        server = RunningServer(tmp_path / "server")
        await server.start()
        store = ClientStore(tmp_path / "alice")
        client: MessengerClient | None = None
        try:
            identity = await register_client("127.0.0.1", server.port, "Alice")
            client = MessengerClient(store, identity, **FAST, ping_interval=0.05)
            log = EventLog()
            client.events.connect(log)
            client.start()
            await log.wait(lambda: client is not None and client.state == ConnectionState.ONLINE)
            await client.send_message(identity.client_id, False, "a note to self")
            await log.wait(lambda: bool(log.of(MessageSent)) and bool(log.of(MessagesReceived)))
            await server.stop()
            await log.wait(lambda: ConnectionState.WAITING in log.states)
            await server.start()
            await log.wait(lambda: log.states[-1] == ConnectionState.ONLINE)
            assert [m.text for m in store.messages_slice(identity.client_id, 0, 10)] == [
                "a note to self"
            ]
        finally:
            if client is not None:
                await client.stop()
            store.close()
            await server.stop()

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(scenario(), 30))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        kill_loop_timers(loop)
