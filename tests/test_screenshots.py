"""The screenshot script (``python -m messenger_gui.devtools.screenshots``) shares one qasync loop
with the in-process server and the clients: letting Qt settle before a shot must never
stop them (it once did, and a contact lookup then hung forever, about 1 run in 4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from messenger_gui.devtools.screenshots import _Camera
from tests.app_harness import kill_loop_timers


def test_settling_before_a_shot_lets_a_waiting_task_resume(
    qapp: QApplication, tmp_path: Path
) -> None:
    """A task whose wake-up is due while the camera settles (a server connection handler
    whose storage call just finished) still runs: nothing re-enters Qt's loop from inside
    the script's task, where asyncio would refuse that wake-up and the task never resume."""
    camera = _Camera(qapp, tmp_path)
    handlers: list[asyncio.Task[None]] = []

    async def play() -> bool:
        answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def handler() -> None:
            await answer

        handlers.append(asyncio.ensure_future(handler()))
        await asyncio.sleep(0)  # the handler now waits for its answer
        answer.set_result(None)  # ... and its wake-up is scheduled
        await camera.settle()
        return handlers[0].done()

    # A loop of its own: a task that lost its wake-up can never finish, not even when
    # cancelled, so the shared harness (which waits for every task) would hang instead.
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        resumed = loop.run_until_complete(asyncio.wait_for(play(), 10))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
        kill_loop_timers(loop)
        handlers.clear()
    assert resumed
