"""``make demo`` and ``make run`` helpers (``messenger_gui.devtools.local_demo``), against a real
server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from messenger_gui.devtools.local_demo import (
    ANSWER,
    GREETING,
    QUESTION,
    prepare_profiles,
    set_aside_stale_profiles,
    wait_until_listening,
)
from messenger_gui.storage import ClientStore, load_client_data
from tests.conftest import RunningServer


async def test_demo_profiles_know_each_other_and_show_a_reply_an_edit_and_reactions(
    server: RunningServer, tmp_path: Path
) -> None:
    alice, bob = await prepare_profiles("127.0.0.1", server.port, tmp_path)
    assert (alice.display_name, bob.display_name) == ("Alice", "Bob")
    with ClientStore(tmp_path / "demo-alice") as store:
        contact = store.contact(bob.client_id)
        assert contact is not None and contact.display_name == "Bob"
        hello, question, answer = store.messages_slice(bob.client_id, 0, 10)
        assert hello.text == GREETING and hello.status != "queued"
        assert (question.text, question.edited) == (QUESTION[1], True)
        assert answer.text == ANSWER and answer.quote is not None
        assert answer.quote.local_id == question.local_id
        assert [(r.name, r.emoji) for r in hello.reactions] == [("Bob", "👍")]
        assert [(r.name, r.emoji) for r in answer.reactions] == [("Alice", "❤️")]
        assert store.outbox() == [] and store.outbox_entries() == []
    with ClientStore(tmp_path / "demo-bob") as store:
        assert store.contact(alice.client_id) is not None
        assert [m.text for m in store.messages_slice(alice.client_id, 0, 10)] == [
            GREETING,
            QUESTION[1],
            ANSWER,
        ]

    again = await prepare_profiles("127.0.0.1", server.port, tmp_path)  # a second `make demo`
    assert [i.client_id for i in again] == [alice.client_id, bob.client_id]
    with ClientStore(tmp_path / "demo-alice") as store:
        assert len(store.messages_slice(bob.client_id, 0, 10)) == 3  # not played twice
    assert load_client_data(tmp_path / "demo-bob") == bob


def test_wait_until_listening() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert wait_until_listening("127.0.0.1", listener.getsockname()[1], timeout=2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    assert not wait_until_listening("127.0.0.1", closed_port, timeout=0.3)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert not wait_until_listening("127.0.0.1", closed_port, timeout=5, pid=finished.pid)


def test_profiles_of_a_vanished_demo_server_are_set_aside(tmp_path: Path) -> None:
    (tmp_path / "demo-alice").mkdir()
    (tmp_path / "demo-alice" / "identity.json").write_text("{}")
    (tmp_path / "demo-alice.stale").mkdir()  # from an earlier time: replaced
    set_aside_stale_profiles(tmp_path)
    assert not (tmp_path / "demo-alice").exists()
    assert (tmp_path / "demo-alice.stale" / "identity.json").read_text() == "{}"
    assert not (tmp_path / "demo-bob.stale").exists()  # there was no Bob to move
