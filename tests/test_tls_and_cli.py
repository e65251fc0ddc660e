"""TLS transport and the admin command line."""

from __future__ import annotations

import ssl

import pytest

from messenger_server import __version__, protocol
from messenger_server.__main__ import main
from tests.conftest import RunningServer
from tests.wire import WireClient


async def test_tls_connection_carries_the_protocol(server_factory, certificate) -> None:  # type: ignore[no-untyped-def]
    ca, cert_path, key_path = certificate
    server: RunningServer = await server_factory(tls_cert=cert_path, tls_key=key_path)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    client = await WireClient.connect(server.port, ssl_context=context)
    identity = await client.register("Secure Sam")
    assert isinstance(await client.login(identity), protocol.LoggedIn)
    await client.close()


async def test_tls_server_refuses_plain_tcp(server_factory, certificate) -> None:  # type: ignore[no-untyped-def]
    _, cert_path, key_path = certificate
    server: RunningServer = await server_factory(tls_cert=cert_path, tls_key=key_path)
    client = await WireClient.connect(server.port, hello=False)
    client.send_frame(protocol.Hello(id=1, protocol=protocol.PROTOCOL_VERSION))
    await client.wait_closed()
    assert client.events.empty()


async def test_untrusted_certificate_is_rejected_by_the_client(server_factory, certificate) -> None:  # type: ignore[no-untyped-def]
    _, cert_path, key_path = certificate
    server: RunningServer = await server_factory(tls_cert=cert_path, tls_key=key_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        await WireClient.connect(server.port, ssl_context=ssl.create_default_context())


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_configuration_errors_are_clear(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "70000"]) == 2
    assert "port" in capsys.readouterr().err


async def test_admin_lists_disables_and_enables_users(
    server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await server.connect()
    alice = await client.register("Alice Admin-Test")
    await client.close()
    data_dir = str(server.settings.data_dir)

    # The admin CLI runs its own event loop; run it in a thread as a separate process would.
    import asyncio

    async def cli(*args: str) -> int:
        return await asyncio.to_thread(main, ["--data-dir", data_dir, "users", *args])

    assert await cli("list") == 0
    out = capsys.readouterr().out
    assert alice.client_id in out and "Alice Admin-Test" in out and "active" in out

    assert await cli("disable", alice.client_id.lower()) == 0
    refused = await server.connect()
    reply = await refused.login(alice)
    assert isinstance(reply, protocol.Error) and reply.code == protocol.ErrorCode.CLIENT_DISABLED

    assert await cli("enable", alice.client_id) == 0
    accepted = await server.connect()
    assert isinstance(await accepted.login(alice), protocol.LoggedIn)

    assert await cli("disable", "ZZZZ-ZZZZ") == 1
    assert "no user" in capsys.readouterr().err
