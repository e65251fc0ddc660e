"""Shared fixtures: a real server on 127.0.0.1 with an ephemeral port and a real SQLite
file in a temporary folder (or, with the overrides ``storage="postgresql"`` and a
``database_url``, a PostgreSQL schema)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import trustme

from messenger_server.__main__ import repository_for
from messenger_server.config import Settings, load_settings
from messenger_server.repository import Repository, SQLiteRepository
from messenger_server.server import MessengerServer
from tests.engines import PostgreSQLServer
from tests.wire import Identity, WireClient

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    import uvloop
except ImportError:  # not installed on this platform: asyncio's loop only
    uvloop = None  # type: ignore[assignment]

BOTH_LOOPS = frozenset({"test_server_e2e.py", "test_tls_and_cli.py", "test_conversation_e2e.py"})
"""Test files run on asyncio's loop and on uvloop (the server's default on Linux)."""


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if uvloop is None or item.path.name not in BOTH_LOOPS:
        return {"asyncio": asyncio.new_event_loop}
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(
        environ={}, overrides={"host": "127.0.0.1", "port": 0, "data_dir": data_dir, **overrides}
    )


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgreSQLServer]:
    """A throwaway PostgreSQL for the whole session, started by the first test that needs
    it; a test that asks for it is skipped when PostgreSQL is not installed."""
    server = PostgreSQLServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[SQLiteRepository]:
    store = SQLiteRepository(tmp_path / "store" / "messenger.db")
    await store.open()
    yield store
    await store.close()


class RunningServer:
    """A server in this test's event loop; ``restart`` keeps the data directory."""

    def __init__(self, data_dir: Path, **overrides: Any) -> None:
        self.overrides = overrides
        self.settings = make_settings(data_dir, **overrides)
        self.storage: Repository | None = None
        self.server: MessengerServer | None = None
        self.clients: list[WireClient] = []

    async def start(self) -> None:
        self.storage = repository_for(self.settings)
        await self.storage.open()
        self.server = MessengerServer(self.settings, self.storage)
        await self.server.start()
        if self.settings.port == 0:  # keep the port across restarts
            self.settings = make_settings(
                self.settings.data_dir, **{**self.overrides, "port": self.server.port}
            )

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.storage is not None:
            await self.storage.close()
        self.server = self.storage = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    async def connect(self, **kwargs: Any) -> WireClient:
        client = await WireClient.connect(self.port, **kwargs)
        self.clients.append(client)
        return client

    async def user(self, name: str) -> tuple[WireClient, Identity]:
        """A newly registered, logged-in client."""
        client = await self.connect()
        identity = await client.register(name)
        reply = await client.login(identity)
        assert reply.__class__.__name__ == "LoggedIn", reply
        return client, identity

    async def introduce(self, identity: Identity, *others: Identity) -> None:
        """``identity`` (offline) adds ``others`` as contacts, on a connection of its own:
        they may then add it to groups."""
        client = await WireClient.connect(self.port)
        await client.login(identity)
        await client.add_contacts(*(other.client_id for other in others))
        await client.close()

    async def pending(self, client_id: str) -> int:
        """Messages and group updates stored for ``client_id`` and not acknowledged."""
        assert self.storage is not None and self.server is not None
        await self.server.service.context.pipeline.barrier()
        conversations = await self.storage.pending_conversations(
            client_id, f"{client_id}:{client_id}"
        )
        return sum(count for _, _, count in conversations) + await self.storage.count_notices(
            client_id
        )

    async def close_clients(self) -> None:
        for client in self.clients:
            await client.close()
        self.clients.clear()


@pytest.fixture
async def server_factory(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    started: list[RunningServer] = []

    async def start(**overrides: Any) -> RunningServer:
        running = RunningServer(tmp_path / f"server{len(started)}", **overrides)
        await running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        await running.close_clients()
        await running.stop()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = RunningServer(tmp_path / "server")
    await running.start()
    yield running
    await running.close_clients()
    await running.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[trustme.CA, Path, Path]:
    """A test CA, and a certificate it issued for localhost and 127.0.0.1."""
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return ca, cert_path, key_path
