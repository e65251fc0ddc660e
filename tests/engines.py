"""Throwaway database and bus servers of a test's own, in temporary folders.

The cluster tests need real engines: Redis (``redis-server``) and PostgreSQL (``initdb``,
``pg_ctl``). When a binary is missing the tests that need it are skipped, saying which
Debian packages install it (``.ci/run`` installs them, so CI always runs these tests).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

INSTALL_HINT = "sudo apt-get install -y redis-server postgresql"


def need(binary: str) -> str:
    """The path of ``binary``, or skip the test naming the command that installs it."""
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (it needs: {INSTALL_HINT})")
    return path


class RedisServer:
    """``redis-server`` on a Unix socket in ``folder`` (no TCP port to pick or collide),
    without persistence."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        binary = need("redis-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                binary,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.folder),
                "--save", "",
                "--appendonly", "no",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
        self.socket.unlink(missing_ok=True)
