"""The throwaway PostgreSQL and Redis of the tests (:mod:`messenger_server.bench.engines`):
a test that needs a binary that is not installed is skipped, with the command that
installs it (``.ci/run`` installs them, so CI always runs these tests)."""

from __future__ import annotations

import pytest

from messenger_server.bench import engines
from messenger_server.bench.engines import INSTALL_HINT, MissingEngine

__all__ = ["INSTALL_HINT", "PostgreSQLServer", "RedisServer", "need"]


def need(binary: str) -> str:
    """The path of ``binary``, or skip the test naming the command that installs it."""
    try:
        return engines.need(binary)
    except MissingEngine as exc:
        pytest.skip(str(exc))


class RedisServer(engines.RedisServer):
    def start(self) -> None:
        try:
            super().start()
        except MissingEngine as exc:
            pytest.skip(str(exc))


class PostgreSQLServer(engines.PostgreSQLServer):
    def __init__(self, *, durable: bool = False) -> None:
        try:
            super().__init__(durable=durable)
        except MissingEngine as exc:
            pytest.skip(str(exc))
