"""The wire protocol on its own: round trips, framing, validation and fuzzing.

Everything here is pure: bytes in, frames or :class:`ProtocolError` out. No sockets.
"""

from __future__ import annotations

import itertools
import json
import re
import typing
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messenger_server import protocol
from messenger_server.protocol import (
    CLIENT_ID_PATTERN,
    HEADER,
    MAX_ACK_IDS,
    MAX_DISPLAY_NAME_CHARS,
    MAX_FRAME_BYTES,
    MAX_GROUP_NAME_CHARS,
    MAX_REQUEST_ID,
    MAX_SAFE_INTEGER,
    MAX_TEXT_BYTES,
    Ack,
    AddContact,
    AddMember,
    Contact,
    CreateGroup,
    Delete,
    Deleted,
    DeleteGroup,
    Edit,
    Edited,
    Error,
    ErrorCode,
    Forwarded,
    FrameReader,
    GetPresence,
    Goodbye,
    GroupInfo,
    GroupReply,
    Groups,
    GroupUpdate,
    Hello,
    LeaveGroup,
    Limits,
    ListGroups,
    LoggedIn,
    Login,
    Lookup,
    MarkRead,
    Member,
    Message,
    Ok,
    PeerTyping,
    Ping,
    Pong,
    Presence,
    PresenceInfo,
    Presences,
    Privacy,
    ProtocolError,
    React,
    Reacted,
    Receipt,
    Receipts,
    Register,
    Registered,
    RemoveContact,
    RemoveMember,
    ReplyTo,
    Send,
    Sent,
    SetAdmin,
    SetPrivacy,
    Synced,
    Typing,
    UpdateGroup,
    Welcome,
    decode_client_frame,
    decode_server_frame,
    direct_conversation,
    encode,
    encode_payload,
    frame_bytes,
)

ALICE = "K7QM-4XPA"
BOB = "Z9R2-0HVB"
CAROL = "0000-ZZZZ"
GROUP = "G-Q2RT-8HVB"
OTHER_GROUP = "G-1234-ABCD"
CREDENTIAL = "s3cr3t-Credential_0123456789"
KEY = "3f2a9c1e8b7d4e6fa0b1c2d3e4f5a6b7"
TS = 1_717_171_717_171

ALL_CODES = {value for name, value in vars(ErrorCode).items() if name.isupper()}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def union_members(union: Any) -> set[type]:
    return set(typing.get_args(union))


def tag_of(cls: type) -> str:
    tag = cls.__struct_config__.tag  # type: ignore[attr-defined]
    assert isinstance(tag, str)
    return tag


# ---------------------------------------------------------------------------
# Round-trip examples: every frame type, optional fields set and unset.
# ---------------------------------------------------------------------------

ALICE_ADMIN = Member(client_id=ALICE, display_name="Alice", admin=True)
BOB_MEMBER = Member(client_id=BOB, display_name="Bob")
TEAM = GroupInfo(
    group_id=GROUP,
    name="Team 🚀",
    members=[ALICE_ADMIN, BOB_MEMBER],
    created_by=ALICE,
    created_at=TS,
)
EMPTY_GROUP = GroupInfo(
    group_id=OTHER_GROUP, name="Left behind", members=[], created_by=BOB, created_at=0
)
DESCRIBED = GroupInfo(
    group_id=GROUP,
    name="Team",
    members=[ALICE_ADMIN],
    created_by=ALICE,
    created_at=TS,
    description="Who we are.\nWhat we do.",
)
QUOTED = ReplyTo(seq=3, sender=BOB)
CUSTOM_LIMITS = Limits(
    max_frame_bytes=2048,
    max_text_bytes=100,
    max_display_name_chars=32,
    max_group_name_chars=16,
    max_group_members=8,
)

CLIENT_EXAMPLES: list[protocol.ClientFrame] = [
    Hello(id=0, protocol=1),
    Hello(id=MAX_REQUEST_ID, protocol=protocol.PROTOCOL_VERSION, client="Messenger/0.1 (Linux)"),
    Register(id=1, display_name="Alice"),
    Register(id=1, display_name="Invited", invite="7KQM-4XPA-B8NZ"),
    Register(id=2, display_name="Zoë ✓ 🚀" + "x" * (MAX_DISPLAY_NAME_CHARS - 7)),
    Login(id=3, client_id=ALICE, credential=CREDENTIAL),
    Login(id=3, client_id=BOB, credential=CREDENTIAL, receipts_since=MAX_SAFE_INTEGER),
    Send(id=4, key="k1", text="hi", to=BOB),
    Send(id=5, key=KEY, text="héllo\nworld 🚀 \u2028 \x00", group=GROUP),
    Send(id=6, key="max", text="a" * MAX_TEXT_BYTES, to=ALICE),
    Send(id=7, key="max-multibyte", text="🚀" * (MAX_TEXT_BYTES // 4), group=GROUP),
    MarkRead(id=8, up_to=0, peer=BOB),
    MarkRead(id=9, up_to=42, group=GROUP),
    Lookup(id=10, client_id=CAROL),
    CreateGroup(id=11, name="Solo", members=[]),
    CreateGroup(id=12, name="F" * MAX_GROUP_NAME_CHARS, members=[BOB, CAROL]),
    AddMember(id=13, group=GROUP, client_id=BOB),
    AddMember(id=14, group=GROUP, client_id=CAROL, admin=True),
    RemoveMember(id=15, group=GROUP, client_id=BOB),
    LeaveGroup(id=16, group=GROUP),
    ListGroups(id=17),
    ListGroups(id=17, after=GROUP),
    AddContact(id=19, client_id=BOB),
    RemoveContact(id=20, client_id=BOB),
    Ping(id=18),
    Ack(ids=[1]),
    Ack(ids=list(range(1, MAX_ACK_IDS + 1))),
    Send(id=21, key="reply", text="yes", to=BOB, reply_to=QUOTED),
    Send(
        id=22,
        key="fwd",
        text="look",
        group=GROUP,
        reply_to=None,
        forwarded_from=Forwarded(name="Carol"),
        mentions=[ALICE, BOB],
    ),
    Send(id=23, key="fwd2", text="look", to=BOB, forwarded_from=Forwarded("Carol", CAROL)),
    Edit(id=24, key="e1", target=3, text="fixed", to=BOB),
    Edit(id=25, key="e2", target=MAX_SAFE_INTEGER, text="é🚀", group=GROUP),
    Delete(id=26, key="d1", target=3, to=BOB),
    Delete(id=27, key="d2", target=4, group=GROUP),
    React(id=28, key="r1", target=3, emoji="👍", to=BOB),
    React(id=29, key="r2", target=3, emoji="👨‍👩‍👧‍👦", on=False, group=GROUP),
    Typing(to=BOB),
    Typing(group=GROUP, on=False),
    GetPresence(id=30, client_ids=[ALICE, BOB]),
    SetPrivacy(id=31),
    SetPrivacy(id=32, presence="chats"),
    SetPrivacy(id=33, presence="nobody"),
    UpdateGroup(id=34, group=GROUP, name="Renamed"),
    UpdateGroup(id=35, group=GROUP, description="Line one\nline two"),
    SetAdmin(id=36, group=GROUP, client_id=BOB, admin=True),
    SetAdmin(id=37, group=GROUP, client_id=BOB, admin=False),
    DeleteGroup(id=38, group=GROUP),
]

SERVER_EXAMPLES: list[protocol.ServerFrame] = [
    Welcome(id=0, protocol=1, server="messenger 0.1", registration="open", limits=Limits()),
    Welcome(id=1, protocol=1, server="", registration="closed", limits=CUSTOM_LIMITS),
    Welcome(id=1, protocol=2, server="", registration="invite", limits=CUSTOM_LIMITS),
    Registered(id=2, client_id=ALICE, credential=CREDENTIAL, display_name="Alice"),
    LoggedIn(id=3, client_id=ALICE, display_name="Alice", pending=0),
    LoggedIn(id=4, client_id=BOB, display_name="Bob 🚀", pending=1234),
    Sent(id=5, key="k1", message_id=1, seq=0, ts=TS),
    Sent(id=6, key=KEY, message_id=99, seq=7, ts=TS, duplicate=True),
    Contact(id=7, client_id=BOB, display_name="Bob"),
    GroupReply(id=8, group=TEAM),
    Groups(id=9, groups=[]),
    Groups(id=10, groups=[TEAM, EMPTY_GROUP]),
    Groups(id=10, groups=[TEAM], next=GROUP),
    Ok(id=11),
    Pong(id=12, ts=0),
    Error(code=ErrorCode.BAD_FRAME, message="not a JSON object"),
    Error(code=ErrorCode.UNKNOWN_CLIENT, message="no such client", id=13),
    Message(message_id=1, seq=0, ts=TS, sender=ALICE, sender_name="Alice", text="hi", to=BOB),
    Message(message_id=2, seq=5, ts=TS, sender=BOB, sender_name="Bob", text="é🚀\n", group=GROUP),
    Receipts(version=17, receipts=[Receipt(by=BOB, delivered=5, read=0)]),
    Receipts(
        version=MAX_SAFE_INTEGER,
        receipts=[Receipt(by=CAROL, delivered=9, read=9, group=GROUP), Receipt(BOB, 0, 0)],
    ),
    Synced(),
    GroupUpdate(event_id=19, change="created", actor=ALICE, group=TEAM),
    GroupUpdate(event_id=20, change="member_added", actor=ALICE, group=TEAM, subject=BOB),
    GroupUpdate(event_id=21, change="member_removed", actor=ALICE, group=EMPTY_GROUP, subject=BOB),
    GroupUpdate(event_id=22, change="member_left", actor=BOB, group=EMPTY_GROUP, subject=BOB),
    Goodbye(code=ErrorCode.SESSION_REPLACED, message="another connection logged in"),
    Message(
        message_id=3,
        seq=6,
        ts=TS,
        sender=BOB,
        sender_name="Bob",
        text="yes",
        group=GROUP,
        reply_to=QUOTED,
        forwarded_from=Forwarded("Carol", CAROL),
        mentions=[ALICE],
    ),
    GroupUpdate(event_id=23, change="updated", actor=ALICE, group=DESCRIBED),
    GroupUpdate(event_id=24, change="promoted", actor=ALICE, group=TEAM, subject=BOB),
    GroupUpdate(event_id=25, change="demoted", actor=ALICE, group=TEAM, subject=BOB),
    GroupUpdate(event_id=26, change="deleted", actor=ALICE, group=EMPTY_GROUP),
    Edited(4, 7, TS, ALICE, "Alice", 3, "fixed", to=BOB),
    Edited(5, 8, TS, ALICE, "Alice", 3, "fixed", group=GROUP),
    Deleted(6, 9, TS, ALICE, "Alice", 3, to=BOB),
    Deleted(7, 10, TS, BOB, "Bob", 3, group=GROUP),
    Reacted(8, 11, TS, BOB, "Bob", 3, "👍", True, to=ALICE),
    Reacted(9, 12, TS, BOB, "Bob", 3, "👍", False, group=GROUP),
    PeerTyping(sender=BOB, on=True),
    PeerTyping(sender=BOB, on=False, group=GROUP),
    Presence(client_id=BOB, online=True),
    Presence(client_id=BOB, online=False, last_seen=TS),
    Presences(id=39, presences=[]),
    Presences(
        id=40,
        presences=[PresenceInfo(ALICE, True), PresenceInfo(BOB, False, last_seen=TS)],
    ),
    Privacy(id=41, presence="chats"),
    Privacy(id=42, presence="nobody"),
]

ALL_EXAMPLES: list[Any] = [*CLIENT_EXAMPLES, *SERVER_EXAMPLES]
SMALL_EXAMPLES = [frame for frame in ALL_EXAMPLES if len(encode(frame)) < 2000]


def read_all(data: bytes, max_frame_bytes: int = MAX_FRAME_BYTES) -> list[bytes]:
    reader = FrameReader(max_frame_bytes)
    reader.feed(data)
    payloads = list(reader.frames())
    assert reader.buffered == 0
    return payloads


def nested_structs(value: Any) -> Iterator[msgspec.Struct]:
    """Every Struct inside ``value``, ``value`` included, depth first."""
    if isinstance(value, msgspec.Struct):
        yield value
        for field in msgspec.structs.fields(value):
            yield from nested_structs(getattr(value, field.name))
    elif isinstance(value, list):
        for item in value:
            yield from nested_structs(item)


def literal_values(annotation: Any) -> set[Any]:
    """The values of a ``Literal`` annotation, looking through ``X | None``."""
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    values: set[Any] = set()
    for arg in typing.get_args(annotation):
        values |= literal_values(arg)
    return values


def test_every_client_frame_type_has_a_round_trip_example() -> None:
    assert {type(frame) for frame in CLIENT_EXAMPLES} == union_members(protocol.ClientFrame)
    assert union_members(protocol.ClientFrame) == union_members(protocol.Request) | {Ack, Typing}


def test_every_server_frame_type_has_a_round_trip_example() -> None:
    assert {type(frame) for frame in SERVER_EXAMPLES} == union_members(protocol.ServerFrame)
    assert union_members(protocol.ServerFrame) == (
        union_members(protocol.Reply) | union_members(protocol.Event)
    )


def test_examples_cover_every_optional_field_set_and_unset_and_every_literal() -> None:
    """Each field with a default appears once with its default and once without, in
    frames and in nested structs; each ``Literal`` value appears at least once."""
    instances = [s for frame in ALL_EXAMPLES for s in nested_structs(frame)]
    classes = {type(s) for s in instances}
    assert {Limits, Member, GroupInfo, Receipt, ReplyTo, Forwarded, PresenceInfo} <= classes
    missing: list[str] = []
    for cls in sorted(classes, key=lambda c: c.__name__):
        of_cls = [s for s in instances if type(s) is cls]
        hints = typing.get_type_hints(cls)
        for field in msgspec.structs.fields(cls):
            values = [getattr(s, field.name) for s in of_cls]
            if field.default is not msgspec.NODEFAULT:
                if field.default not in values:
                    missing.append(f"{cls.__name__}.{field.name} left at its default")
                if all(value == field.default for value in values):
                    missing.append(f"{cls.__name__}.{field.name} set to a non-default value")
            for literal in literal_values(hints[field.name]):
                if literal not in values:
                    missing.append(f"{cls.__name__}.{field.name} = {literal!r}")
    assert not missing, missing


def test_client_and_server_tags_are_unique_within_their_direction() -> None:
    for union in (protocol.ClientFrame, protocol.ServerFrame):
        tags = [tag_of(cls) for cls in union_members(union)]
        assert len(tags) == len(set(tags))


@pytest.mark.parametrize("frame", CLIENT_EXAMPLES, ids=lambda f: type(f).__name__)
def test_client_frame_round_trips_through_the_framing(frame: protocol.ClientFrame) -> None:
    wire = encode(frame)
    (payload,) = read_all(wire)
    assert payload == encode_payload(frame)
    assert frame_bytes(payload) == wire
    assert HEADER.unpack_from(wire)[0] == len(wire) - HEADER.size
    assert json.loads(payload)["type"] == tag_of(type(frame))
    decoded = decode_client_frame(payload)
    assert type(decoded) is type(frame)
    assert decoded == frame


@pytest.mark.parametrize("frame", SERVER_EXAMPLES, ids=lambda f: type(f).__name__)
def test_server_frame_round_trips_through_the_framing(frame: protocol.ServerFrame) -> None:
    wire = encode(frame)
    (payload,) = read_all(wire)
    assert payload == encode_payload(frame)
    assert frame_bytes(payload) == wire
    assert json.loads(payload)["type"] == tag_of(type(frame))
    decoded = decode_server_frame(payload)
    assert type(decoded) is type(frame)
    assert decoded == frame


def test_optional_fields_may_be_omitted_on_the_wire() -> None:
    assert decode_client_frame(b'{"type":"hello","id":1,"protocol":1}') == Hello(id=1, protocol=1)
    assert decode_client_frame(
        b'{"type":"add_member","id":1,"group":"G-Q2RT-8HVB","client_id":"K7QM-4XPA"}'
    ) == AddMember(id=1, group=GROUP, client_id=ALICE, admin=False)
    assert decode_server_frame(b'{"type":"error","code":"x","message":"y"}') == Error(
        code="x", message="y", id=None
    )
    welcome = decode_server_frame(
        b'{"type":"welcome","id":1,"protocol":1,"server":"s","registration":"open",'
        b'"limits":{"max_text_bytes":10}}'
    )
    assert isinstance(welcome, Welcome)
    assert welcome.limits == Limits(max_text_bytes=10)


# ---------------------------------------------------------------------------
# FrameReader
# ---------------------------------------------------------------------------


@st.composite
def payload_streams(draw: st.DrawFn) -> tuple[list[bytes], bytes, list[int]]:
    """Payloads (encoded frames or raw bytes, empty ones included), their stream and
    sorted split points into it."""
    payloads = draw(
        st.lists(
            st.one_of(st.sampled_from(SMALL_EXAMPLES).map(encode_payload), st.binary(max_size=40)),
            min_size=0,
            max_size=8,
        )
    )
    stream = b"".join(frame_bytes(p) for p in payloads)
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=12))
    return payloads, stream, sorted(cuts)


def chunks_at(stream: bytes, cuts: Iterable[int]) -> list[bytes]:
    bounds = [0, *cuts, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


@FUZZ
@given(payload_streams())
def test_frames_split_across_arbitrary_chunk_boundaries(
    case: tuple[list[bytes], bytes, list[int]],
) -> None:
    payloads, stream, cuts = case
    ends = list(itertools.accumulate(HEADER.size + len(p) for p in payloads))
    reader = FrameReader()
    received: list[bytes] = []
    fed = 0
    for chunk in chunks_at(stream, cuts):
        reader.feed(chunk)
        fed += len(chunk)
        received.extend(reader.frames())
        complete = sum(1 for end in ends if end <= fed)
        # A frame comes out as soon as its last byte arrives, and not before.
        assert received == payloads[:complete]
        assert reader.buffered == fed - (ends[complete - 1] if complete else 0)
    assert received == payloads
    assert reader.buffered == 0


def test_several_frames_in_one_chunk_come_out_in_order() -> None:
    frames: list[protocol.ClientFrame] = [
        Ping(id=1),
        Send(id=2, key="k", text="x", to=BOB),
        Ack(ids=[3, 4]),
        Ping(id=5),
    ]
    payloads = read_all(b"".join(encode(f) for f in frames))
    assert [decode_client_frame(p) for p in payloads] == frames


def test_partial_header_waits_for_more_bytes() -> None:
    wire = encode(Ping(id=7))
    reader = FrameReader()
    for i in range(HEADER.size):
        reader.feed(wire[i : i + 1])
        assert list(reader.frames()) == []
        assert reader.buffered == i + 1
    reader.feed(wire[HEADER.size : -1])
    assert list(reader.frames()) == []
    assert reader.buffered == len(wire) - 1
    reader.feed(wire[-1:])
    assert [decode_client_frame(p) for p in reader.frames()] == [Ping(id=7)]
    assert reader.buffered == 0


def test_empty_payload_is_a_frame_that_decodes_as_bad_frame() -> None:
    (payload,) = read_all(frame_bytes(b""))
    assert payload == b""
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(payload)
    assert info.value.code == ErrorCode.BAD_FRAME


def test_oversize_header_raises_frame_too_large_before_the_body_arrives() -> None:
    reader = FrameReader()
    reader.feed(HEADER.pack(MAX_FRAME_BYTES + 1))
    with pytest.raises(ProtocolError) as info:
        list(reader.frames())
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE
    assert info.value.request_id is None
    # The stream cannot be resynchronised: asking again raises again.
    with pytest.raises(ProtocolError):
        list(reader.frames())


def test_largest_header_of_the_default_limit_is_accepted() -> None:
    reader = FrameReader()
    reader.feed(HEADER.pack(MAX_FRAME_BYTES))
    assert list(reader.frames()) == []
    assert reader.buffered == HEADER.size
    reader.feed(HEADER.pack(0xFFFFFFFF))  # an unrelated later header is not looked at yet
    assert list(reader.frames()) == []


def test_frames_before_an_oversize_header_are_still_delivered() -> None:
    reader = FrameReader()
    reader.feed(encode(Ping(id=1)) + encode(Ping(id=2)) + HEADER.pack(0xFFFFFFFF))
    received: list[bytes] = []
    with pytest.raises(ProtocolError) as info:
        for payload in reader.frames():
            received.append(payload)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE
    assert [decode_client_frame(p) for p in received] == [Ping(id=1), Ping(id=2)]
    assert reader.buffered == HEADER.size


@pytest.mark.parametrize("limit", [0, 1, 16, 1000])
def test_max_frame_bytes_argument_is_honoured(limit: int) -> None:
    at_limit = bytes(limit)
    assert read_all(frame_bytes(at_limit), max_frame_bytes=limit) == [at_limit]
    reader = FrameReader(max_frame_bytes=limit)
    reader.feed(HEADER.pack(limit + 1))
    with pytest.raises(ProtocolError) as info:
        next(reader.frames())
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE


def test_a_raised_limit_accepts_frames_larger_than_the_default() -> None:
    payload = b"x" * (MAX_FRAME_BYTES + 1)
    assert read_all(frame_bytes(payload), max_frame_bytes=2 * MAX_FRAME_BYTES) == [payload]


def test_buffered_counts_bytes_not_yet_taken() -> None:
    reader = FrameReader()
    assert reader.buffered == 0
    first, second = encode(Ping(id=1)), encode(Ping(id=2))
    reader.feed(first + second[:3])
    assert reader.buffered == len(first) + 3
    assert len(list(reader.frames())) == 1
    assert reader.buffered == 3


def test_consumer_that_breaks_out_midway_neither_loses_nor_repeats_frames() -> None:
    frames = [Ping(id=i) for i in range(1, 8)]
    reader = FrameReader()
    reader.feed(b"".join(encode(f) for f in frames[:5]))
    received: list[protocol.ClientFrame] = []
    for payload in reader.frames():
        received.append(decode_client_frame(payload))
        break
    received.extend(decode_client_frame(p) for p in itertools.islice(reader.frames(), 2))
    assert received == frames[:3]
    reader.feed(b"".join(encode(f) for f in frames[5:]))
    received.extend(decode_client_frame(p) for p in reader.frames())
    assert received == frames
    assert reader.buffered == 0


def test_closing_a_partly_consumed_iterator_keeps_the_rest() -> None:
    reader = FrameReader()
    reader.feed(encode(Ping(id=1)) + encode(Ping(id=2)) + encode(Ping(id=3)))
    frames = reader.frames()
    assert isinstance(frames, Generator)
    assert decode_client_frame(next(frames)) == Ping(id=1)
    frames.close()
    assert reader.buffered == len(encode(Ping(id=2))) * 2
    assert [decode_client_frame(p) for p in reader.frames()] == [Ping(id=2), Ping(id=3)]


def test_an_abandoned_unclosed_iterator_does_not_make_frames_repeat() -> None:
    reader = FrameReader()
    reader.feed(encode(Ping(id=1)) + encode(Ping(id=2)))
    abandoned = reader.frames()
    assert decode_client_frame(next(abandoned)) == Ping(id=1)
    assert [decode_client_frame(p) for p in reader.frames()] == [Ping(id=2)]
    del abandoned


def test_bytes_fed_during_iteration_are_picked_up() -> None:
    reader = FrameReader()
    reader.feed(encode(Ping(id=1)))
    received = []
    for payload in reader.frames():
        received.append(decode_client_frame(payload))
        if len(received) == 1:
            reader.feed(encode(Ping(id=2)))
    assert received == [Ping(id=1), Ping(id=2)]
    assert reader.buffered == 0


def reference_split(stream: bytes, limit: int) -> tuple[list[bytes], bool]:
    """What a correct reader yields for ``stream``, and whether it must then raise."""
    payloads: list[bytes] = []
    offset = 0
    while len(stream) - offset >= HEADER.size:
        (length,) = HEADER.unpack_from(stream, offset)
        if length > limit:
            return payloads, True
        if len(stream) - offset - HEADER.size < length:
            break
        payloads.append(stream[offset + HEADER.size : offset + HEADER.size + length])
        offset += HEADER.size + length
    return payloads, False


@st.composite
def near_limit_streams(draw: st.DrawFn) -> tuple[int, list[bytes]]:
    """A limit and chunks of a stream mixing random bytes with headers just under, at
    and just over that limit."""
    limit = draw(st.one_of(st.integers(0, 40), st.just(MAX_FRAME_BYTES)))
    pieces = draw(
        st.lists(
            st.one_of(
                st.binary(max_size=24),
                st.builds(
                    lambda delta, body: HEADER.pack(max(0, limit + delta)) + body,
                    st.integers(-1, 1),
                    st.binary(max_size=48),
                ),
            ),
            max_size=6,
        )
    )
    stream = b"".join(pieces)
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=8))
    return limit, chunks_at(stream, sorted(cuts))


@FUZZ
@given(
    st.one_of(
        st.tuples(st.integers(0, 40), st.lists(st.binary(max_size=24), max_size=10)),
        near_limit_streams(),
    )
)
def test_arbitrary_byte_streams_raise_only_protocol_error(case: tuple[int, list[bytes]]) -> None:
    limit, chunks = case
    reader = FrameReader(limit)
    received: list[bytes] = []
    raised = False
    for chunk in chunks:
        reader.feed(chunk)
        try:
            for payload in reader.frames():
                received.append(payload)
        except ProtocolError as exc:
            assert exc.code == ErrorCode.FRAME_TOO_LARGE
            raised = True
            break
    expected, must_raise = reference_split(b"".join(chunks), limit)
    assert received == expected
    assert raised == must_raise


# ---------------------------------------------------------------------------
# Validation of client frames
# ---------------------------------------------------------------------------


def client_error(obj: Any) -> ProtocolError:
    payload = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(payload)
    assert info.value.code in ALL_CODES
    return info.value


def send(**fields: Any) -> dict[str, Any]:
    return {"type": "send", "id": 21, "key": "k", "text": "hi", "to": BOB, **fields}


def test_text_at_the_byte_limit_is_accepted() -> None:
    for text in ("a" * MAX_TEXT_BYTES, "é" * (MAX_TEXT_BYTES // 2), "🚀" * (MAX_TEXT_BYTES // 4)):
        frame = decode_client_frame(json.dumps(send(text=text), ensure_ascii=False).encode())
        assert isinstance(frame, Send)
        assert frame.text == text


@pytest.mark.parametrize(
    "text",
    [
        "a" * (MAX_TEXT_BYTES + 1),
        "é" * (MAX_TEXT_BYTES // 2 + 1),  # fewer characters than the limit, more bytes
        "🚀" * (MAX_TEXT_BYTES // 4 + 1),
        "a" * (MAX_TEXT_BYTES - 1) + "é",  # one byte over, by the last character
    ],
    ids=["ascii", "two-byte", "four-byte", "last-char"],
)
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_text_over_the_byte_limit_is_text_too_large(text: str, ensure_ascii: bool) -> None:
    error = client_error(json.dumps(send(text=text), ensure_ascii=ensure_ascii).encode())
    assert error.code == ErrorCode.TEXT_TOO_LARGE
    assert error.request_id == 21


def test_empty_text_is_invalid_field_not_text_too_large() -> None:
    error = client_error(send(text=""))
    assert error.code == ErrorCode.INVALID_FIELD
    assert error.request_id == 21


def test_text_of_the_wrong_type_is_invalid_field() -> None:
    for text in (5, None, ["hi"]):
        error = client_error(send(text=text))
        assert error.code == ErrorCode.INVALID_FIELD
        assert error.request_id == 21


def test_names_at_the_limit_are_accepted_counting_characters() -> None:
    name = "é" * MAX_DISPLAY_NAME_CHARS
    assert decode_client_frame(
        json.dumps({"type": "register", "id": 1, "display_name": name}).encode()
    ) == Register(id=1, display_name=name)
    group_name = "🚀" * MAX_GROUP_NAME_CHARS
    assert decode_client_frame(
        json.dumps({"type": "create_group", "id": 1, "name": group_name, "members": []}).encode()
    ) == CreateGroup(id=1, name=group_name, members=[])


def test_display_name_over_64_chars_is_name_too_long() -> None:
    error = client_error(
        {"type": "register", "id": 31, "display_name": "a" * (MAX_DISPLAY_NAME_CHARS + 1)}
    )
    assert (error.code, error.request_id) == (ErrorCode.NAME_TOO_LONG, 31)


def test_group_name_over_64_chars_is_name_too_long() -> None:
    error = client_error({"type": "create_group", "id": 32, "name": "b" * 65, "members": [BOB]})
    assert (error.code, error.request_id) == (ErrorCode.NAME_TOO_LONG, 32)


BAD_NAMES = [
    "",
    " ",
    "   \u3000",
    "a\x00b",
    "tab\there",
    "new\nline",
    "\x1f",
    "del\x7f",
    "c1\x85control",
    "\x9f",
    "line\u2028separator",
    "para\u2029separator",
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_blank_or_control_char_display_name_is_invalid_field(name: str) -> None:
    error = client_error({"type": "register", "id": 33, "display_name": name})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 33)


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_blank_or_control_char_group_name_is_invalid_field(name: str) -> None:
    error = client_error({"type": "create_group", "id": 34, "name": name, "members": []})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 34)


@pytest.mark.parametrize(
    "targets",
    [{}, {"to": BOB, "group": GROUP}, {"to": None, "group": None}],
    ids=["neither", "both", "both-null"],
)
def test_send_needs_exactly_one_of_to_and_group(targets: dict[str, Any]) -> None:
    obj = send(**targets)
    if not targets:
        del obj["to"]
    error = client_error(obj)
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 21)


@pytest.mark.parametrize("targets", [{}, {"peer": BOB, "group": GROUP}], ids=["neither", "both"])
def test_read_needs_exactly_one_of_peer_and_group(targets: dict[str, Any]) -> None:
    error = client_error({"type": "read", "id": 22, "up_to": 1, **targets})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 22)


# --- conversation features (section 12) ---

EMOJIS = ["👍", "❤️", "👍🏽", "🏳️‍🌈", "👨‍👩‍👧‍👦", "🇧🇷", "1️⃣", "#⃣", "☺", "🏴󠁧󠁢󠁥󠁮󠁧󠁿"]
NOT_EMOJIS = [
    "",
    "a",
    "ab",
    "👍👍",
    "🇧🇷🇧🇷",
    "\u200d",
    "👍\u200d",
    "👍\u200d\u200d👍",
    "1",
    " 👍",
    "👍 ",
    "😀" + "\ufe0f" * 16,
]


@pytest.mark.parametrize("emoji", EMOJIS)
def test_a_reaction_is_one_emoji(emoji: str) -> None:
    frame = decode_client_frame(
        json.dumps({"type": "react", "id": 50, "key": "r", "target": 1, "emoji": emoji,
                    "to": BOB}).encode()
    )  # fmt: skip
    assert isinstance(frame, React) and frame.emoji == emoji


@pytest.mark.parametrize("emoji", NOT_EMOJIS)
def test_a_reaction_that_is_not_one_emoji_is_invalid_field(emoji: str) -> None:
    error = client_error(
        {"type": "react", "id": 51, "key": "r", "target": 1, "emoji": emoji, "to": BOB}
    )
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 51)


@pytest.mark.parametrize(
    "obj",
    [
        send(mentions=[ALICE]),  # a direct message mentions nobody
        send(to=None, group=GROUP, mentions=["nope"]),
        send(to=None, group=GROUP, mentions=[ALICE] * (protocol.MAX_GROUP_MEMBERS + 1)),
        send(reply_to={"seq": 0, "sender": ALICE}),
        send(reply_to={"seq": 3}),
        send(reply_to=3),
        send(forwarded_from={"name": " "}),
        send(forwarded_from={"name": "x" * 65}),
        send(forwarded_from={"name": "Carol", "sender": "carol"}),
        {"type": "edit", "id": 21, "key": "e", "target": 0, "text": "x", "to": BOB},
        {"type": "edit", "id": 21, "key": "e", "target": 1, "text": "", "to": BOB},
        {"type": "edit", "id": 21, "key": "e", "target": 1, "text": "x"},
        {"type": "delete", "id": 21, "key": "d", "target": 1, "to": BOB, "group": GROUP},
        {"type": "delete", "id": 21, "target": 1, "to": BOB},
        {"type": "update_group", "id": 21, "group": GROUP},
        {"type": "update_group", "id": 21, "group": GROUP, "description": "a\x00b"},
        {"type": "update_group", "id": 21, "group": GROUP, "description": "x" * 513},
        {"type": "update_group", "id": 21, "group": GROUP, "name": " "},
        {"type": "set_admin", "id": 21, "group": GROUP, "client_id": BOB},
        {"type": "get_presence", "id": 21, "client_ids": []},
        {"type": "get_presence", "id": 21, "client_ids": [ALICE] * 1025},
        {"type": "set_privacy", "id": 21, "presence": "contacts"},
    ],
)
def test_malformed_conversation_requests_are_invalid_field(obj: dict[str, Any]) -> None:
    error = client_error(obj)
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 21)


def test_an_edit_longer_than_a_message_is_text_too_large() -> None:
    obj = {"type": "edit", "id": 52, "key": "e", "target": 1, "text": "a" * (MAX_TEXT_BYTES + 1)}
    error = client_error({**obj, "to": BOB})
    assert (error.code, error.request_id) == (ErrorCode.TEXT_TOO_LARGE, 52)


def test_a_new_group_name_too_long_is_name_too_long() -> None:
    error = client_error({"type": "update_group", "id": 53, "group": GROUP, "name": "x" * 65})
    assert (error.code, error.request_id) == (ErrorCode.NAME_TOO_LONG, 53)


@pytest.mark.parametrize("targets", [{}, {"to": BOB, "group": GROUP}], ids=["neither", "both"])
def test_typing_needs_exactly_one_of_to_and_group(targets: dict[str, Any]) -> None:
    error = client_error({"type": "typing", "on": True, **targets})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, None)


def test_optional_conversation_fields_are_absent_not_null_in_server_frames() -> None:
    """An older client's frames are unchanged: what a message does not have is left out."""
    plain = encode_payload(Message(1, 1, TS, ALICE, "Alice", "hi", to=BOB))
    assert b"reply_to" not in plain and b"mentions" not in plain
    assert b"description" not in encode_payload(GroupReply(id=1, group=TEAM))
    assert b'"description":"Who we are.' in encode_payload(GroupReply(id=1, group=DESCRIBED))
    assert decode_client_frame(json.dumps(send(reply_to=None, mentions=None)).encode()) == Send(
        id=21, key="k", text="hi", to=BOB, reply_to=None, mentions=None
    )


BAD_CLIENT_IDS = [
    "",
    "k7qm-4xpa",
    "K7QM4XPA",
    "K7QM-4XP",
    "K7QM-4XPAA",
    "K7QM-4XPI",
    "K7QM-4XPL",
    "K7QM-4XPO",
    "K7QM-4XPU",
    "K7QM_4XPA",
    " K7QM-4XPA",
    "K7QM-4XPA ",
    "K7QM-4XP\uff21",  # fullwidth A
    GROUP,
]
BAD_GROUP_IDS = ["", "Q2RT-8HVB", "g-Q2RT-8HVB", "G-Q2RT8HVB", "G_Q2RT-8HVB", "G-Q2RT-8HVI", ALICE]
BAD_KEYS = ["", "a" * 65, "a b", "a.b", "ключ", "a/b", "k=="]
BAD_CREDENTIALS = ["a" * 15, "a" * 129, "a" * 15 + "=", "a" * 20 + "+", "a" * 20 + "/", ""]

FIELD_CASES: list[tuple[dict[str, Any], str, list[Any]]] = [
    ({"type": "login", "credential": CREDENTIAL}, "client_id", BAD_CLIENT_IDS),
    ({"type": "login", "client_id": ALICE}, "credential", BAD_CREDENTIALS),
    ({"type": "lookup"}, "client_id", BAD_CLIENT_IDS),
    ({"type": "send", "key": "k", "text": "x"}, "to", BAD_CLIENT_IDS),
    ({"type": "send", "key": "k", "text": "x"}, "group", BAD_GROUP_IDS),
    ({"type": "send", "text": "x", "to": BOB}, "key", BAD_KEYS),
    ({"type": "read", "up_to": 0}, "peer", BAD_CLIENT_IDS),
    ({"type": "read", "up_to": 0}, "group", BAD_GROUP_IDS),
    ({"type": "add_member", "group": GROUP}, "client_id", BAD_CLIENT_IDS),
    ({"type": "add_member", "client_id": BOB}, "group", BAD_GROUP_IDS),
    ({"type": "remove_member", "group": GROUP}, "client_id", BAD_CLIENT_IDS),
    ({"type": "remove_member", "client_id": BOB}, "group", BAD_GROUP_IDS),
    ({"type": "leave_group"}, "group", BAD_GROUP_IDS),
]


@pytest.mark.parametrize(
    ("base", "field", "bad_values"),
    FIELD_CASES,
    ids=[f"{base['type']}.{field}" for base, field, _ in FIELD_CASES],
)
def test_malformed_ids_keys_and_credentials_are_invalid_field(
    base: dict[str, Any], field: str, bad_values: list[Any]
) -> None:
    for value in [*bad_values, 12345678, None, [ALICE]]:
        if value is None and field in ("to", "group", "peer"):
            continue  # null means absent for optional fields
        error = client_error({**base, "id": 41, field: value})
        assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 41), value


@pytest.mark.parametrize("bad", [*BAD_CLIENT_IDS, 7])
def test_malformed_group_member_is_invalid_field(bad: Any) -> None:
    error = client_error({"type": "create_group", "id": 42, "name": "G", "members": [ALICE, bad]})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 42)


def test_too_many_group_members_is_invalid_field() -> None:
    members = [ALICE] * (protocol.MAX_GROUP_MEMBERS + 1)
    error = client_error({"type": "create_group", "id": 43, "name": "G", "members": members})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 43)


@pytest.mark.parametrize(
    ("base", "field", "value"),
    [
        ({"type": "lookup"}, "client_id", ALICE + "\n"),
        ({"type": "leave_group"}, "group", GROUP + "\n"),
        ({"type": "send", "text": "x", "to": BOB}, "key", "k\n"),
        ({"type": "login", "client_id": ALICE}, "credential", CREDENTIAL + "\n"),
    ],
    ids=["client_id", "group", "key", "credential"],
)
def test_trailing_newline_in_ids_keys_and_credentials_is_invalid_field(
    base: dict[str, Any], field: str, value: str
) -> None:
    error = client_error({**base, "id": 44, field: value})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 44)


@pytest.mark.parametrize("request_id", [0, 1, MAX_REQUEST_ID])
def test_request_ids_in_range_are_accepted(request_id: int) -> None:
    assert decode_client_frame(json.dumps({"type": "ping", "id": request_id}).encode()) == Ping(
        id=request_id
    )


@pytest.mark.parametrize(
    "raw_id",
    [
        b"-1",
        b"9007199254740992",
        b"18446744073709551616",
        b"10" + b"0" * 40,
        b"1.0",
        b"1e400",
        b"true",
        b'"1"',
        b"null",
        b"[1]",
    ],
)
def test_bad_request_id_is_invalid_field_without_request_id(raw_id: bytes) -> None:
    error = client_error(b'{"type":"ping","id":' + raw_id + b"}")
    assert error.code == ErrorCode.INVALID_FIELD
    assert error.request_id is None


def test_missing_request_id_is_invalid_field() -> None:
    error = client_error({"type": "ping"})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, None)


@pytest.mark.parametrize(
    "ids",
    [[], list(range(1, MAX_ACK_IDS + 2)), [0], [-1], [1, "2"], "1", None],
    ids=["empty", "too-many", "zero", "negative", "string-item", "string", "null"],
)
def test_bad_ack_is_invalid_field(ids: Any) -> None:
    error = client_error({"type": "ack", "ids": ids})
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, None)


def test_ack_with_max_ids_is_accepted() -> None:
    ids = list(range(1, MAX_ACK_IDS + 1))
    assert decode_client_frame(json.dumps({"type": "ack", "ids": ids}).encode()) == Ack(ids=ids)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    assert decode_client_frame(
        json.dumps({"type": "ping", "id": 1, "priority": "hi", "extra": {"a": [1, None]}}).encode()
    ) == Ping(id=1)
    assert decode_client_frame(
        json.dumps({**send(), "thread_id": 17, "format": "markdown"}).encode()
    ) == Send(id=21, key="k", text="hi", to=BOB)
    raw = json.loads(encode_payload(SERVER_EXAMPLES[0]))
    raw["motd"] = "hello"
    raw["limits"]["max_attachments"] = 3
    assert decode_server_frame(json.dumps(raw).encode()) == SERVER_EXAMPLES[0]
    raw = json.loads(encode_payload(GroupReply(id=8, group=TEAM)))
    raw["group"]["avatar"] = "x.png"
    raw["group"]["members"][0]["status"] = "away"
    assert decode_server_frame(json.dumps(raw).encode()) == GroupReply(id=8, group=TEAM)


@pytest.mark.parametrize(
    ("obj", "request_id"),
    [
        ({"type": "launch_missiles", "id": 5}, 5),
        ({"type": "welcome", "id": 6}, 6),  # a server frame sent by a client
        ({"type": "PING", "id": 7}, 7),
        ({"type": 1, "id": 8}, 8),
        ({"type": None, "id": 9}, 9),
        ({"type": ["ping"]}, None),
        ({"id": 10}, 10),
        ({}, None),
    ],
)
def test_unknown_or_missing_type_is_bad_frame(obj: dict[str, Any], request_id: int | None) -> None:
    error = client_error(obj)
    assert (error.code, error.request_id) == (ErrorCode.BAD_FRAME, request_id)


@pytest.mark.parametrize(
    "payload",
    [b"[]", b'[{"type":"ping","id":1}]', b'"ping"', b"1", b"1.5", b"null", b"true"],
)
def test_non_object_json_is_bad_frame(payload: bytes) -> None:
    assert client_error(payload).code == ErrorCode.BAD_FRAME


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b" ",
        b"\xff",
        b"\xef\xbb\xbf" + encode_payload(Ping(id=1)),
        b'{"type":"register","id":1,"display_name":"\xff"}',
        b'{"type":"register","id":1,"display_name":"\xc3"}',
        b'{"type":"register","id":1,"display_name":"\xed\xa0\x80"}',  # encoded surrogate
        b'{"type":"register","id":1,"display_name":"\\ud800"}',
        b'{"type":"ping","id":1} {"type":"ping","id":2}',
        b"{'type':'ping','id':1}",
        b'{"type":"ping","id":1,}',
        b'{"type":"ping","id":NaN}',
    ],
)
def test_malformed_bytes_are_bad_frame(payload: bytes) -> None:
    assert client_error(payload).code == ErrorCode.BAD_FRAME


def test_non_utf8_in_an_ignored_field_is_bad_frame() -> None:
    assert client_error(b'{"type":"ping","id":1,"x":"\xff"}').code == ErrorCode.BAD_FRAME


@pytest.mark.parametrize("frame", CLIENT_EXAMPLES, ids=lambda f: type(f).__name__)
def test_every_truncation_of_a_frame_is_bad_frame(frame: protocol.ClientFrame) -> None:
    payload = encode_payload(frame)
    for end in range(min(len(payload), 300)):
        assert client_error(payload[:end]).code == ErrorCode.BAD_FRAME, payload[:end]


@pytest.mark.parametrize(
    "payload",
    [
        b'{"type":"register","id":1,"display_name":""',
        b'{"type":"send","id":1,"key":"k","text":"", garbage',
    ],
)
def test_broken_json_after_an_invalid_field_is_bad_frame(payload: bytes) -> None:
    assert client_error(payload).code == ErrorCode.BAD_FRAME


def test_deeply_nested_json_in_a_client_frame_is_a_protocol_error() -> None:
    depth = 100_000
    payload = b'{"type":"ping","id":1,"x":' + b"[" * depth + b"]" * depth + b"}"
    client_error(payload)


def test_deeply_nested_json_in_a_server_frame_is_a_protocol_error() -> None:
    depth = 100_000
    payload = b'{"type":"ok","id":1,"x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    with pytest.raises(ProtocolError):
        decode_server_frame(payload)


def test_request_id_survives_an_out_of_range_number_elsewhere() -> None:
    error = client_error(b'{"type":"send","id":5,"x":1e400,"key":"k","text":"x"}')
    assert (error.code, error.request_id) == (ErrorCode.INVALID_FIELD, 5)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"[]",
        b'{"type":"ping","id":1}',  # a client frame sent by a server
        b'{"type":"ok"}',
        b'{"type":"ok","id":-1}',
        b'{"type":"welcome","id":1,"protocol":1,"server":"s","registration":"maybe","limits":{}}',
        b'{"type":"message","message_id":0,"seq":0,"ts":0,"sender":"K7QM-4XPA",'
        b'"sender_name":"A","text":"x"}',
        b'{"type":"group_update","event_id":1,"change":"renamed","actor":"K7QM-4XPA",'
        b'"group":{"group_id":"G-Q2RT-8HVB","name":"n","members":[],"created_by":"K7QM-4XPA",'
        b'"created_at":0}}',
        b'{"type":"group","id":1,"group":{"group_id":"G-Q2RT-8HVB","name":"n",'
        b'"members":[{"client_id":"nope","display_name":"x"}],"created_by":"K7QM-4XPA",'
        b'"created_at":0}}',
        b'{"type":"ok","id":1,"x":"\xff',
    ],
)
def test_invalid_server_frames_are_bad_frame(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_server_frame(payload)
    assert info.value.code == ErrorCode.BAD_FRAME
    assert info.value.request_id is None


# ---------------------------------------------------------------------------
# Fuzzing: malformed input raises ProtocolError and nothing else.
# ---------------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
client_ids = st.builds(
    lambda chars: f"{chars[:4]}-{chars[4:]}",
    st.text(alphabet=CROCKFORD, min_size=8, max_size=8),
).filter(lambda value: re.fullmatch(CLIENT_ID_PATTERN, value) is not None)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-2, MAX_REQUEST_ID + 2),
    st.floats(),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=16,
)

CLIENT_CLASSES = union_members(protocol.ClientFrame)
CLIENT_TAGS = sorted(tag_of(cls) for cls in union_members(protocol.ClientFrame))
SERVER_TAGS = sorted(tag_of(cls) for cls in union_members(protocol.ServerFrame))
FIELD_NAMES = sorted(
    {
        field.name
        for struct in (*ALL_EXAMPLES, Limits(), ALICE_ADMIN, TEAM)
        for field in msgspec.structs.fields(struct)
    }
)
plausible_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            ALICE,
            BOB,
            GROUP,
            CREDENTIAL,
            KEY,
            "k",
            0,
            1,
            MAX_REQUEST_ID,
            True,
            [1, 2],
            [ALICE],
            "open",
            "created",
            "",
            " ",
        ]
    ),
    client_ids,
    st.builds(
        lambda n, ch: ch * n,
        st.sampled_from([0, 1, 63, 64, 65, MAX_TEXT_BYTES // 2, MAX_TEXT_BYTES + 1]),
        st.sampled_from(["a", "é", "\x00", " "]),
    ),
    st.builds(
        msgspec.to_builtins,
        st.sampled_from([Limits(), ALICE_ADMIN, BOB_MEMBER, TEAM, EMPTY_GROUP, [TEAM]]),
    ),
)
tagged_objects = st.builds(
    lambda fields, tag: {**fields, "type": tag},
    st.dictionaries(
        st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6)), plausible_values, max_size=8
    ),
    st.sampled_from(sorted({*CLIENT_TAGS, *SERVER_TAGS})),
)


NAME_EDGES: list[Any] = ["a" * 64, "a" * 65, "é" * 65, "🚀" * 64, "", " ", "a\x00", "\u2028"]
ID_EDGES: list[Any] = [ALICE, GROUP, None, "", ALICE.lower(), ALICE + "\n", 7]
EDGE_VALUES: dict[str, list[Any]] = {
    "id": [-1, 0, MAX_REQUEST_ID, MAX_REQUEST_ID + 1, 2**64, True, 1.0, "1", None],
    "display_name": NAME_EDGES,
    "name": NAME_EDGES,
    "text": ["", "a" * MAX_TEXT_BYTES, "a" * (MAX_TEXT_BYTES + 1), "é" * (MAX_TEXT_BYTES // 2 + 1)],
    "members": [[], [ALICE] * (protocol.MAX_GROUP_MEMBERS + 1), [ALICE, "nope"], [None]],
    "ids": [[], [0], [1, -1], list(range(1, MAX_ACK_IDS + 2)), [True]],
    "to": ID_EDGES,
    "peer": ID_EDGES,
    "group": ID_EDGES,
    "client_id": ID_EDGES,
    "key": ["", "k" * 64, "k" * 65, "k k", KEY],
    "credential": ["", "c" * 15, "c" * 16, "c" * 128, "c" * 129, CREDENTIAL + "="],
    "up_to": [-1, 0, 2**63, 2**64],
    "protocol": [0, 1, 2, -1],
    "type": [*CLIENT_TAGS, *SERVER_TAGS, "", "PING", None, 1],
}


@st.composite
def mutated_examples(draw: st.DrawFn, examples: list[Any]) -> dict[str, Any]:
    """A valid frame as a JSON object with one or two fields (or list items) replaced,
    added or removed; mostly its own fields and values at the edge of their limits."""
    obj: dict[str, Any] = msgspec.to_builtins(draw(st.sampled_from(examples)))
    for _ in range(draw(st.integers(1, 2))):
        own = draw(st.integers(0, 3)) > 0 and bool(obj)
        key = draw(st.sampled_from(sorted(obj) if own else FIELD_NAMES))
        edges = st.sampled_from(EDGE_VALUES[key]) if key in EDGE_VALUES else plausible_values
        action = draw(st.sampled_from(["remove", "edge", "edge", "edge", "any", "item"]))
        if action == "remove":
            obj.pop(key, None)
        elif action == "item" and isinstance(obj.get(key), list) and obj[key]:
            index = draw(st.integers(0, len(obj[key])))
            obj[key] = [*obj[key][:index], draw(plausible_values), *obj[key][index + 1 :]]
        else:
            obj[key] = draw(edges if action == "edge" else plausible_values)
    return obj


def json_payloads(objects: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda obj, ascii_only: json.dumps(obj, ensure_ascii=ascii_only).encode(
            "utf-8", "surrogatepass"
        ),
        objects,
        st.booleans(),
    )


def check_client_decode(payload: bytes) -> None:
    """Decoding either succeeds and round-trips, or raises a well-formed ProtocolError."""
    try:
        frame = decode_client_frame(payload)
    except ProtocolError as exc:
        assert exc.code in ALL_CODES
        assert exc.request_id is None or 0 <= exc.request_id <= MAX_REQUEST_ID
        return
    assert decode_client_frame(encode_payload(frame)) == frame


def check_server_decode(payload: bytes) -> None:
    try:
        frame = decode_server_frame(payload)
    except ProtocolError as exc:
        assert exc.code == ErrorCode.BAD_FRAME
        return
    assert decode_server_frame(encode_payload(frame)) == frame


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_protocol_error(payload: bytes) -> None:
    check_client_decode(payload)
    check_server_decode(payload)


@FUZZ
@given(json_payloads(json_values))
def test_arbitrary_json_raises_only_protocol_error(payload: bytes) -> None:
    check_client_decode(payload)
    check_server_decode(payload)


@FUZZ
@given(json_payloads(tagged_objects))
def test_tagged_objects_with_random_fields_raise_only_protocol_error(payload: bytes) -> None:
    check_client_decode(payload)
    check_server_decode(payload)


def is_strict_json(payload: bytes) -> bool:
    """False for what ``json.dumps`` writes but JSON forbids: NaN, Infinity."""

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(payload, parse_constant=refuse)
    except ValueError:  # includes UnicodeDecodeError for lone surrogates
        return False
    return True


def check_mutated(obj: dict[str, Any]) -> None:
    payload = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
    check_client_decode(payload)
    check_server_decode(payload)
    request_id = obj.get("id")
    readable = type(request_id) is int and 0 <= request_id <= MAX_REQUEST_ID
    if readable and "type" in obj and is_strict_json(payload):
        # The id is readable, so every error about a JSON object must carry it.
        try:
            decode_client_frame(payload)
        except ProtocolError as exc:
            assert exc.request_id == request_id


@FUZZ
@given(mutated_examples([f for f in SMALL_EXAMPLES if type(f) in CLIENT_CLASSES]))
def test_mutated_client_frames_raise_only_protocol_error(obj: dict[str, Any]) -> None:
    check_mutated(obj)


@FUZZ
@given(mutated_examples([f for f in SMALL_EXAMPLES if type(f) not in CLIENT_CLASSES]))
def test_mutated_server_frames_raise_only_protocol_error(obj: dict[str, Any]) -> None:
    check_mutated(obj)


@FUZZ
@given(st.lists(st.binary(max_size=16), max_size=6), st.binary(max_size=4))
def test_random_payloads_inside_valid_framing_raise_only_protocol_error(
    fragments: list[bytes], tail: bytes
) -> None:
    payload = b"".join(fragments) + tail
    (taken,) = read_all(frame_bytes(payload))
    check_client_decode(taken)
    check_server_decode(taken)


# ---------------------------------------------------------------------------
# Direct conversations
# ---------------------------------------------------------------------------


@FUZZ
@given(client_ids, client_ids)
def test_direct_conversation_is_symmetric(a: str, b: str) -> None:
    key = direct_conversation(a, b)
    assert key == direct_conversation(b, a)
    assert sorted(key.split(":")) == sorted([a, b])


@FUZZ
@given(client_ids, client_ids, client_ids, client_ids)
def test_direct_conversation_tells_pairs_apart(a: str, b: str, c: str, d: str) -> None:
    same_pair = {a, b} == {c, d}
    assert (direct_conversation(a, b) == direct_conversation(c, d)) == same_pair


def test_direct_conversation_with_oneself() -> None:
    assert direct_conversation(ALICE, ALICE) == f"{ALICE}:{ALICE}"
    assert direct_conversation(ALICE, BOB) == direct_conversation(BOB, ALICE) == f"{ALICE}:{BOB}"


@pytest.mark.parametrize(
    "payload",
    [
        b'{"type":"read","id":1,"up_to":9007199254740992,"peer":"K7QM-4XPA"}',
        b'{"type":"read","id":1,"up_to":9223372036854775808,"peer":"K7QM-4XPA"}',
        b'{"type":"ack","ids":[9007199254740992]}',
        b'{"type":"login","id":1,"client_id":"K7QM-4XPA","credential":"'
        + CREDENTIAL.encode()
        + b'","receipts_since":9007199254740992}',
    ],
)
def test_integers_above_the_safe_range_are_invalid_field(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_client_frame(payload)
    assert raised.value.code == ErrorCode.INVALID_FIELD


def test_the_largest_safe_integer_is_accepted() -> None:
    frame = decode_client_frame(
        b'{"type":"read","id":1,"up_to":%d,"peer":"K7QM-4XPA"}' % MAX_SAFE_INTEGER
    )
    assert isinstance(frame, MarkRead) and frame.up_to == MAX_SAFE_INTEGER
