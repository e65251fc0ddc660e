"""The chat-shaped scenarios, each run against one target (the server, or the relay).

Every scenario registers fresh identities, checks everything it receives through a
:class:`~.verify.Verifier`, and returns a :class:`Measurement`: figures, or the failures
that make them meaningless.

* :func:`direct` — ``--clients`` users each send ``--messages`` direct messages to their
  peers, ``--window`` unanswered at most (closed loop: the next one goes when ``sent``
  comes); then, with ``--rate`` or ``--latency``, the same again paced at a fixed rate
  (open loop), for latency below saturation.
* :func:`group` — ``--group-size`` members each send ``--messages`` to their group.
* :func:`backlog` — ``--backlog`` messages wait for an offline client, which logs in and
  takes them all.
* :func:`idle` — ``--idle`` clients log in and stay: memory per connection.
* :func:`logins` — ``--logins`` logins, each on a new connection, ``--logins-parallel``
  at a time.
* :func:`prelogin` — ``--prelogin`` connections that only said ``hello``: memory per
  connection before login.
* :func:`flood` — ``--flood`` users' latency, quiet and while one connection floods
  ``ping``s (the server's default rate limit in force).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from messenger_server import protocol
from messenger_server.bench import wire
from messenger_server.bench.client import (
    BenchClient,
    Identity,
    Refused,
    close_all,
    connect,
    register,
)
from messenger_server.bench.target import Target, machine_cpu_seconds
from messenger_server.bench.verify import Verifier

SETTLE_QUIET: Final = 0.1
"""After the last message completes, the run waits until no frame has come for this long
(acks and receipts still on their way belong to the messages' cost)."""
SETTLE_MAX: Final = 2.0


@dataclass(frozen=True)
class Options:
    """What to run (see ``messenger-bench --help``)."""

    clients: int = 1000
    messages: int = 20
    window: int = 1
    peers: int = 1
    rate: float | None = None
    latency: bool = False
    group_size: int = 100
    backlog: int = 100_000
    backlog_senders: int = 1
    idle: int = 1000
    logins: int = 20_000
    logins_parallel: int = 100
    prelogin: int = 1000
    flood: int = 100
    flood_rate: float = 200.0
    typing: int = 1000
    typing_peers: int = 10
    typing_repeats: int = 9
    reactions: int = 1000
    text_bytes: int = 40
    strict: bool = False
    stall: float = 10.0
    """Seconds without progress after which what has not come is declared missing."""
    timeout: float = 600.0


@dataclass
class Measurement:
    """One scenario against one target."""

    target: str
    figures: dict[str, float | None] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: str = ""
    """What was verified, for people (when valid)."""
    runs: list[dict[str, float | None]] = field(default_factory=list)
    """Every run's figures, when :attr:`figures` are the medians of several."""

    @property
    def valid(self) -> bool:
        return not self.failures


def combine(measurements: Sequence[Measurement]) -> Measurement:
    """Several runs against one target as one: the median of each figure; invalid when
    any run is."""
    if len(measurements) == 1:
        return measurements[0]
    first = measurements[0]
    combined = Measurement(first.target, notes=first.notes)
    for index, measurement in enumerate(measurements, 1):
        combined.failures += [f"run {index}: {failure}" for failure in measurement.failures]
        combined.runs.append(measurement.figures)
    names = dict.fromkeys(name for m in measurements for name in m.figures)
    for name in names:
        values = [v for m in measurements if (v := m.figures.get(name)) is not None]
        combined.figures[name] = statistics.median(values) if values else None
    if combined.valid:
        combined.checked = f"{first.checked} (each of {len(measurements)} runs)"
    return combined


class Invalid(Exception):
    """The run cannot go on (a refused setup request, a dead target)."""


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Span:
    seconds: float
    target_cpu: float | None
    generator_cpu: float
    frames: int
    others_cpu: float | None
    """CPU time the rest of the machine used meanwhile (other processes, the hypervisor's
    steal): what makes wall-clock figures noisy. ``None`` when the target is not ours."""


class Meter:
    """Wall time, the target's and the generator's CPU time, the rest of the machine's,
    and the frames both ways, since :meth:`start`."""

    def __init__(self, target: Target, clients: Sequence[BenchClient]) -> None:
        self.target = target
        self.clients = clients
        self._wall = 0.0
        self._cpu: float | None = None
        self._generator = 0.0
        self._machine: float | None = None
        self._frames = 0

    def frames(self) -> int:
        return sum(c.frames_in + c.frames_out for c in self.clients)

    def start(self) -> None:
        self._frames = self.frames()
        self._cpu = self.target.cpu_seconds()
        self._machine = machine_cpu_seconds()
        self._generator = time.process_time()
        self._wall = time.perf_counter()

    def read(self) -> Span:
        """What happened since :meth:`start`."""
        wall = time.perf_counter() - self._wall
        generator = time.process_time() - self._generator
        cpu = self.target.cpu_seconds()
        machine = machine_cpu_seconds()
        target_cpu = None if cpu is None or self._cpu is None else cpu - self._cpu
        others = None
        if target_cpu is not None and machine is not None and self._machine is not None:
            others = max(0.0, machine - self._machine - target_cpu - generator)
        return Span(wall, target_cpu, generator, self.frames() - self._frames, others)


def _per(amount: float | None, count: int, scale: float = 1e6) -> float | None:
    return None if amount is None or count == 0 else amount / count * scale


def _percentile(values: Sequence[int], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index] / 1e6  # ns → ms


async def _until(
    condition: Callable[[], bool], progress: Callable[[], int], target: Target, options: Options
) -> bool:
    """Wait until ``condition()``; gives up (returns False) when ``progress()`` stops
    moving for ``options.stall`` seconds or after ``options.timeout``.

    Raises:
        Invalid: the target's process died.
    """
    started = last_move = time.monotonic()
    last = progress()
    while not condition():
        await asyncio.sleep(0.02)
        now = time.monotonic()
        if (gone := target.check_alive()) is not None:
            raise Invalid(gone)
        current = progress()
        if current != last:
            last, last_move = current, now
        elif now - last_move > options.stall or now - started > options.timeout:
            return False
    return True


async def _settle(meter: Meter) -> None:
    """Wait until no frame comes for :data:`SETTLE_QUIET` (at most :data:`SETTLE_MAX`)."""
    deadline = time.monotonic() + SETTLE_MAX
    last = meter.frames()
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_QUIET)
        current = meter.frames()
        if current == last:
            return
        last = current


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _finish(measurement: Measurement, verifier: Verifier, checked: str) -> Measurement:
    verifier.finish()
    measurement.failures = verifier.describe()
    if measurement.valid:
        measurement.checked = checked
    return measurement


async def _setup(
    verifier: Verifier, target: Target, count: int, options: Options, prefix: str
) -> tuple[list[Identity], list[BenchClient]]:
    identities = await register(
        verifier, target.addresses, count, prefix=prefix, strict=options.strict
    )
    clients = await connect(verifier, identities, strict=options.strict)
    return identities, clients


# --- a pass of messages ---------------------------------------------------------------------


@dataclass
class Pass:
    completed: int
    seconds: float
    """From the first send to the last completion."""
    span: Span
    """Everything the pass's messages caused, their last acks and receipts included."""
    latencies: list[int]
    busy: float | None
    """The target's CPU time over the pass's wall time (1.0 = one core saturated)."""
    generator_busy: float
    others_busy: float | None


async def _pass(
    target: Target,
    clients: Sequence[BenchClient],
    verifier: Verifier,
    options: Options,
    total: int,
    start: Callable[[], None],
    background: Callable[[], asyncio.Future[None]] | None = None,
) -> Pass:
    """Run ``start()`` (and ``background()``) until ``total`` messages have completed or
    progress stalls; then wait for the frames still on their way."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    verifier.start_pass(total, lambda: _resolve(done))
    meter = Meter(target, clients)
    at_done: list[Span] = []
    done.add_done_callback(lambda _: at_done.append(meter.read()))
    meter.start()
    started = time.perf_counter_ns()
    start()
    pacing = background() if background is not None else None
    try:
        await _until(done.done, lambda: verifier.completed, target, options)
    finally:
        if pacing is not None:
            pacing.cancel()
    elapsed = (verifier.last_completion - started) / 1e9 if verifier.completed else 0.0
    await _settle(meter)
    span = meter.read()
    load = at_done[0] if at_done else span
    return Pass(
        verifier.completed,
        elapsed,
        span,
        list(verifier.latencies),
        None if load.target_cpu is None else load.target_cpu / load.seconds,
        load.generator_cpu / load.seconds,
        None if load.others_cpu is None else load.others_cpu / load.seconds,
    )


def _closed_loop(clients: Sequence[BenchClient], count: int, window: int) -> Callable[[], None]:
    def start() -> None:
        for client in clients:
            client.start_sending(count, window)

    return start


def _paced(clients: Sequence[BenchClient], rate: float, total: int) -> asyncio.Future[None]:
    """Open loop: message ``i`` is due at ``start + i / rate``, sent by the clients in
    turn, whatever is still in flight; its latency counts from when it was due, not from
    when it could be written (no coordinated omission)."""

    async def run() -> None:
        interval = 1e9 / rate
        started = time.perf_counter_ns()
        issued = 0
        count = len(clients)
        while issued < total:
            due = min(total, int((time.perf_counter_ns() - started) / interval) + 1)
            while issued < due:
                clients[issued % count].send_one(started + int(issued * interval))
                issued += 1
            await asyncio.sleep(0.001)

    return asyncio.ensure_future(run())


def _pass_figures(
    measurement: Measurement, result: Pass, suffix: str, per_delivery: int = 1
) -> None:
    """Figures of one pass; ``per_delivery`` > 1 for a group (deliveries per message)."""
    figures = measurement.figures
    rate = result.completed / result.seconds if result.seconds else None
    figures[f"messages/s{suffix}"] = rate
    if per_delivery > 1:
        figures[f"deliveries/s{suffix}"] = None if rate is None else rate * per_delivery
    figures[f"latency p50 ms{suffix}"] = _percentile(result.latencies, 0.50)
    figures[f"latency p99 ms{suffix}"] = _percentile(result.latencies, 0.99)
    figures[f"CPU µs/message{suffix}"] = _per(result.span.target_cpu, result.completed)
    if per_delivery > 1:
        figures[f"CPU µs/delivery{suffix}"] = _per(
            result.span.target_cpu, result.completed * per_delivery
        )
    figures[f"CPU busy{suffix}"] = result.busy
    figures[f"frames/message{suffix}"] = (
        result.span.frames / result.completed if result.completed else None
    )
    figures[f"generator µs/message{suffix}"] = _per(result.span.generator_cpu, result.completed)
    figures[f"generator busy{suffix}"] = result.generator_busy
    figures[f"others busy{suffix}"] = result.others_busy


def _busy_figures(figures: dict[str, float | None], span: Span) -> None:
    """How busy the target and the generator were (1.0: a whole core)."""
    figures["CPU busy"] = None if span.target_cpu is None else span.target_cpu / span.seconds
    figures["generator busy"] = span.generator_cpu / span.seconds
    figures["others busy"] = None if span.others_cpu is None else span.others_cpu / span.seconds


# --- scenarios ------------------------------------------------------------------------------


def direct_conversations(identities: Sequence[Identity], peers: int) -> list[list[str]]:
    """Client ``i`` writes to clients ``i+1 … i+peers`` (a ring): every client has
    ``peers`` correspondents it writes to and ``peers`` it hears from."""
    count = len(identities)
    return [
        [identities[(i + 1 + j) % count].client_id for j in range(min(peers, count - 1))]
        for i in range(count)
    ]


async def direct(target: Target, options: Options, paced_rate: float | None = None) -> Measurement:
    """Direct messages among ``options.clients``, closed loop; then an open-loop pass at
    ``paced_rate`` messages/s (by default, with ``options.latency``: half the rate the
    closed loop reached)."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    try:
        identities, clients = await _setup(verifier, target, options.clients, options, "direct")
        for client, peers in zip(
            clients, direct_conversations(identities, options.peers), strict=True
        ):
            client.prepare(peers, options.text_bytes)
        total = len(clients) * options.messages
        result = await _pass(
            target, clients, verifier, options, total,
            _closed_loop(clients, options.messages, options.window),
        )  # fmt: skip
        _pass_figures(measurement, result, "")
        if paced_rate is None and options.latency and result.seconds:
            paced_rate = result.completed / result.seconds / 2
        if paced_rate is not None and verifier.ok:
            result = await _pass(
                target, clients, verifier, options, total, lambda: None,
                lambda: _paced(clients, paced_rate, total),
            )  # fmt: skip
            measurement.figures["paced rate msg/s"] = paced_rate
            _pass_figures(measurement, result, " (paced)")
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    sent = verifier.sent_count
    return _finish(
        measurement,
        verifier,
        f"{sent:,} messages: each `sent` once, each delivered once, in order, none missing",
    )


async def group(target: Target, options: Options) -> Measurement:
    """Every member of one group of ``options.group_size`` sends ``options.messages``."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    size = options.group_size
    try:
        identities, clients = await _setup(verifier, target, size, options, "member")
        creator = clients[0]
        # only a contact may put someone in a group
        await asyncio.gather(
            *(
                c.request(protocol.AddContact(id=0, client_id=creator.client_id))
                for c in clients[1:]
            )
        )
        reply = await creator.request(
            protocol.CreateGroup(id=0, name="bench", members=[i.client_id for i in identities[1:]])
        )
        assert isinstance(reply.group, dict)
        group_id = str(reply.group["group_id"])
        verifier.group(group_id, [i.client_id for i in identities])
        await _settle(Meter(target, clients))  # the members' group_update, acknowledged
        for client in clients:
            client.prepare([group_id], options.text_bytes)
        total = size * options.messages
        result = await _pass(
            target, clients, verifier, options, total,
            _closed_loop(clients, options.messages, options.window),
        )  # fmt: skip
        _pass_figures(measurement, result, "", per_delivery=size - 1)
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    deliveries = verifier.sent_count * (size - 1)
    return _finish(
        measurement,
        verifier,
        f"{verifier.sent_count:,} messages, {deliveries:,} deliveries: each once, in order,"
        " none missing",
    )


async def backlog(target: Target, options: Options) -> Measurement:
    """``options.backlog`` messages wait for one offline client; it logs in and takes
    them all: the time from ``login`` until every sender has a receipt for its last
    message (the client has received and acknowledged everything)."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    senders_count = max(1, min(options.backlog_senders, options.backlog))
    try:
        identities = await register(
            verifier, target.addresses, 1 + senders_count, prefix="backlog", strict=options.strict
        )
        recipient, sender_identities = identities[0], identities[1:]
        clients = await connect(verifier, sender_identities, strict=options.strict)
        for client in clients:
            client.prepare([recipient.client_id], options.text_bytes)
        shares = [
            options.backlog // senders_count + (i < options.backlog % senders_count)
            for i in range(senders_count)
        ]
        fill_started = time.perf_counter()
        for client, share in zip(clients, shares, strict=True):
            client.start_sending(share, 256)

        def replies() -> int:
            return sum(c.sent_replies for c in clients)

        if not await _until(lambda: replies() >= options.backlog, replies, target, options):
            raise Invalid(f"only {replies()} of {options.backlog} messages were stored")
        measurement.notes.append(
            f"backlog stored at {options.backlog / (time.perf_counter() - fill_started):,.0f}"
            " msg/s (window 256)"
        )
        await _settle(Meter(target, clients))

        loop = asyncio.get_running_loop()
        all_acked: asyncio.Future[None] = loop.create_future()
        waiting = {c.client_id for c in clients}

        def on_receipts(sender: BenchClient, frame: wire.Frame) -> None:
            for receipt in wire.decode_receipts(frame):
                if (
                    receipt.by == recipient.client_id
                    and receipt.group is None
                    and receipt.delivered >= sender.last_sent_seq
                ):
                    waiting.discard(sender.client_id)
            if not waiting and not all_acked.done():
                all_acked.set_result(None)

        for client in clients:
            client.on_receipts = on_receipts
        receiver = await BenchClient.open(verifier, recipient, recipient.address, options.strict)
        clients.append(receiver)
        done: asyncio.Future[None] = loop.create_future()
        verifier.start_pass(options.backlog, lambda: _resolve(done))
        meter = Meter(target, clients)
        meter.start()
        started = time.perf_counter_ns()
        await receiver.login()
        synced = time.perf_counter_ns()
        if receiver.pending_at_login != options.backlog:
            verifier.fail(
                f"logged_in.pending is {receiver.pending_at_login}, not {options.backlog}"
            )
        if not await _until(
            all_acked.done, lambda: sum(c.receipts_events for c in clients), target, options
        ):
            verifier.fail(f"no receipt for the last message of {sorted(waiting)}")
        acked = time.perf_counter_ns()
        span = meter.read()
        received = verifier.last_completion or acked
        figures = measurement.figures
        figures["login → synced ms"] = (synced - started) / 1e6
        figures["login → all received ms"] = (received - started) / 1e6
        figures["login → all acked ms"] = (acked - started) / 1e6
        figures["messages/s"] = options.backlog / ((received - started) / 1e9)
        figures["CPU µs/message"] = _per(span.target_cpu, options.backlog)
        figures["frames/message"] = span.frames / options.backlog
        figures["generator µs/message"] = _per(span.generator_cpu, options.backlog)
        _busy_figures(figures, span)
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    return _finish(
        measurement,
        verifier,
        f"{options.backlog:,} messages: each `sent` once, delivered once, in order, none"
        " missing; pending announced right; a receipt for the last",
    )


async def idle(target: Target, options: Options) -> Measurement:
    """``options.idle`` clients logged in and idle: the target's memory per connection."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    try:
        identities = await register(
            verifier, target.addresses, options.idle, prefix="idle", strict=options.strict
        )
        pause = min(1.0, max(0.05, options.idle / 2000))  # let the target settle
        await asyncio.sleep(pause)
        before = target.rss_kib()
        clients = await connect(verifier, identities, strict=options.strict)
        await asyncio.sleep(pause)
        after = target.rss_kib()
        pongs = await asyncio.gather(*(c.request(protocol.Ping(id=0)) for c in clients))
        if sum(p.type == "pong" for p in pongs) != len(clients):
            verifier.fail("not every idle client answered a ping")
        figures = measurement.figures
        figures["connections"] = len(clients)
        figures["KiB/connection"] = (
            None if before is None or after is None else (after - before) / len(clients)
        )
        figures["RSS MiB"] = None if after is None else after / 1024
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    return _finish(measurement, verifier, f"{options.idle:,} logins, all alive (ping) after idling")


async def logins(target: Target, options: Options) -> Measurement:
    """``options.logins`` logins (connect, ``hello``, ``login``, …, ``synced``, close),
    ``options.logins_parallel`` at a time, each worker with its own identity."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    parallel = max(1, min(options.logins_parallel, options.logins))
    try:
        identities = await register(
            verifier, target.addresses, parallel, prefix="login", strict=options.strict
        )
        counter = itertools.count()
        done = [0]

        async def worker(identity: Identity) -> None:
            while next(counter) < options.logins:
                client = await BenchClient.open(
                    verifier, identity, identity.address, options.strict
                )
                await client.login()
                if client.pending_at_login != 0:
                    verifier.fail(f"{identity.client_id}: {client.pending_at_login} pending")
                client.close()
                await client.wait_closed()
                done[0] += 1

        meter = Meter(target, [])
        meter.start()
        await asyncio.gather(*(worker(identity) for identity in identities))
        span = meter.read()
        figures = measurement.figures
        figures["logins/s"] = done[0] / span.seconds
        figures["CPU µs/login"] = _per(span.target_cpu, done[0])
        figures["generator µs/login"] = _per(span.generator_cpu, done[0])
        _busy_figures(figures, span)
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    return _finish(
        measurement,
        verifier,
        f"{options.logins:,} logins: each welcome, logged_in (nothing pending), synced",
    )


async def prelogin(target: Target, options: Options) -> Measurement:
    """``options.prelogin`` connections that said ``hello`` and nothing more: what a
    stranger's connection costs before it has logged in (the target's memory)."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    try:
        pause = min(1.0, max(0.05, options.prelogin / 2000))
        await asyncio.sleep(pause)
        before = target.rss_kib()
        counter = itertools.count()
        opened: list[BenchClient] = []

        async def worker() -> None:
            while (i := next(counter)) < options.prelogin:
                address = target.addresses[i % len(target.addresses)]
                opened.append(await BenchClient.open(verifier, None, address, options.strict))

        await asyncio.gather(*(worker() for _ in range(min(100, options.prelogin))))
        clients = opened
        await asyncio.sleep(pause)
        after = target.rss_kib()
        # still there: the handshake timeout (10 s by default) has not closed them yet
        if any(client.transport is None or client.transport.is_closing() for client in clients):
            verifier.fail("a connection closed before it was measured")
        figures = measurement.figures
        figures["connections"] = len(clients)
        figures["KiB/connection"] = (
            None if before is None or after is None else (after - before) / len(clients)
        )
        figures["RSS MiB"] = None if after is None else after / 1024
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
    return _finish(
        measurement, verifier, f"{options.prelogin:,} connections, each welcomed, none closed"
    )


async def flood(target: Target, options: Options) -> Measurement:
    """Another user's latency while one connection floods ``ping``s: ``options.flood``
    users in a ring send ``options.messages`` each, paced at ``options.flood_rate``
    messages/s in all, once quietly and once beside a logged-in connection writing pings
    as fast as the server takes them (the server keeps its default rate limit here)."""
    verifier = Verifier()
    measurement = Measurement(target.name)
    clients: list[BenchClient] = []
    flooder: BenchClient | None = None
    try:
        identities, clients = await _setup(verifier, target, options.flood, options, "user")
        _, [flooder] = await _setup(verifier, target, 1, options, "flooder")
        for client, peers in zip(clients, direct_conversations(identities, 1), strict=True):
            client.prepare(peers, options.text_bytes)
        total = len(clients) * options.messages
        rate = options.flood_rate
        quiet = await _pass(
            target, clients, verifier, options, total, lambda: None,
            lambda: _paced(clients, rate, total),
        )  # fmt: skip
        _pass_figures(measurement, quiet, " (quiet)")
        flooding = asyncio.ensure_future(flooder.flood())
        meter = Meter(target, [flooder])
        meter.start()
        pongs_before = flooder.pongs
        try:
            loud = await _pass(
                target, clients, verifier, options, total, lambda: None,
                lambda: _paced(clients, rate, total),
            )  # fmt: skip
        finally:
            flooding.cancel()
        span = meter.read()
        _pass_figures(measurement, loud, " (flood)")
        figures = measurement.figures
        figures["flood pings answered/s"] = (flooder.pongs - pongs_before) / span.seconds
        quiet_p99 = figures.get("latency p99 ms (quiet)")
        loud_p99 = figures.get("latency p99 ms (flood)")
        figures["p99 flood/quiet"] = (
            loud_p99 / quiet_p99 if quiet_p99 and loud_p99 is not None else None
        )
    except (Invalid, Refused, OSError) as exc:
        verifier.fail(str(exc))
    finally:
        close_all(clients)
        if flooder is not None:
            flooder.close()
    sent = verifier.sent_count
    return _finish(
        measurement,
        verifier,
        f"{sent:,} messages beside a ping flood: each `sent` once, delivered once, in order",
    )
