"""docs/protocol.md is exactly true: its transcripts come from a real server, its examples
are what the encoder produces, and its minimal client works."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any

import msgspec
import pytest

from messenger_server import protocol
from tests.conftest import RunningServer
from tests.protocol_doc import DOC, render, run_flows

pytestmark = pytest.mark.timeout(60)

JSON_BLOCK = re.compile(r"```json\n(.*?)```", re.DOTALL)
PYTHON_BLOCK = re.compile(r"## 9\. A minimal client.*?```python\n(.*?)```", re.DOTALL)
NESTED = (
    protocol.Limits,
    protocol.GroupInfo,
    protocol.Member,
    protocol.Receipt,
    protocol.ReplyTo,
    protocol.Forwarded,
    protocol.PresenceInfo,
)


def document() -> str:
    return DOC.read_text(encoding="utf-8")


async def test_the_transcripts_are_what_the_server_says() -> None:
    blocks = await run_flows()
    current = document()
    assert render(current, blocks) == current, (
        "docs/protocol.md section 7 differs from the server: if the change is deliberate, "
        "run `.venv/bin/python -m tests.protocol_doc --write`"
    )


def examples() -> list[str]:
    return [block.strip() for block in JSON_BLOCK.findall(document())]


def test_the_document_has_examples_of_every_frame() -> None:
    kinds = {json.loads(example).get("type") for example in examples()}
    for union in (protocol.ClientFrame, protocol.ServerFrame):
        for cls in union.__args__:  # type: ignore[attr-defined]
            assert cls.__struct_config__.tag in kinds, cls.__name__


@pytest.mark.parametrize("example", examples())
def test_every_example_is_valid_and_server_frames_are_as_encoded(example: str) -> None:
    value: Any = json.loads(example)
    payload = example.encode()
    if "type" not in value:  # a nested object
        assert any(_decodes(payload, cls) for cls in NESTED), example
        return
    client_tags = {cls.__struct_config__.tag for cls in protocol.ClientFrame.__args__}  # type: ignore[attr-defined]
    if value["type"] in client_tags:
        try:
            protocol.decode_client_frame(payload)
            return
        except protocol.ProtocolError:
            if value["type"] != "typing":  # the one tag of both directions
                raise
    frame = protocol.decode_server_frame(payload)
    assert protocol.encode_payload(frame).decode() == example


def _decodes(payload: bytes, cls: type) -> bool:
    try:
        msgspec.json.decode(payload, type=cls)
    except msgspec.ValidationError:
        return False
    return True


async def test_the_minimal_client_works_as_printed(server: RunningServer) -> None:
    [source] = PYTHON_BLOCK.findall(document())
    source = source.replace('("127.0.0.1", 7850)', f'("127.0.0.1", {server.port})')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-u", "-c", source, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(20):
            while len(lines) < 4:
                lines.append((await process.stdout.readline()).decode().strip())
    finally:
        process.kill()
        await process.wait()
    assert lines[0] == "stored as message 1 seq 1"
    assert sorted(lines[1:3]) == ["Mini: Olá, eu!", "up to date"]
    assert re.fullmatch(r"\w{4}-\w{4} has up to seq 1, read up to 0", lines[3]), lines
