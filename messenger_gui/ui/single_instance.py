"""One app per profile: starting Messenger again brings the running window to the front.

Two instances on one profile would share its history and identity and keep signing each
other out ("signed in elsewhere"). :class:`ProfileLock` holds a lock file in the profile
(``QLockFile``: a lock left by a crashed app is recognised as stale and taken over) and
listens on a Unix socket there; a second start finds the lock taken, sends ``show`` through
the socket and exits. Where Unix sockets are unavailable (or the path is too long for
one) the second start simply exits after saying so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Final

from PySide6.QtCore import QLockFile

log = logging.getLogger(__name__)

LOCK_FILE: Final = "app.lock"
SOCKET_FILE: Final = "app.sock"
SHOW: Final = b"show\n"
_MAX_SOCKET_PATH: Final = 100


class ProfileLock:
    """The lock of one profile directory (created if needed)."""

    def __init__(self, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.profile = profile
        self._lock = QLockFile(str(profile / LOCK_FILE))
        self._lock.setStaleLockTime(0)  # only a dead owner makes it stale, never age
        self._server: asyncio.AbstractServer | None = None

    @property
    def socket_path(self) -> Path:
        return self.profile / SOCKET_FILE

    def _socket_usable(self) -> bool:
        return hasattr(socket, "AF_UNIX") and len(str(self.socket_path)) <= _MAX_SOCKET_PATH

    def acquire(self) -> bool:
        """Take the lock; False when another running app holds it."""
        return bool(self._lock.tryLock(0))

    async def serve(self, on_show: Callable[[], None]) -> None:
        """Call ``on_show`` whenever another start asks for the window (after
        :meth:`acquire` succeeded)."""
        if not self._socket_usable():
            return

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                line = await asyncio.wait_for(reader.readline(), 2)
                if line == SHOW:
                    log.info("another start asked for the window")
                    on_show()
            except (TimeoutError, OSError):
                pass
            finally:
                writer.close()

        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # left by a crash; we hold the lock
        self._server = await asyncio.start_unix_server(handle, path=str(self.socket_path))

    async def ask_running_instance_to_show(self) -> bool:
        """Ask the app holding the lock to show its window; False if it cannot be told."""
        if not self._socket_usable():
            return False
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.socket_path)), 2
            )
        except (OSError, TimeoutError):
            return False
        writer.write(SHOW)
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def release(self) -> None:
        """Stop listening and unlock (on quit)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
        if self._lock.isLocked():
            self._lock.unlock()
