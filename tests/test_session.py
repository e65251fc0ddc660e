"""The protocol state machines without I/O: bytes in, frames and bytes out (no sockets)."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from messenger_server import protocol
from messenger_server.protocol import ErrorCode as Code
from messenger_server.ratelimit import TokenBucket
from messenger_server.session import (
    MAX_BAD_FRAMES,
    PRELOGIN_MAX_FRAME_BYTES,
    ClientSession,
    EventReceived,
    Inflight,
    ReplyReceived,
    ServerSession,
    State,
    TypingIndicators,
    TypingNotices,
)

ALICE = "K7QM-4XPA"
BOB = "Z9R2-0HVB"
CREDENTIAL = "s3cr3t-Credential_0123456789"


def frames_of(data: bytes) -> list[protocol.ServerFrame]:
    reader = protocol.FrameReader(16 * 1024 * 1024)
    reader.feed(data)
    return [protocol.decode_server_frame(payload) for payload in reader.frames()]


def sent_by(session: ServerSession) -> list[protocol.ServerFrame]:
    """What the session asks to write, decoded (assertFrameSent, written once)."""
    return frames_of(session.data_to_send())


def feed(session: ServerSession, *frames: protocol.ClientFrame | bytes) -> list[object]:
    """Feed frames (or raw payloads) and take every frame the session lets through."""
    session.receive_data(
        b"".join(
            protocol.frame_bytes(f) if isinstance(f, bytes) else protocol.encode(f) for f in frames
        )
    )
    taken = []
    while (frame := session.next_request()) is not None:
        taken.append(frame)
    return taken


def logged_in(**kwargs: object) -> ServerSession:
    session = ServerSession(**kwargs)  # type: ignore[arg-type]
    feed(session, protocol.Hello(id=1, protocol=protocol.PROTOCOL_VERSION))
    session.authenticated(ALICE, "Alice")
    session.data_to_send()
    return session


# --- the server's side: states -------------------------------------------------------------


def test_hello_of_this_version_greets() -> None:
    session = ServerSession()
    hello = protocol.Hello(id=1, protocol=protocol.PROTOCOL_VERSION)
    assert feed(session, hello) == [hello]
    assert session.state is State.GREETED
    assert sent_by(session) == []  # the server answers with welcome itself


def test_hello_of_another_version_is_refused_with_goodbye() -> None:
    session = ServerSession()
    assert feed(session, protocol.Hello(id=1, protocol=1)) == []
    [goodbye] = sent_by(session)
    assert isinstance(goodbye, protocol.Goodbye) and goodbye.code == Code.UNSUPPORTED_VERSION
    assert session.state is State.CLOSED


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (protocol.Register(id=1, display_name="x"), Code.HELLO_REQUIRED),
        (protocol.Ping(id=1), Code.HELLO_REQUIRED),
        (protocol.Ack(ids=[1]), Code.NOT_AUTHENTICATED),
        (b"not json", Code.BAD_FRAME),
    ],
)
def test_before_hello_anything_else_ends_the_session(
    frame: protocol.ClientFrame | bytes, code: str
) -> None:
    session = ServerSession()
    assert feed(session, frame, protocol.Hello(id=2, protocol=2)) == []
    assert [(f.code, type(f)) for f in sent_by(session)] == [(code, protocol.Goodbye)]  # type: ignore[union-attr]
    assert session.state is State.CLOSED


def test_greeted_allows_register_and_login_and_refuses_the_rest() -> None:
    session = ServerSession()
    feed(session, protocol.Hello(id=1, protocol=2))
    register = protocol.Register(id=2, display_name="Ana")
    login = protocol.Login(id=3, client_id=ALICE, credential=CREDENTIAL)
    taken = feed(session, register, protocol.Ping(id=4), protocol.Hello(id=5, protocol=2), login)
    assert taken == [register, login]
    errors = sent_by(session)
    assert [(e.code, e.id) for e in errors] == [  # type: ignore[union-attr]
        (Code.NOT_AUTHENTICATED, 4),
        (Code.NOT_AUTHENTICATED, 5),
    ]
    assert session.state is State.GREETED


def test_an_ack_before_login_ends_the_session() -> None:
    session = ServerSession()
    feed(session, protocol.Hello(id=1, protocol=2), protocol.Ack(ids=[1]))
    [goodbye] = sent_by(session)
    assert isinstance(goodbye, protocol.Goodbye) and goodbye.code == Code.NOT_AUTHENTICATED


def test_typing_is_taken_without_an_id_after_login_and_ends_the_session_before() -> None:
    session = logged_in()
    notice = protocol.Typing(to=BOB, on=True)
    assert feed(session, notice) == [notice]
    assert sent_by(session) == []
    greeted = ServerSession()
    feed(greeted, protocol.Hello(id=1, protocol=protocol.PROTOCOL_VERSION), notice)
    assert sent_by(greeted)[-1] == protocol.Goodbye(Code.NOT_AUTHENTICATED, "log in first")
    assert greeted.state is State.CLOSED


def test_logged_in_refuses_hello_register_and_login_again() -> None:
    session = logged_in()
    ping = protocol.Ping(id=9)
    taken = feed(
        session,
        protocol.Hello(id=6, protocol=2),
        protocol.Register(id=7, display_name="x"),
        protocol.Login(id=8, client_id=BOB, credential=CREDENTIAL),
        ping,
        protocol.Ack(ids=[3]),
    )
    assert taken == [ping, protocol.Ack(ids=[3])]
    assert {e.code for e in sent_by(session)} == {Code.ALREADY_AUTHENTICATED}  # type: ignore[union-attr]


def test_a_refused_login_answers_and_closes_without_goodbye() -> None:
    session = ServerSession()
    feed(session, protocol.Hello(id=1, protocol=2))
    session.refuse_login(2, Code.INVALID_CREDENTIALS, "wrong credential")
    [error] = sent_by(session)
    assert isinstance(error, protocol.Error) and (error.code, error.id) == (
        Code.INVALID_CREDENTIALS,
        2,
    )
    assert session.state is State.CLOSED
    session.send(protocol.Pong(id=3, ts=0))
    assert session.data_to_send() == b""  # nothing after the last frame


def test_invalid_frames_after_login_are_answered_then_end_the_session() -> None:
    session = logged_in()
    for _ in range(MAX_BAD_FRAMES):
        feed(session, b'{"type":"nonsense","id":4}')
    errors = sent_by(session)
    assert [(e.code, e.id) for e in errors] == [(Code.BAD_FRAME, 4)] * MAX_BAD_FRAMES  # type: ignore[union-attr]
    assert session.state is State.LOGGED_IN
    feed(session, b"{}", protocol.Ping(id=5))
    [goodbye] = sent_by(session)
    assert isinstance(goodbye, protocol.Goodbye) and goodbye.message == "too many invalid frames"
    assert session.state is State.CLOSED


def test_over_the_rate_limit_the_session_says_how_long_to_wait() -> None:
    session = logged_in(bucket=TokenBucket(rate=10, burst=3))  # hello took one
    pings = [protocol.Ping(id=i) for i in range(5)]
    assert feed(session, *pings) == pings[:2]
    assert 0 < session.throttled_for <= 0.1
    assert sent_by(session) == []  # nothing refused: the rest waits, in order
    assert session.next_request() is None and session.throttled_for > 0


def test_acks_have_a_bucket_of_their_own() -> None:
    session = logged_in(
        bucket=TokenBucket(rate=0.001, burst=1), ack_bucket=TokenBucket(rate=0.001, burst=2)
    )
    acks = [protocol.Ack(ids=[i]) for i in range(1, 4)]
    assert feed(session, *acks) == acks[:2]
    assert session.throttled_for > 0


def test_before_login_only_small_frames_are_accepted() -> None:
    session = ServerSession(max_frame_bytes=protocol.MAX_FRAME_BYTES)
    session.receive_data(protocol.HEADER.pack(PRELOGIN_MAX_FRAME_BYTES + 1))
    assert session.next_request() is None
    [goodbye] = sent_by(session)
    assert isinstance(goodbye, protocol.Goodbye) and goodbye.code == Code.FRAME_TOO_LARGE


def test_after_login_frames_up_to_the_server_limit_are_accepted() -> None:
    session = logged_in(max_frame_bytes=protocol.MAX_FRAME_BYTES)
    big = protocol.Send(id=7, key="k", text="x" * 60_000, to=BOB)
    assert feed(session, big) == [big]


def test_an_oversize_header_closes_before_the_body() -> None:
    session = logged_in(max_frame_bytes=8192)
    session.receive_data(protocol.HEADER.pack(8193) + b"{")
    assert session.next_request() is None
    [goodbye] = sent_by(session)
    assert isinstance(goodbye, protocol.Goodbye) and goodbye.code == Code.FRAME_TOO_LARGE


def test_frames_wait_in_order_while_the_server_is_busy() -> None:
    session = logged_in()
    first, second = protocol.Ping(id=1), protocol.Ping(id=2)
    session.receive_data(protocol.encode(first) + protocol.encode(second)[:5])
    assert session.next_request() == first  # the server handles it, and waits
    assert session.next_request() is None  # the second is not complete yet
    session.receive_data(protocol.encode(second)[5:])
    assert session.next_request() == second


# --- the server's side: the backlog ----------------------------------------------------------


def test_live_events_wait_behind_the_backlog_and_skip_what_it_carried() -> None:
    session = logged_in()
    session.start_backlog()
    assert session.push(b"live-1", "A:B", 5)
    assert session.push(b"live-2", "A:B", 9)
    assert session.push(b"synced-like", None)
    assert session.data_to_send() == b""
    session.send_data(b"backlog")
    covered: dict[Hashable, int] = {"A:B": 5}
    session.finish_backlog(lambda key, position: position <= covered.get(key, -1))
    assert session.data_to_send() == b"backloglive-2synced-like"
    assert session.push(b"later", "A:B", 10)
    assert session.data_to_send() == b"later"


def test_too_much_held_back_tells_the_server_to_close() -> None:
    session = logged_in(max_deferred_bytes=10)
    session.start_backlog()
    assert session.push(b"x" * 10, "c", 1)
    assert not session.push(b"y", "c", 2)


# --- cumulative acknowledgements -------------------------------------------------------------


def test_an_ack_covers_the_earlier_messages_of_its_conversation() -> None:
    inflight = Inflight()
    for message_id, conversation, seq in [(1, "a", 1), (2, "b", 2), (3, "a", 3), (4, "a", 4)]:
        inflight.add(message_id, conversation, seq)
    moved, others, _ = inflight.acknowledge([3, 77])
    assert moved == {"a": 3} and others == [77]
    assert len(inflight) == 2  # 2 (in b) and 4 (after 3 in a)
    moved, others, _ = inflight.acknowledge([1, 2, 4])
    assert moved == {"b": 2, "a": 4} and others == [1]
    assert len(inflight) == 0


def test_messages_added_out_of_order_are_still_covered_in_seq_order() -> None:
    inflight = Inflight()
    inflight.add(9, "a", 9)  # a live message held back behind the backlog
    inflight.add(5, "a", 5)
    inflight.add(9, "a", 9)  # the backlog carried it too: once
    moved, _, _ = inflight.acknowledge([5])
    assert moved == {"a": 5} and len(inflight) == 1
    moved, _, _ = inflight.acknowledge([9])
    assert moved == {"a": 9} and len(inflight) == 0


def test_an_ack_says_whose_counted_messages_it_covered() -> None:
    inflight = Inflight()
    inflight.add(1, "a", 1, counted="S1")
    inflight.add(2, "a", 2, counted="S2")
    inflight.add(3, "g", 3)
    _, _, counted = inflight.acknowledge([2, 3])
    assert sorted(counted) == ["S1", "S2"]


# --- the client's side -----------------------------------------------------------------------


def server_says(*frames: protocol.ServerFrame) -> bytes:
    return b"".join(protocol.encode(f) for f in frames)


def test_replies_are_matched_by_id_whatever_their_order() -> None:
    client = ClientSession()
    hello = client.send_request(lambda i: protocol.Hello(id=i, protocol=protocol.PROTOCOL_VERSION))
    ping = client.send_request(lambda i: protocol.Ping(id=i))
    assert [f.id for f in map(protocol.decode_client_frame, _payloads(client.data_to_send()))] == [
        1,
        2,
    ]
    welcome = protocol.Welcome(
        id=1, protocol=2, server="s", registration="open", limits=protocol.Limits(max_text_bytes=9)
    )
    client.receive_data(server_says(protocol.Pong(id=2, ts=5), welcome))
    assert client.events_received() == [
        ReplyReceived(ping, protocol.Pong(id=2, ts=5)),
        ReplyReceived(hello, welcome),
    ]
    assert client.state is State.GREETED and client.limits.max_text_bytes == 9
    assert client.pending == {}


def test_login_and_goodbye_move_the_client_state() -> None:
    client = ClientSession()
    login = client.send_request(
        lambda i: protocol.Login(id=i, client_id=ALICE, credential=CREDENTIAL)
    )
    goodbye = protocol.Goodbye(Code.SESSION_REPLACED, "elsewhere")
    client.receive_data(
        server_says(protocol.LoggedIn(id=login.id, client_id=ALICE, display_name="A", pending=0))
    )
    assert client.state is State.LOGGED_IN and client.client_id == ALICE
    client.receive_data(server_says(protocol.Synced(), goodbye))
    assert client.events_received()[1:] == [
        EventReceived(protocol.Synced()),
        EventReceived(goodbye),
    ]
    assert client.state is State.CLOSED and client.goodbye == goodbye


def test_an_unknown_event_is_skipped_and_an_unknown_reply_fails_its_request() -> None:
    client = ClientSession()
    ping = client.send_request(lambda i: protocol.Ping(id=i))
    client.receive_data(
        protocol.frame_bytes(b'{"type":"sticker","by":"K7QM-4XPA"}')
        + protocol.frame_bytes(b'{"type":"pong2","id":%d}' % ping.id)
    )
    [failed] = client.events_received()
    assert isinstance(failed, ReplyReceived) and failed.request == ping
    assert isinstance(failed.reply, protocol.Error) and failed.reply.code == Code.INTERNAL_ERROR


def test_a_malformed_server_frame_raises() -> None:
    client = ClientSession()
    with pytest.raises(protocol.ProtocolError):
        client.receive_data(protocol.frame_bytes(b'{"type":"message","message_id":"x"}'))


def test_a_forgotten_request_ignores_its_late_reply() -> None:
    client = ClientSession()
    ping = client.send_request(lambda i: protocol.Ping(id=i))
    assert client.forget(ping.id) == ping
    client.receive_data(server_says(protocol.Pong(id=ping.id, ts=1)))
    assert client.events_received() == []


def test_acks_are_split_into_frames_of_the_largest_size() -> None:
    client = ClientSession()
    client.send_ack(range(1, protocol.MAX_ACK_IDS + 3))
    acks = [protocol.decode_client_frame(p) for p in _payloads(client.data_to_send())]
    assert [len(a.ids) for a in acks] == [protocol.MAX_ACK_IDS, 2]  # type: ignore[union-attr]
    client.send_ack([])
    assert client.data_to_send() == b""


def test_a_typing_notice_is_written_without_id_and_waits_for_no_reply() -> None:
    client = ClientSession()
    client.send_typing(group="G-Q2RT-8HVB", on=True)
    client.send_typing(to=BOB, on=False)
    notices = [protocol.decode_client_frame(p) for p in _payloads(client.data_to_send())]
    assert notices == [
        protocol.Typing(group="G-Q2RT-8HVB", on=True),
        protocol.Typing(to=BOB, on=False),
    ]
    assert client.pending == {}


def test_the_new_events_and_replies_reach_the_client() -> None:
    client = ClientSession()
    presence = client.send_request(lambda i: protocol.GetPresence(id=i, client_ids=[BOB]))
    edited = protocol.Edited(9, 9, 1, BOB, "Bob", 3, "fixed", to=ALICE)
    reply = protocol.Presences(id=presence.id, presences=[protocol.PresenceInfo(BOB, True)])
    client.receive_data(
        server_says(edited, reply, protocol.PeerTyping(BOB, True), protocol.Presence(BOB, False))
    )
    assert client.events_received() == [
        EventReceived(edited),
        ReplyReceived(presence, reply),
        EventReceived(protocol.PeerTyping(BOB, True)),
        EventReceived(protocol.Presence(BOB, False)),
    ]


def test_typing_notices_start_at_once_repeat_every_few_seconds_and_stop() -> None:
    notices = TypingNotices()
    assert notices.edited(BOB, 100.0) is True
    assert notices.edited(BOB, 101.0) is None
    assert notices.edited(BOB, 100.0 + protocol.TYPING_REFRESH_SECONDS) is True
    assert notices.stopped(BOB) is False
    assert notices.stopped(BOB) is None  # nothing was shown
    assert notices.edited(BOB, 200.0) is True
    assert notices.idle(201.0) == []
    assert notices.idle(200.0 + protocol.TYPING_REFRESH_SECONDS) == [BOB]
    assert notices.stopped(BOB) is None


def test_typing_indicators_expire_stop_and_end_with_a_message() -> None:
    shown = TypingIndicators()
    group = "G-Q2RT-8HVB"
    assert shown.received(protocol.PeerTyping(BOB, True, group), 10.0) == group
    shown.received(protocol.PeerTyping(ALICE, True, group), 11.0)
    shown.received(protocol.PeerTyping(ALICE, True), 11.0)
    assert shown.typing_in(group, 12.0) == [BOB, ALICE]
    assert shown.typing_in(ALICE, 12.0) == [ALICE]
    assert shown.typing_in(group, 10.0 + protocol.TYPING_EXPIRY_SECONDS) == [ALICE]
    shown.received(protocol.PeerTyping(ALICE, False, group), 13.0)
    assert shown.typing_in(group, 13.0) == []
    shown.message_received(ALICE, ALICE)
    assert shown.typing_in(ALICE, 13.0) == []


def _payloads(data: bytes) -> list[bytes]:
    reader = protocol.FrameReader()
    reader.feed(data)
    return list(reader.frames())
