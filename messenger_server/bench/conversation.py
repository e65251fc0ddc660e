"""Scenarios of the conversation features (protocol section 12): what a typing notice and
a reaction cost the target.

* :func:`typing_notices` — ``--typing`` clients in a ring, each with ``--typing-peers``
  direct conversations (opened first with one message each, not timed). Timed, twice:
  every client tells each of its peers it is typing, then that it stopped (every notice is
  forwarded); then it repeats ``on`` ``--typing-repeats`` times at once (all within the
  3-second throttle: dropped, but for at most one). Checked: each peer got exactly ``on``
  then ``off`` from each, and then at most one ``on``; nothing else.
* :func:`reactions` — ``--reactions`` clients in a ring: each sends ``--messages``
  messages to the next (not timed), then reacts to each message it received, closed loop
  with ``--window`` unanswered. Checked like messages (:class:`~.verify.Verifier`): each
  reaction ``sent`` once and delivered once, in order, to the author of its message, with
  the ``message_id`` of its ``sent``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from messenger_server import protocol
from messenger_server.bench import wire
from messenger_server.bench.client import BenchClient, Refused, close_all
from messenger_server.bench.scenarios import (
    Invalid,
    Measurement,
    Meter,
    Options,
    Span,
    _closed_loop,
    _finish,
    _pass,
    _pass_figures,
    _per,
    _resolve,
    _settle,
    _setup,
    _until,
    direct_conversations,
)
from messenger_server.bench.target import Target
from messenger_server.bench.verify import Verifier


class TypingTally:
    """The ``typing`` events each client got, from whom, against what was expected."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.heard: dict[tuple[str, str], list[bool]] = {}
        """(receiver, sender) → the ``on`` of each event, in order."""
        self.count = 0
        self._target = -1
        self._done: asyncio.Future[None] | None = None

    def heard_typing(self, client: BenchClient, frame: wire.Frame) -> None:
        """A client's ``typing`` event (:attr:`BenchClient.on_typing`)."""
        if frame.group is not None:
            self.verifier.fail(f"{client.client_id}: a typing event for group {frame.group}")
        self.heard.setdefault((client.client_id, frame.sender), []).append(frame.on)
        self.count += 1
        if self.count == self._target and self._done is not None:
            _resolve(self._done)

    @property
    def missing(self) -> int:
        """Events expected (:meth:`expect`) and not come yet."""
        return max(0, self._target - self.count)

    def expect(self, count: int) -> asyncio.Future[None]:
        """Resolves once ``count`` more events have come."""
        self._done = asyncio.get_running_loop().create_future()
        self._target = self.count + count
        if count == 0:
            _resolve(self._done)
        return self._done

    def check(self, pairs: Sequence[tuple[str, str]], allowed: Sequence[list[bool]]) -> None:
        """Each (receiver, sender) of ``pairs`` heard one of ``allowed``; nobody else heard
        anything. Forgets what was heard."""
        wanted = set(pairs)
        for pair in pairs:
            got = self.heard.get(pair, [])
            if got not in allowed:
                self.verifier.fail(f"{pair[0]}: typing from {pair[1]} came as {got}")
        for pair, got in self.heard.items():
            if pair not in wanted:
                self.verifier.fail(f"{pair[0]}: typing from {pair[1]}, a stranger: {got}")
        self.heard.clear()


def _typing_figures(measurement: Measurement, span: Span, notices: int, suffix: str) -> None:
    figures = measurement.figures
    figures[f"notices/s{suffix}"] = notices / span.seconds if span.seconds else None
    figures[f"CPU µs/notice{suffix}"] = _per(span.target_cpu, notices)
    figures[f"frames/notice{suffix}"] = span.frames / notices if notices else None
    figures[f"generator µs/notice{suffix}"] = _per(span.generator_cpu, notices)
    seconds = span.seconds or None
    figures[f"CPU busy{suffix}"] = (
        None if span.target_cpu is None or seconds is None else span.target_cpu / seconds
    )
    figures[f"others busy{suffix}"] = (
        None if span.others_cpu is None or seconds is None else span.others_cpu / seconds
    )


async def typing_notices(target: Target, options: Options) -> Measurement:
    """The cost of a ``typing`` notice, forwarded and dropped by the throttle."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    tally = TypingTally(verifier)
    try:
        identities, clients = await _setup(verifier, target, options.typing, options, "typist")
        rings = direct_conversations(identities, options.typing_peers)
        for client, peers in zip(clients, rings, strict=True):
            client.prepare(peers, options.text_bytes)
            client.on_typing = tally.heard_typing
        opened = await _pass(  # one message per conversation: now it exists
            target, clients, verifier, options, sum(len(p) for p in rings),
            _closed_loop(clients, len(rings[0]), len(rings[0])),
        )  # fmt: skip
        if not verifier.ok or opened.completed < sum(len(p) for p in rings):
            raise Invalid("the conversations could not be opened")
        pairs = [
            (peer, client.client_id)
            for client, peers in zip(clients, rings, strict=True)
            for peer in peers
        ]

        # 1: "on" then "off" to every peer: each forwarded.
        frames = [
            b"".join(wire.typing(peer, on) for peer in peers for on in (True, False))
            for peers in rings
        ]
        notices = 2 * len(pairs)
        done = tally.expect(notices)
        meter = Meter(target, clients)
        meter.start()
        first_on = time.perf_counter()
        for client, data in zip(clients, frames, strict=True):
            client.write_frames(data, 2 * len(rings[0]))
        if not await _until(done.done, lambda: tally.count, target, options):
            verifier.fail(f"{tally.missing} typing notices never came")
        await _settle(meter)
        _typing_figures(measurement, meter.read(), notices, " (forwarded)")
        tally.check(pairs, [[True, False]])

        # 2: "on", again and again, within the throttle: dropped, but for at most one.
        repeats = options.typing_repeats
        frames = [b"".join(wire.typing(peer, True) for peer in peers) * repeats for peers in rings]
        notices = repeats * len(pairs)
        meter = Meter(target, clients)
        meter.start()
        for client, data in zip(clients, frames, strict=True):
            client.write_frames(data, repeats * len(rings[0]))
        await asyncio.gather(*(c.request(protocol.Ping(id=0)) for c in clients))
        handled = time.perf_counter()  # every notice was handled before its ping's pong
        await _settle(meter)
        _typing_figures(measurement, meter.read(), notices, " (throttled)")
        if handled - first_on < protocol.TYPING_THROTTLE_SECONDS:
            tally.check(pairs, [[]])
        else:  # a slow run: for some pairs the first pass's "on" is over 3 s old
            tally.check(pairs, [[], [True]])
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    return _finish(
        measurement,
        verifier,
        f"{options.typing:,} clients x {options.typing_peers} peers: on and off forwarded"
        f" once each, in order, to the peer only; then {options.typing_repeats} repeated"
        " `on`s dropped",
    )


async def reactions(target: Target, options: Options) -> Measurement:
    """The cost of a reaction: stored, answered ``sent``, delivered as ``reacted`` to the
    message's author, acknowledged."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    try:
        identities, clients = await _setup(verifier, target, options.reactions, options, "fan")
        ring = direct_conversations(identities, 1)
        for client, peers in zip(clients, ring, strict=True):
            client.prepare(peers, options.text_bytes)
            client.sent_seqs = {}
        total = len(clients) * options.messages
        stored = await _pass(
            target, clients, verifier, options, total,
            _closed_loop(clients, options.messages, options.window),
        )  # fmt: skip
        if not verifier.ok or stored.completed < total:
            raise Invalid("the messages to react to could not be sent")
        # Each client reacts to every message of the one before it in the ring, in order.
        for index, client in enumerate(clients):
            author = clients[index - 1]
            assert author.sent_seqs is not None
            targets = [author.sent_seqs[n] for n in range(options.messages)]
            client.prepare_reactions(author.client_id, targets, "👍")
            author.react_numbers = {seq: options.messages + n for n, seq in enumerate(targets)}
        result = await _pass(
            target, clients, verifier, options, total,
            _closed_loop(clients, options.messages, options.window),
        )  # fmt: skip
        _pass_figures(measurement, result, "")
        measurement.figures = {
            name.replace("message", "reaction"): value
            for name, value in measurement.figures.items()
        }
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    return _finish(
        measurement,
        verifier,
        f"{len(clients) * options.messages:,} reactions: each `sent` once, delivered once to"
        " the message's author, in order, none missing",
    )
