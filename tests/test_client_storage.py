"""The desktop client's local storage, on real SQLite files in a temporary folder."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import platformdirs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messenger_gui.storage import (
    DATABASE_FILE,
    IDENTITY_FILE,
    MIGRATIONS,
    SCHEMA_VERSION,
    Chunk,
    ClientData,
    ClientStore,
    Contact,
    GroupReceipts,
    PeerMarker,
    SchemaTooNewError,
    StatusChange,
    StoredMessage,
    load_client_data,
    profile_dir,
    save_client_data,
    save_client_id,
)
from messenger_server import protocol

ANA = "K7QM-4XPA"
BRUNO = "B8NZ-2FHC"  # this client
CARLA = "R5TV-6JWE"
DIEGO = "D3XW-9KQT"
FAMILY = "G-Q2RT-8HVB"

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def incoming(
    message_id: int,
    seq: int,
    text: str = "Oi!",
    *,
    sender: str = ANA,
    sender_name: str = "Ana Lima",
    group: str | None = None,
    ts: int | None = None,
) -> protocol.Message:
    return protocol.Message(
        message_id=message_id,
        seq=seq,
        ts=1_764_000_000_000 + seq if ts is None else ts,
        sender=sender,
        sender_name=sender_name,
        text=text,
        to=None if group else BRUNO,
        group=group,
    )


def status_of(store: ClientStore, local_id: int) -> str:
    message = store.message(local_id)
    assert message is not None
    return message.status


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "profiles" / "default"


@pytest.fixture
def store(profile: Path) -> Iterator[ClientStore]:
    with ClientStore(profile) as opened:
        yield opened


IDENTITY = ClientData(
    server_host="chat.example.org",
    server_port=7700,
    use_tls=True,
    client_id=BRUNO,
    credential="s3cr3t-credential-0123456789",
    display_name="Bruno",
    tls_fingerprint="AB:CD:EF",
)


# --- profile and identity ------------------------------------------------------------------


def test_each_profile_has_its_own_folder_in_the_platform_data_dir() -> None:
    profiles = Path(platformdirs.user_data_dir("messenger")) / "profiles"
    assert profile_dir(None) == profiles / "default"
    assert profile_dir("work_2-b") == profiles / "work_2-b"


@pytest.mark.parametrize("name", ["", "a/b", "..", "a b", "é", "x" * 65, "name\n", "C:"])
def test_profile_names_that_could_escape_or_confuse_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        profile_dir(name)


def test_identity_round_trips(profile: Path) -> None:
    assert load_client_data(profile) is None
    save_client_data(profile, IDENTITY)
    assert load_client_data(profile) == IDENTITY
    assert os.listdir(profile) == [IDENTITY_FILE]  # no temporary file left behind


@posix_only
def test_identity_is_readable_by_the_user_only(profile: Path) -> None:
    save_client_data(profile, IDENTITY)
    assert mode(profile / IDENTITY_FILE) == 0o600
    assert mode(profile) == 0o700


def test_registration_records_the_new_id_and_keeps_the_server_settings(profile: Path) -> None:
    save_client_data(profile, IDENTITY)
    updated = save_client_id(profile, ANA, "another-credential-0123456789")
    assert load_client_data(profile) == updated
    assert (updated.client_id, updated.credential) == (ANA, "another-credential-0123456789")
    assert (updated.server_host, updated.server_port, updated.display_name) == (
        "chat.example.org",
        7700,
        "Bruno",
    )
    with pytest.raises(FileNotFoundError):
        save_client_id(profile.parent / "other", ANA, "another-credential-0123456789")


def test_a_damaged_identity_is_an_error_not_a_fresh_start(profile: Path) -> None:
    profile.mkdir(parents=True)
    (profile / IDENTITY_FILE).write_text("{not json")
    with pytest.raises(ValueError):
        load_client_data(profile)
    (profile / IDENTITY_FILE).write_text(json.dumps({"server_host": "x", "server_port": "80"}))
    with pytest.raises(ValueError):
        load_client_data(profile)


def test_the_credential_stays_out_of_logs() -> None:
    assert IDENTITY.credential not in repr(IDENTITY)


# --- the database file and its schema -------------------------------------------------------


@posix_only
def test_history_files_are_readable_by_the_user_only(store: ClientStore, profile: Path) -> None:
    store.queue_outgoing(ANA, False, "hello")
    database = profile / DATABASE_FILE
    files = [database, database.with_name(DATABASE_FILE + "-wal")]
    files.append(database.with_name(DATABASE_FILE + "-shm"))
    for path in files:
        assert path.exists() and mode(path) == 0o600, path
    assert mode(profile) == 0o700


def test_schema_is_versioned_and_reopening_migrates_nothing(profile: Path) -> None:
    with ClientStore(profile) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.add_contact(ANA, "Ana Lima")
    with ClientStore(profile) as store:  # migrations already applied: nothing to redo
        assert store.schema_version == SCHEMA_VERSION
        assert [c.client_id for c in store.contacts()] == [ANA]
    raw = sqlite3.connect(profile / DATABASE_FILE)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_history_written_by_a_newer_app_is_left_alone(profile: Path) -> None:
    ClientStore(profile).close()
    raw = sqlite3.connect(profile / DATABASE_FILE)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaTooNewError):
        ClientStore(profile)


# --- receiving -----------------------------------------------------------------------------


def test_incoming_message_is_stored_once_even_if_delivered_twice(store: ClientStore) -> None:
    first = incoming(11, 1, "Oi Bruno! Tudo bem?")
    assert store.save_message_to_history(first) is True
    assert store.save_message_to_history(first) is False  # redelivered after a lost ack
    assert store.message_count(ANA) == 1
    (stored,) = store.messages_page(ANA, None, 10)
    assert (stored.direction, stored.status, stored.sender) == ("in", "received", ANA)
    assert (stored.text, stored.seq, stored.message_id) == ("Oi Bruno! Tudo bem?", 1, 11)


def test_a_backlog_page_is_stored_once_and_reports_what_was_new(store: ClientStore) -> None:
    store.save_message_to_history(incoming(11, 1))
    page = [incoming(11, 1), incoming(12, 2), incoming(12, 2), incoming(13, 1, group=FAMILY)]
    new = store.save_messages_to_history(page)
    assert [m.message_id for m in new] == [12, 13]
    assert store.message_count(ANA) == 2
    assert store.message_count(FAMILY) == 1


def test_any_text_is_stored_exactly(store: ClientStore) -> None:
    text = "nul\x00 line\u2028sep 😀 <b>" + "x" * 60_000
    store.save_message_to_history(incoming(1, 1, text))
    assert store.messages_page(ANA, None, 1)[0].text == text


# --- sending: outbox and ticks ------------------------------------------------------------


def test_outbox_survives_a_restart_and_keeps_its_keys(profile: Path) -> None:
    with ClientStore(profile) as store:
        first = store.queue_outgoing(ANA, False, "composed offline")
        second = store.queue_outgoing(FAMILY, True, "to the family")
        assert first.status == "queued" and len(first.key) == 32 and first.key != second.key
    with ClientStore(profile) as store:  # the app restarted
        assert store.outbox() == [first, second]
        assert store.mark_sent(first.key, message_id=5, seq=1, ts=1_764_000_000_500, me=BRUNO)
        assert store.outbox() == [second]
        assert second.is_group and second.conversation == FAMILY


@pytest.mark.parametrize(
    ("conversation", "is_group", "text"),
    [
        (FAMILY, False, "a group ID as a client"),
        (ANA, True, "a client ID as a group"),
        ("nonsense", False, "hi"),
        (ANA, False, "   "),
        (ANA, False, "x" * (protocol.MAX_TEXT_BYTES + 1)),
    ],
)
def test_a_message_the_server_would_refuse_never_enters_the_outbox(
    store: ClientStore, conversation: str, is_group: bool, text: str
) -> None:
    with pytest.raises(ValueError):
        store.queue_outgoing(conversation, is_group, text)
    assert store.outbox() == []


# --- sending: messages the server refused for good ------------------------------------------


def test_a_refused_message_leaves_the_outbox_and_stays_failed_after_a_restart(
    profile: Path,
) -> None:
    with ClientStore(profile) as store:
        refused = store.queue_outgoing(FAMILY, True, "after being removed")
        waiting = store.queue_outgoing(ANA, False, "still to send")
        assert store.mark_failed(refused.local_id, "not_a_member", "not a member of the group")
        assert [m.local_id for m in store.outbox()] == [waiting.local_id]
    with ClientStore(profile) as store:  # the app restarted: not sent again
        assert [m.local_id for m in store.outbox()] == [waiting.local_id]
        shown = store.message(refused.local_id)
        assert shown is not None
        assert (shown.status, shown.failure) == ("queued", "not_a_member")
        assert store.messages_page(FAMILY, None, 10)[0].failure == "not_a_member"
        failure = store.send_failure(refused.local_id)
        assert failure is not None and failure.message == "not a member of the group"
        assert [f.local_id for f in store.failed_outgoing()] == [refused.local_id]
        waiting_shown = store.message(waiting.local_id)
        assert waiting_shown is not None and waiting_shown.failure is None
        summaries = {c.conversation: c for c in store.conversations_summary()}
        assert summaries[FAMILY].last_failure == "not_a_member"
        assert summaries[ANA].last_failure is None


def test_retrying_a_failed_message_sends_it_again_with_the_same_key(store: ClientStore) -> None:
    refused = store.queue_outgoing(ANA, False, "to a disabled account")
    store.mark_failed(refused.local_id, "unknown_client", "no such client")
    assert store.outbox() == []
    assert store.retry_failed(refused.local_id) is True
    assert store.outbox() == [refused]  # same local_id, same key: stored once at most
    assert store.retry_failed(refused.local_id) is False  # nothing to retry any more
    retried = store.message(refused.local_id)
    assert retried is not None and retried.failure is None


def test_only_queued_outgoing_messages_can_be_marked_failed(store: ClientStore) -> None:
    store.save_message_to_history(incoming(1, 1, "from Ana"))
    sent = store.queue_outgoing(ANA, False, "already there")
    store.mark_sent(sent.key, message_id=2, seq=2, ts=1_764_000_000_002, me=BRUNO)
    (received,) = [m for m in store.messages_page(ANA, None, 10) if m.direction == "in"]
    assert store.mark_failed(received.local_id, "not_a_member", "") is False
    assert store.mark_failed(sent.local_id, "not_a_member", "") is False
    assert store.mark_failed(999, "not_a_member", "") is False
    assert store.failed_outgoing() == []


def test_a_late_sent_reply_clears_the_failure(store: ClientStore) -> None:
    queued = store.queue_outgoing(ANA, False, "raced")
    store.mark_failed(queued.local_id, "internal_error", "")
    assert store.mark_sent(queued.key, message_id=7, seq=1, ts=1_764_000_000_001, me=BRUNO)
    shown = store.message(queued.local_id)
    assert shown is not None and (shown.status, shown.failure) == ("sent", None)
    assert store.failed_outgoing() == []


def test_unsent_messages_can_be_deleted_but_sent_ones_stay(store: ClientStore) -> None:
    store.save_message_to_history(incoming(1, 1, "from Ana about bananas"))
    failed = store.queue_outgoing(ANA, False, "failed bananas")
    store.mark_failed(failed.local_id, "unknown_client", "")
    queued = store.queue_outgoing(ANA, False, "queued bananas")
    sent = store.queue_outgoing(ANA, False, "sent bananas")
    store.mark_sent(sent.key, message_id=2, seq=2, ts=1_764_000_000_002, me=BRUNO)
    (received,) = [m for m in store.messages_page(ANA, None, 10) if m.direction == "in"]

    assert store.delete_outgoing(failed.local_id) is True
    assert store.delete_outgoing(queued.local_id) is True
    assert store.delete_outgoing(sent.local_id) is False
    assert store.delete_outgoing(received.local_id) is False
    assert store.delete_outgoing(failed.local_id) is False  # gone already

    assert [m.text for m in store.messages_page(ANA, None, 10)] == [
        "from Ana about bananas",
        "sent bananas",
    ]
    assert store.outbox() == [] and store.failed_outgoing() == []
    assert sorted(h.text for h in store.search("bananas")) == [
        "from Ana about bananas",
        "sent bananas",
    ]


def test_a_schema_1_history_is_migrated_with_its_data_and_outbox(profile: Path) -> None:
    profile.mkdir(parents=True)
    raw = sqlite3.connect(profile / DATABASE_FILE)
    for statement in MIGRATIONS[0]:
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute(
        "INSERT INTO messages (conversation, is_group, direction, sender, sender_name, text, "
        "search_text, ts, seq, message_id, status) "
        "VALUES (?, 0, 'in', ?, 'Ana', 'olá', 'ola', 1, 1, 11, 'received')",
        (ANA, ANA),
    )
    raw.execute(
        "INSERT INTO messages (conversation, is_group, direction, text, ts, key, status) "
        "VALUES (?, 0, 'out', 'queued before the update', 2, 'k1', 'queued')",
        (ANA,),
    )
    raw.commit()
    raw.close()

    with ClientStore(profile) as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        page = store.messages_page(ANA, None, 10)
        assert [(m.text, m.failure) for m in page] == [
            ("olá", None),
            ("queued before the update", None),
        ]
        [queued] = store.outbox()
        assert (queued.key, queued.text) == ("k1", "queued before the update")
        assert store.mark_failed(queued.local_id, "text_too_large", "too long")
        assert store.outbox() == []
        assert [h.text for h in store.search("olá")] == ["olá"]


def test_contacts_of_an_older_history_are_shared_once_then_remembered(profile: Path) -> None:
    """Before the ``shared`` column, no contact was known to be on the server: each is
    shared at the next login, then marked."""
    step = next(n for n, s in enumerate(MIGRATIONS) if any("shared" in x for x in s))
    profile.mkdir(parents=True)
    raw = sqlite3.connect(profile / DATABASE_FILE)
    for statements in MIGRATIONS[:step]:
        for statement in statements:
            raw.execute(statement)
    raw.execute(f"PRAGMA user_version = {step}")
    raw.execute(
        "INSERT INTO contacts (client_id, display_name, added_at) VALUES (?, 'Ana', 1)", (ANA,)
    )
    raw.commit()
    raw.close()

    with ClientStore(profile) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.unshared_contacts() == [ANA]
        store.mark_contacts_shared([ANA])
        store.add_contact(CARLA, "Carla")  # added offline: not on the server yet
        store.add_contact(ANA, "Ana Lima")  # a new name keeps the flag
        assert store.unshared_contacts() == [CARLA]
        store.add_contact(CARLA, "Carla", shared=True)
        assert store.unshared_contacts() == []


def test_a_schema_2_history_keeps_its_ticks_and_asks_for_every_receipt(profile: Path) -> None:
    """Protocol 1's receipts (``early_deliveries``, ``peer_read_seq``) give way to markers;
    the ticks already shown stay, and the first login asks for every marker again."""
    profile.mkdir(parents=True)
    raw = sqlite3.connect(profile / DATABASE_FILE)
    for step in MIGRATIONS[:2]:
        for statement in step:
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 2")
    for n, status in enumerate(("read", "delivered", "sent"), start=1):
        raw.execute(
            "INSERT INTO messages (conversation, is_group, direction, text, ts, seq, "
            "message_id, key, status) VALUES (?, 0, 'out', ?, 1, ?, ?, ?, ?)",
            (ANA, f"m{n}", n, 100 + n, f"k{n}", status),
        )
    raw.execute("INSERT INTO read_markers (conversation, peer_read_seq) VALUES (?, 1)", (ANA,))
    raw.execute("INSERT INTO early_deliveries (message_id, received_at) VALUES (999, 1)")
    raw.commit()
    raw.close()

    with ClientStore(profile) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.receipts_version() == 0  # receipts_since 0: the server sends them all
        assert [m.status for m in store.messages_page(ANA, None, 10)] == [
            "read",
            "delivered",
            "sent",
        ]
        changes = store.apply_receipts([receipts(50, (ANA, 3, 2, None))], me=BRUNO)
        assert [m.status for m in store.messages_page(ANA, None, 10)] == [
            "read",
            "read",
            "delivered",
        ]
        assert [(c.status, len(c.local_ids)) for c in changes] == [("delivered", 1), ("read", 1)]
    raw = sqlite3.connect(profile / DATABASE_FILE)
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    assert "early_deliveries" not in tables and "peer_markers" in tables


def test_sent_message_takes_its_place_by_seq(store: ClientStore) -> None:
    store.save_messages_to_history([incoming(1, 1, "one"), incoming(3, 3, "three")])
    queued = store.queue_outgoing(ANA, False, "mine")
    store.save_message_to_history(incoming(5, 5, "five"))  # arrives while still queued
    assert [m.text for m in store.messages_page(ANA, None, 10)] == ["one", "three", "five", "mine"]
    store.mark_sent(queued.key, message_id=4, seq=4, ts=1_764_000_000_004, me=BRUNO)
    page = store.messages_page(ANA, None, 10)
    assert [m.text for m in page] == ["one", "three", "mine", "five"]
    assert page[2].status == "sent" and page[2].ts == 1_764_000_000_004


def receipts(version: int, *markers: tuple[str, int, int, str | None]) -> protocol.Receipts:
    """A ``receipts`` event: ``(by, delivered, read, group)`` per marker."""
    return protocol.Receipts(version, [protocol.Receipt(*m) for m in markers])


def test_direct_ticks_follow_the_peers_markers_and_never_go_back(store: ClientStore) -> None:
    outs = [store.queue_outgoing(ANA, False, f"m{n}") for n in range(3)]
    for n, out in enumerate(outs):
        assert store.mark_sent(out.key, message_id=10 + n, seq=2 * n + 2, ts=1, me=BRUNO)

    def statuses() -> list[str]:
        return [m.status for m in store.messages_page(ANA, None, 10)]

    assert statuses() == ["sent", "sent", "sent"]
    changes = store.apply_receipts([receipts(5, (ANA, 4, 0, None))], me=BRUNO)
    ids = [o.local_id for o in outs]
    assert changes == [StatusChange(ANA, "delivered", (ids[0], ids[1]))]
    assert statuses() == ["delivered", "delivered", "sent"]
    # Two events of one chunk, in one call: the read marker passes the first message.
    changes = store.apply_receipts(
        [receipts(7, (ANA, 4, 2, None)), receipts(9, (ANA, 6, 2, None))], me=BRUNO
    )
    assert changes == [
        StatusChange(ANA, "delivered", (ids[2],)),
        StatusChange(ANA, "read", (ids[0],)),
    ]
    assert statuses() == ["read", "delivered", "delivered"]
    assert store.receipts_version() == 9
    # An older position (a late or repeated event) changes nothing, not even the version.
    assert store.apply_receipts([receipts(3, (ANA, 1, 1, None))], me=BRUNO) == []
    assert statuses() == ["read", "delivered", "delivered"]
    assert store.markers(ANA) == [PeerMarker(ANA, 6, 2)]
    assert store.receipts_version() == 9
    # A read marker alone also means delivered.
    store.apply_receipts([receipts(10, (ANA, 6, 6, None))], me=BRUNO)
    assert statuses() == ["read", "read", "read"]
    assert store.mark_sent(outs[0].key, message_id=10, seq=2, ts=1, me=BRUNO) is False
    assert statuses() == ["read", "read", "read"]


def test_receipts_that_arrive_before_the_sent_reply_are_kept(store: ClientStore) -> None:
    # After a reconnect the receipts come right after login, before the outbox is resent.
    read_first = store.queue_outgoing(ANA, False, "one")
    delivered_first = store.queue_outgoing(ANA, False, "two")
    not_yet = store.queue_outgoing(ANA, False, "three")
    assert store.apply_receipts([receipts(4, (ANA, 12, 9, None))], me=BRUNO) == []
    store.mark_sent(read_first.key, message_id=20, seq=9, ts=1, me=BRUNO)
    store.mark_sent(delivered_first.key, message_id=21, seq=12, ts=1, me=BRUNO)
    store.mark_sent(not_yet.key, message_id=22, seq=13, ts=1, me=BRUNO)
    assert [m.status for m in store.messages_page(ANA, None, 10)] == ["read", "delivered", "sent"]


def test_group_ticks_need_every_other_current_member(store: ClientStore) -> None:
    members = [protocol.Member(c, c) for c in (BRUNO, ANA, CARLA, DIEGO)]
    store.save_group(protocol.GroupInfo(FAMILY, "Família", members, BRUNO, created_at=1))
    out = store.queue_outgoing(FAMILY, True, "Oi, família!")
    store.mark_sent(out.key, message_id=40, seq=40, ts=1, me=BRUNO)

    def status() -> str:
        return status_of(store, out.local_id)

    assert store.group_receipts(FAMILY, 40, me=BRUNO) == GroupReceipts(0, 0, 3)
    store.apply_receipts([receipts(1, (ANA, 40, 40, FAMILY), (CARLA, 40, 0, FAMILY))], me=BRUNO)
    assert status() == "sent"  # Diego has not received it
    assert store.group_receipts(FAMILY, 40, me=BRUNO) == GroupReceipts(2, 1, 3)
    assert store.group_receipts(FAMILY, 41, me=BRUNO) == GroupReceipts(0, 0, 3)
    changes = store.apply_receipts([receipts(2, (DIEGO, 45, 0, FAMILY))], me=BRUNO)
    assert changes == [StatusChange(FAMILY, "delivered", (out.local_id,))]
    assert store.group_receipts(FAMILY, 40, me=BRUNO) == GroupReceipts(3, 1, 3)

    # Carla and Diego leave without reading: everyone left has read it.
    fewer = [m for m in members if m.client_id not in (CARLA, DIEGO)]
    store.save_group(protocol.GroupInfo(FAMILY, "Família", fewer, BRUNO, created_at=1))
    assert store.update_group_statuses([FAMILY], me=BRUNO) == [
        StatusChange(FAMILY, "read", (out.local_id,))
    ]
    assert store.group_receipts(FAMILY, 40, me=BRUNO) == GroupReceipts(1, 1, 1)
    # A new member (marker not known yet) does not take the ticks back.
    store.save_group(protocol.GroupInfo(FAMILY, "Família", members, BRUNO, created_at=1))
    assert store.update_group_statuses([FAMILY], me=BRUNO) == []
    assert status() == "read"


def test_a_group_of_one_or_unknown_has_no_ticks_beyond_sent(store: ClientStore) -> None:
    alone = [protocol.Member(BRUNO, "Bruno")]
    store.save_group(protocol.GroupInfo(FAMILY, "Só eu", alone, BRUNO, created_at=1))
    out = store.queue_outgoing(FAMILY, True, "echo")
    store.mark_sent(out.key, message_id=1, seq=1, ts=1, me=BRUNO)
    assert store.update_group_statuses([FAMILY, "G-0000-0000"], me=BRUNO) == []
    assert status_of(store, out.local_id) == "sent"
    assert store.group_receipts(FAMILY, 1, me=BRUNO) == GroupReceipts(0, 0, 0)


def test_own_message_pushed_back_is_not_shown_twice(store: ClientStore) -> None:
    mine = store.queue_outgoing(FAMILY, True, "from me")
    echo = incoming(30, 4, "from me", sender=BRUNO, sender_name="Bruno", group=FAMILY)
    store.save_message_to_history(echo)  # before the sent reply
    store.mark_sent(mine.key, message_id=30, seq=4, ts=1, me=BRUNO)
    assert store.save_message_to_history(echo) is False  # and after it
    (only,) = store.messages_page(FAMILY, None, 10)
    assert (only.direction, only.key, only.status) == ("out", mine.key, "sent")


# --- unread counts, read markers and the conversation list ---------------------------------


def test_unread_counts_follow_the_read_marker(store: ClientStore) -> None:
    store.save_messages_to_history([incoming(1, 1), incoming(2, 2), incoming(4, 4)])
    out = store.queue_outgoing(ANA, False, "reply")
    store.mark_sent(out.key, message_id=3, seq=3, ts=1, me=BRUNO)
    store.save_message_to_history(incoming(5, 1, group=FAMILY))
    assert store.unread_count(ANA) == 3 and store.total_unread() == 4

    assert store.latest_seq(ANA) == 4
    assert store.set_read_marker(ANA, 2) is True
    assert store.unread_count(ANA) == 1 and store.read_marker(ANA) == 2
    assert store.set_read_marker(ANA, 1) is False  # never moves back
    assert store.unread_count(ANA) == 1 and store.total_unread() == 2

    assert store.unconfirmed_read_markers() == [(ANA, 2)]  # resend after login
    store.confirm_read_marker(ANA, 2)
    assert store.unconfirmed_read_markers() == []


def test_conversation_list_is_ordered_by_last_activity_with_unread_counts(
    store: ClientStore,
) -> None:
    store.save_client_contacts(
        [Contact(ANA, "Ana Lima", added_at=100), Contact(CARLA, "Carla", "Carlinha", 500)]
    )
    members = [protocol.Member(ANA, "Ana Lima", admin=True), protocol.Member(BRUNO, "Bruno")]
    store.save_group(protocol.GroupInfo(FAMILY, "Família", members, ANA, created_at=200))
    store.save_messages_to_history(
        [
            incoming(1, 1, "bom dia", ts=1000),
            incoming(2, 2, "tudo bem?", ts=2000),
            incoming(3, 1, "olá família", sender=CARLA, group=FAMILY, ts=3000),
            incoming(4, 1, "a stranger", sender=DIEGO, sender_name="Diego", ts=4000),
        ]
    )
    store.set_read_marker(ANA, 1)

    summary = store.conversations_summary()
    assert [(s.conversation, s.title, s.unread) for s in summary] == [
        (DIEGO, "Diego", 1),
        (FAMILY, "Família", 1),
        (ANA, "Ana Lima", 1),
        (CARLA, "Carlinha", 0),
    ]
    ana = summary[2]
    assert (ana.last_text, ana.last_ts, ana.last_direction) == ("tudo bem?", 2000, "in")
    assert summary[1].is_group and not ana.is_group
    assert summary[3].last_text is None and summary[3].activity_ts == 500

    store.queue_outgoing(ANA, False, "tudo!")  # replying brings the chat to the top
    top = store.conversations_summary()[0]
    assert (top.conversation, top.last_text, top.last_status) == (ANA, "tudo!", "queued")


# --- contacts and groups ------------------------------------------------------------------


def test_contacts_can_be_added_renamed_and_removed(store: ClientStore) -> None:
    store.add_contact(CARLA, "Carla")
    ana = store.add_contact(ANA, "Ana")
    assert ana.name == "Ana" and ana.added_at > 0
    assert store.set_contact_alias(ANA, "Aninha")
    assert store.add_contact(ANA, "Ana Lima").name == "Aninha"  # new name keeps the alias
    assert [c.name for c in store.contacts()] == ["Aninha", "Carla"]
    assert store.remove_contact(CARLA) and not store.remove_contact(CARLA)
    assert [c.client_id for c in store.contacts()] == [ANA]


def test_groups_keep_their_members_and_remember_leaving(store: ClientStore) -> None:
    group = protocol.GroupInfo(FAMILY, "Família", [protocol.Member(ANA, "Ana", admin=True)], ANA, 1)
    store.save_group(group)
    other = protocol.GroupInfo(
        "G-ABCD-EFGH", "Work", [protocol.Member(BRUNO, "Bruno", admin=True)], BRUNO, 2
    )
    store.save_client_groups([group, other])
    bigger = protocol.GroupInfo(
        FAMILY,
        "Família Lima",
        [protocol.Member(ANA, "Ana", admin=True), protocol.Member(CARLA, "Carla")],
        ANA,
        1,
    )
    store.save_group(bigger)  # replaces the member list
    assert [(m.client_id, m.admin) for m in store.group_members(FAMILY)] == [
        (ANA, True),
        (CARLA, False),
    ]
    stored = store.group(FAMILY)
    assert stored is not None and stored.name == "Família Lima" and len(stored.members) == 2

    store.save_client_groups([bigger], complete=True)  # the server no longer lists "Work"
    assert [g.group_id for g in store.groups(include_left=False)] == [FAMILY]
    assert store.mark_group_left(FAMILY)
    assert store.groups(include_left=False) == []
    assert all(g.left for g in store.groups())


# --- paging ------------------------------------------------------------------------------


def fill_conversation(store: ClientStore) -> None:
    """250 incoming messages with gaps in seq, our replies in between, two still queued."""
    store.save_messages_to_history([incoming(1000 + i, 3 * i + 1, f"in {i}") for i in range(250)])
    for i in range(0, 250, 10):
        out = store.queue_outgoing(ANA, False, f"out {i}")
        store.mark_sent(out.key, message_id=5000 + i, seq=3 * i + 2, ts=1, me=BRUNO)
    store.queue_outgoing(ANA, False, "queued 1")
    store.queue_outgoing(ANA, False, "queued 2")


def test_paging_backwards_returns_every_message_once_in_order(store: ClientStore) -> None:
    fill_conversation(store)
    collected: list[StoredMessage] = []
    before: int | None = None
    while page := store.messages_page(ANA, before, 40):
        collected[:0] = page
        before = page[0].local_id
    assert len(collected) == store.message_count(ANA) == 250 + 25 + 2
    assert len({m.local_id for m in collected}) == len(collected)
    seqs = [m.seq for m in collected[:-2]]
    assert all(a is not None and b is not None and a < b for a, b in pairwise(seqs))
    assert [m.text for m in collected[-2:]] == ["queued 1", "queued 2"]
    assert collected == store.messages_slice(ANA, 0, 1000)


def test_paging_forwards_matches_paging_backwards(store: ClientStore) -> None:
    fill_conversation(store)
    everything = store.messages_slice(ANA, 0, 1000)
    forward = store.messages_slice(ANA, 0, 1)
    while page := store.messages_after(ANA, forward[-1].local_id, 33):
        forward.extend(page)
    assert forward == everything
    with pytest.raises(KeyError):
        store.messages_page(FAMILY, everything[5].local_id, 10)  # not of that conversation


# --- search --------------------------------------------------------------------------------


def test_search_finds_part_of_a_word(store: ClientStore) -> None:
    store.save_messages_to_history(
        [incoming(1, 1, "Vamos almoçar amanhã?"), incoming(2, 2, "sem relação")]
    )
    (hit,) = store.search("almo")
    assert hit.text == "Vamos almoçar amanhã?" and hit.conversation == ANA
    assert hit.match_start is not None and hit.match_end is not None
    assert hit.text[hit.match_start : hit.match_end] == "almo"


def test_search_ignores_accents_both_ways(store: ClientStore) -> None:
    store.save_messages_to_history(
        [incoming(1, 1, "A reunião é às três, ação!"), incoming(2, 2, "sem acentos: acao, tres")]
    )
    found = store.search("reuniao")
    assert [h.text for h in found] == ["A reunião é às três, ação!"]
    assert {h.seq for h in store.search("acao")} == {1, 2}
    assert {h.seq for h in store.search("AÇÃO")} == {1, 2}
    hit = store.search("Reuniao")[0]
    assert hit.match_start is not None and hit.match_end is not None
    assert hit.text[hit.match_start : hit.match_end] == "reunião"


def test_search_finds_a_url_fragment(store: ClientStore) -> None:
    store.save_message_to_history(
        incoming(1, 1, "veja https://example.com/docs/setup?lang=pt-BR&x=1 depois")
    )
    store.save_message_to_history(incoming(2, 2, "example dot com"))
    assert [h.seq for h in store.search("example.com/docs")] == [1]
    assert [h.seq for h in store.search("lang=pt-BR&x")] == [1]


def test_short_queries_and_several_words_still_work(store: ClientStore) -> None:
    store.save_messages_to_history(
        [incoming(1, 1, "ok!"), incoming(2, 2, "100% certo"), incoming(3, 3, "tudo ok por aí")]
    )
    assert {h.seq for h in store.search("ok")} == {1, 3}
    assert [h.seq for h in store.search("%")] == [2]
    assert [h.seq for h in store.search("ok tudo")] == [3]
    assert [h.seq for h in store.search("ai")] == [3]
    assert store.search("   ") == []


@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", 'say "hi"*', "NEAR(a b)", 'a" OR "b', "foo*", "-x", "^abc", "AND",
     "'; DROP TABLE messages; --", "\\", "%_", "(((", "col:val", "a\x00b"],
)  # fmt: skip
def test_search_takes_quotes_and_operators_literally(store: ClientStore, query: str) -> None:
    store.save_message_to_history(incoming(1, 1, 'she said "hi"* and left'))
    hits = store.search(query)
    if query == 'say "hi"*':
        assert hits == []  # all words must match, literally
    assert [h.seq for h in store.search('"hi"*')] == [1]


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=30))
def test_search_never_raises_whatever_the_user_types(query: str) -> None:
    with ClientStore(None) as store:
        store.save_message_to_history(incoming(1, 1, 'Olá, ação! https://x.org/?q=1 "q" *'))
        store.search(query)


def test_search_can_be_limited_to_one_conversation(store: ClientStore) -> None:
    store.save_message_to_history(incoming(1, 1, "jantar hoje?"))
    store.save_message_to_history(incoming(2, 1, "jantar amanhã", sender=CARLA, group=FAMILY))
    assert [h.conversation for h in store.search("jantar", conversation=FAMILY)] == [FAMILY]
    assert [h.seq for h in store.search("jantar")] == [1, 1]


def test_search_hit_can_be_scrolled_to(store: ClientStore) -> None:
    fill_conversation(store)
    (hit,) = store.search("in 123")
    everything = store.messages_slice(ANA, 0, 1000)
    position = store.message_position(hit.local_id)
    assert everything[position].local_id == hit.local_id
    around = store.messages_around(hit.local_id, 3)
    assert around == everything[position - 3 : position + 4]


# --- export ----------------------------------------------------------------------------------


def test_export_as_json_parses_back(store: ClientStore) -> None:
    store.save_message_to_history(incoming(1, 1, "Oi, tudo bem? 😀"))
    store.queue_outgoing(ANA, False, 'tudo "ótimo"')
    exported = json.loads(store.export_conversation(ANA, "json"))
    assert [(m["direction"], m["text"]) for m in exported] == [
        ("in", "Oi, tudo bem? 😀"),
        ("out", 'tudo "ótimo"'),
    ]
    assert exported[0]["sender_name"] == "Ana Lima" and exported[0]["seq"] == 1


def test_export_as_html_is_a_standalone_escaped_page(store: ClientStore) -> None:
    store.add_contact(ANA, "Ana <b>Lima</b>")
    store.save_message_to_history(incoming(1, 1, "<script>alert('x')</script> & more"))
    page = store.export_conversation(ANA, "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page and "<b>Lima" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert "<title>Ana &lt;b&gt;Lima&lt;/b&gt;</title>" in page
    with pytest.raises(ValueError):
        store.export_conversation(ANA, "pdf")  # type: ignore[arg-type]


def test_an_export_file_is_private_and_replaces_an_older_one_whole(
    store: ClientStore, tmp_path: Path
) -> None:
    store.save_message_to_history(incoming(1, 1, "only for me"))
    target = tmp_path / "exports" / "chat.json"
    target.parent.mkdir()
    target.write_text("an older export", encoding="utf-8")
    os.chmod(target, 0o644)
    store.export_to_file(ANA, "json", target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [m["text"] for m in json.loads(target.read_text(encoding="utf-8"))] == ["only for me"]
    assert [p.name for p in target.parent.iterdir()] == ["chat.json"]  # no temporary file
    store.export_to_file(ANA, "html", target.with_suffix(".html"))
    assert stat.S_IMODE(target.with_suffix(".html").stat().st_mode) == 0o600
    with pytest.raises(OSError):
        store.export_to_file(ANA, "json", tmp_path / "missing" / "chat.json")


# --- a long conversation ---------------------------------------------------------------------


def test_a_100000_message_conversation_pages_from_the_middle(store: ClientStore) -> None:
    total = 100_000
    backlog = [incoming(i + 1, 2 * i + 1, f"message {i}", ts=i) for i in range(total)]
    assert len(store.save_messages_to_history(backlog)) == total
    assert store.message_count(ANA) == total

    (middle,) = store.messages_slice(ANA, 50_000, 1)
    assert middle.text == "message 50000" and middle.seq == 100_001
    assert store.message_position(middle.local_id) == 50_000
    page = store.messages_page(ANA, middle.local_id, 50)
    assert [m.seq for m in page] == [2 * i + 1 for i in range(49_950, 50_000)]
    after = store.messages_after(ANA, middle.local_id, 50)
    assert [m.text for m in after] == [f"message {i}" for i in range(50_001, 50_051)]
    assert [h.text for h in store.search("message 77777")] == ["message 77777"]
    assert store.unread_count(ANA) == total
    store.set_read_marker(ANA, 2 * 89_999 + 1)
    assert store.unread_count(ANA) == 10_000


# --- one transaction per chunk, drafts, blocking, a backlog's search index (schema 4) --------


def sent_reply(key: str, message_id: int, seq: int) -> protocol.Sent:
    return protocol.Sent(id=1, key=key, message_id=message_id, seq=seq, ts=1_764_000_000_900)


def test_a_chunk_is_stored_in_one_transaction_and_reports_what_changed(
    store: ClientStore,
) -> None:
    """Messages, receipts, a group state and the sent reply to our message, together; the
    result names the rows (with their local ids) so that nothing is read back."""
    out = store.queue_outgoing(ANA, False, "Oi Ana")
    group = protocol.GroupInfo(
        group_id=FAMILY,
        name="Família",
        members=[protocol.Member(client_id=BRUNO, display_name="Bruno", admin=True)],
        created_by=BRUNO,
        created_at=1,
    )
    chunk = Chunk(
        messages=[incoming(11, 1), incoming(12, 3), incoming(11, 1)],
        receipts=[
            protocol.Receipts(version=7, receipts=[protocol.Receipt(by=ANA, delivered=2, read=0)])
        ],
        groups=[(group, False)],
        sent=[sent_reply(out.key, message_id=13, seq=2)],
    )
    saved = store.save_chunk(chunk, me=BRUNO)
    assert [m.message_id for m in saved.received] == [11, 12]
    assert [store.message(m.local_id) for m in saved.received] == saved.received
    assert [(m.local_id, m.seq, m.status) for m in saved.sent] == [(out.local_id, 2, "delivered")]
    assert saved.changes == []  # the only message whose tick moved is reported as sent
    assert store.receipts_version() == 7 and store.group(FAMILY) is not None
    again = store.save_chunk(Chunk(messages=[incoming(12, 3)]), me=BRUNO)
    assert again.received == [] and again.sent == []


def test_a_backlog_is_searchable_before_and_after_it_is_indexed(store: ClientStore) -> None:
    store.save_message_to_history(incoming(1, 1, "the ferry leaves at nine"))
    saved = store.save_chunk(
        Chunk(messages=[incoming(2, 2, "ferry tickets bought"), incoming(3, 3, "see you")]),
        me=BRUNO,
        index=False,
    )
    assert len(saved.received) == 2
    assert [h.text for h in store.search("ferry")] == [
        "ferry tickets bought",
        "the ferry leaves at nine",
    ]
    assert store.index_pending(limit=1) == 1
    assert store.index_pending() == 0
    assert [h.text for h in store.search("ferry")] == [
        "ferry tickets bought",
        "the ferry leaves at nine",
    ]
    assert [h.text for h in store.search("you")] == ["see you"]


def test_deleting_a_message_not_indexed_yet_keeps_the_index_sound(store: ClientStore) -> None:
    out = store.queue_outgoing(ANA, False, "pushed back to us")
    store.save_chunk(
        Chunk(messages=[incoming(5, 1, "pushed back to us", sender=BRUNO)]), me=BRUNO, index=False
    )
    store.mark_sent(out.key, message_id=5, seq=1, ts=1, me=BRUNO)  # drops the copy
    assert store.index_pending() == 0
    assert [h.local_id for h in store.search("pushed back")] == [out.local_id]


def test_drafts_are_kept_per_chat_and_listed(store: ClientStore) -> None:
    store.add_contact(ANA, "Ana Lima")
    store.add_contact(CARLA, "Carla")
    order = [s.conversation for s in store.conversations_summary()]
    assert store.save_draft(ANA, "half a thought")
    assert not store.save_draft(ANA, "half a thought")  # unchanged
    assert store.draft(ANA) == "half a thought" and store.draft(CARLA) == ""
    summary = {s.conversation: s for s in store.conversations_summary()}
    assert summary[ANA].draft == "half a thought" and summary[CARLA].draft is None
    # Typing does not move a chat in the list (a row would jump away from the mouse).
    assert [s.conversation for s in store.conversations_summary()] == order
    assert store.save_draft(ANA, "  ")
    assert store.draft(ANA) == ""


def test_a_blocked_person_is_not_listed_nor_counted_until_unblocked(store: ClientStore) -> None:
    store.save_message_to_history(incoming(1, 1, "buy cheap watches", sender=DIEGO))
    assert [s.is_contact for s in store.conversations_summary()] == [False]
    assert store.block(DIEGO) and not store.block(DIEGO)
    store.save_message_to_history(incoming(2, 2, "really cheap", sender=DIEGO))
    assert store.message_count(DIEGO) == 2  # stored all the same
    assert store.conversations_summary() == [] and store.total_unread() == 0
    assert store.is_blocked(DIEGO)
    assert store.unblock(DIEGO) and not store.is_blocked(DIEGO)
    assert [s.unread for s in store.conversations_summary()] == [2]
