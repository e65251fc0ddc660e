"""``messenger-bench``: the command line.

Each scenario asked for runs against a fresh ``messenger-server`` (a child process on a
temporary data directory, or ``--server`` for one already running) and then, in the same
invocation, against the storage-free relay (``--baseline relay``, the default), so that
every figure is printed next to the relay's, with the ratio. A run where anything failed
verification prints what failed and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from messenger_server.bench import conversation, scenarios
from messenger_server.bench.report import ScenarioResult, markdown, print_result
from messenger_server.bench.scenarios import Measurement, Options, combine
from messenger_server.bench.target import (
    SERVER_COMMAND,
    Cores,
    Target,
    parse_addresses,
    start_cluster,
    start_relay,
    start_server,
)

SCENARIOS = (
    "direct", "group", "backlog", "idle", "logins", "prelogin", "flood", "typing", "reactions",
)  # fmt: skip

FEATURES: dict[str, Callable[[Target, Options], Awaitable[Measurement]]] = {
    "typing": conversation.typing_notices,
    "reactions": conversation.reactions,
}
"""The scenarios of the conversation features (``bench/conversation.py``)."""

EPILOG = """\
scenarios (several may be given; none means --clients):
  --clients N    direct messages among N clients, each to its next --peers (a ring),
                 --messages each, --window unanswered at most; --latency adds a pass
                 paced at half the server's saturation rate (--rate R: at R msg/s)
  --group-size G one group of G members, each sending --messages to the group
  --backlog B    B messages for an offline client: login until all received and acked
  --idle N       N clients logged in and idle: the target's memory per connection
  --logins N     N logins (connect, hello, login, synced, close), --logins-parallel at once
  --prelogin N   N connections that only said hello: the target's memory per connection
  --flood N      N users sending paced (--flood-rate msg/s in all), quiet and while one
                 connection floods pings: their p99 latency, flood over quiet
  --typing N     N clients, each typing to --typing-peers others: server CPU per typing
                 notice, forwarded, then repeated within the throttle (dropped)
  --reactions N  N clients, each reacting to --messages messages of another: server CPU
                 per reaction
  --all          every scenario at the issue's sizes (the table in docs/benchmarks.md)

exit status: 0 when every run verified, 1 when any did not (what failed is printed), 2 for
usage errors.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="messenger-bench",
        description="Measure messenger-server under chat-shaped load, next to a storage-free"
        " relay of the same frames, and verify every message.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = Options()
    add = parser.add_argument
    add("--clients", type=int, help=f"direct scenario: clients (default {defaults.clients})")
    add("--messages", type=int, default=defaults.messages, help="messages per client")
    add("--window", type=int, default=defaults.window, help="unanswered sends per client")
    add("--peers", type=int, default=defaults.peers, help="correspondents per client")
    add("--rate", type=float, help="direct: add a pass paced at this many messages/s")
    add("--latency", action="store_true", help="direct: add a pass at half saturation")
    add("--group-size", type=int, help="group scenario: members")
    add("--backlog", type=int, help="backlog scenario: messages waiting")
    add("--backlog-senders", type=int, default=defaults.backlog_senders)
    add("--idle", type=int, help="idle scenario: connections")
    add("--logins", type=int, help="logins scenario: logins")
    add("--logins-parallel", type=int, default=defaults.logins_parallel)
    add("--prelogin", type=int, help="prelogin scenario: connections")
    add("--flood", type=int, help="flood scenario: users sending beside the flood")
    add("--flood-rate", type=float, default=defaults.flood_rate, help="flood: msg/s in all")
    add("--typing", type=int, help="typing scenario: clients")
    add("--typing-peers", type=int, default=defaults.typing_peers, help="typing: peers each")
    add(
        "--typing-repeats",
        type=int,
        default=defaults.typing_repeats,
        help="typing: repeated `on`s per peer in the throttled pass",
    )
    add("--reactions", type=int, help="reactions scenario: clients")
    add("--all", action="store_true", help="every scenario at the issue's sizes")
    add("--baseline", choices=("relay", "none"), default="relay")
    add(
        "--server",
        "--servers",
        dest="server",
        metavar="HOST:PORT[,HOST:PORT…]",
        help="measure running servers (clients spread round-robin) instead of starting one",
    )
    add("--server-pid", type=int, help="with --server: its process, for CPU and memory")
    add(
        "--cluster",
        metavar="N[,N…]",
        help="instead of one server on SQLite: N nodes on a throwaway PostgreSQL and Redis"
        " (e.g. 3,1: three nodes, then one, each figure as a ratio of the first)",
    )
    add("--server-log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    add(
        "--server-command",
        default=SERVER_COMMAND,
        help="how to start the server ({python}: this interpreter; host, data directory,"
        " log level and port are appended; default: %(default)s)",
    )
    add("--text-bytes", type=int, default=defaults.text_bytes, help="length of each text")
    add("--strict", action="store_true", help="also validate every frame (slower)")
    add("--no-pin", action="store_true", help="do not pin the target and generator to cores")
    add("--stall", type=float, default=defaults.stall, help="seconds without progress = lost")
    add("--timeout", type=float, default=defaults.timeout, help="seconds per scenario run")
    add("--repeat", type=int, default=1, help="runs of each scenario (medians printed)")
    add("--json", type=Path, help="also write the results to this file")
    add("--markdown", type=Path, help="also write the results as Markdown tables")
    return parser


def options_from(args: argparse.Namespace) -> tuple[Options, list[str]]:
    """The options, and the scenarios to run in order."""
    defaults = Options()
    chosen = {
        "direct": args.clients,
        "group": args.group_size,
        "backlog": args.backlog,
        "idle": args.idle,
        "logins": args.logins,
        "prelogin": args.prelogin,
        "flood": args.flood,
        "typing": args.typing,
        "reactions": args.reactions,
    }
    names = list(SCENARIOS) if args.all else [n for n, v in chosen.items() if v is not None]
    if not names:
        names = ["direct"]
    options = Options(
        clients=args.clients or defaults.clients,
        messages=args.messages,
        window=args.window,
        peers=args.peers,
        rate=args.rate,
        latency=args.latency or (args.all and args.rate is None),
        group_size=args.group_size or defaults.group_size,
        backlog=args.backlog or defaults.backlog,
        backlog_senders=args.backlog_senders,
        idle=args.idle or defaults.idle,
        logins=args.logins or defaults.logins,
        logins_parallel=args.logins_parallel,
        prelogin=args.prelogin or defaults.prelogin,
        flood=args.flood or defaults.flood,
        flood_rate=args.flood_rate,
        typing=args.typing or defaults.typing,
        typing_peers=args.typing_peers,
        typing_repeats=args.typing_repeats,
        reactions=args.reactions or defaults.reactions,
        text_bytes=args.text_bytes,
        strict=args.strict,
        stall=args.stall,
        timeout=args.timeout,
    )
    return options, names


def parse_cluster(text: str) -> list[int]:
    """``N[,N…]``: node counts, each at least 1."""
    counts = []
    for item in text.split(","):
        if not item.strip().isdigit() or int(item) < 1:
            raise ValueError(f"not a number of nodes: {item!r}")
        counts.append(int(item))
    return counts


def describe(name: str, options: Options) -> str:
    o = options
    if name == "direct":
        paced = ""
        if o.rate is not None:
            paced = f"; then paced at {o.rate:,.0f} msg/s"
        elif o.latency:
            paced = "; then paced at half the server's saturation rate"
        return (
            f"{o.clients:,} clients x {o.messages:,} direct messages, window {o.window},"
            f" {o.peers} peer(s) each, {o.text_bytes}-byte texts{paced}"
        )
    if name == "group":
        return (
            f"a group of {o.group_size}, each member sending {o.messages:,} messages,"
            f" window {o.window}"
        )
    if name == "backlog":
        return f"{o.backlog:,} messages from {o.backlog_senders} sender(s) for an offline client"
    if name == "idle":
        return f"{o.idle:,} clients logged in and idle"
    if name == "prelogin":
        return f"{o.prelogin:,} connections that said hello and nothing more"
    if name == "typing":
        return (
            f"{o.typing:,} clients x {o.typing_peers} direct conversations: typing on and off"
            f" to each (forwarded), then {o.typing_repeats} more `on`s each (throttled)"
        )
    if name == "reactions":
        return (
            f"{o.reactions:,} clients, each reacting to {o.messages:,} messages of another,"
            f" window {o.window}"
        )
    if name == "flood":
        return (
            f"{o.flood} users x {o.messages:,} direct messages paced at {o.flood_rate:,.0f}"
            " msg/s, quiet, then beside one connection flooding pings (default rate limit)"
        )
    return f"{o.logins:,} logins, {o.logins_parallel} in parallel, a new connection each"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import uvloop

        loop = f"uvloop {uvloop.__version__}"  # type: ignore[attr-defined]
    except ImportError:
        loop = "asyncio's loop"
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}, {loop}"
    )


class Bench:
    """Runs the scenarios against their targets on one event loop."""

    def __init__(self, args: argparse.Namespace, options: Options, cores: Cores) -> None:
        self.args = args
        self.options = options
        self.cores = cores
        self.external = parse_addresses(args.server) if args.server else None
        self.clusters = parse_cluster(args.cluster) if args.cluster else []

    def targets(self) -> list[str]:
        measured = [f"cluster:{n}" for n in self.clusters] or ["server"]
        return measured if self.args.baseline == "none" else [*measured, "relay"]

    def launch(self, kind: str, name: str) -> AbstractContextManager[Target]:
        if kind == "relay":
            return _stopping(start_relay(self.cores))
        if kind.startswith("cluster:"):
            return _stopping(
                start_cluster(
                    self.cores,
                    int(kind.partition(":")[2]),
                    self.args.server_log_level,
                    self.args.server_command,
                )
            )
        if self.external is not None:
            return nullcontext(Target("server", self.external, self.args.server_pid))
        return _stopping(
            start_server(
                self.cores,
                self.args.server_log_level,
                self.args.server_command,
                keep_rate_limit=name == "flood",
            )
        )

    def run(self, runner: asyncio.Runner, name: str) -> ScenarioResult:
        """``--repeat`` times: the scenario against each target in turn (so that a noisy
        neighbour disturbs both alike); each figure is the median of the runs."""
        result = ScenarioResult(name, describe(name, self.options))
        runs: dict[str, list[Measurement]] = {kind: [] for kind in self.targets()}
        for repetition in range(self.args.repeat):
            paced_rate = self.options.rate
            for kind in self.targets():
                counter = f" ({repetition + 1}/{self.args.repeat})" if self.args.repeat > 1 else ""
                print(f"-- {name}: {kind}{counter}…", file=sys.stderr, flush=True)
                try:
                    with self.launch(kind, name) as target:
                        measurement = runner.run(self._measure(name, target, paced_rate))
                except RuntimeError as exc:  # the process did not start
                    measurement = Measurement(kind, failures=[str(exc)])
                runs[kind].append(measurement)
                if name == "direct" and paced_rate is None:
                    # the others are paced at the first's rate: latency compared at equal load
                    paced_rate = measurement.figures.get("paced rate msg/s")
        result.measurements = [combine(measurements) for measurements in runs.values()]
        return result

    async def _measure(self, name: str, target: Target, paced_rate: float | None) -> Measurement:
        options = self.options
        work: Callable[[], Awaitable[Measurement]]
        if name == "direct":
            work = lambda: scenarios.direct(target, options, paced_rate)  # noqa: E731
        else:
            function = FEATURES.get(name) or getattr(scenarios, name)
            work = lambda: function(target, options)  # noqa: E731
        try:
            async with asyncio.timeout(options.timeout):
                return await work()
        except TimeoutError:
            return Measurement(target.name, failures=[f"timed out after {options.timeout} s"])


class _stopping(AbstractContextManager[Target]):
    def __init__(self, target: Target) -> None:
        self.target = target

    def __enter__(self) -> Target:
        return self.target

    def __exit__(self, *exc: object) -> None:
        self.target.stop()


def _allow_many_connections() -> None:
    """Raise the open-file limit to its maximum (the server started here inherits it)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options, names = options_from(args)
    if args.server_pid is not None and not args.server:
        parser.error("--server-pid goes with --server")
    try:
        parse_addresses(args.server) if args.server else None
        parse_cluster(args.cluster) if args.cluster else None
    except ValueError as exc:
        parser.error(str(exc))
    if args.cluster and args.server:
        parser.error("--cluster starts its nodes: it does not go with --server")
    _allow_many_connections()
    cores = Cores.choose(not args.no_pin)
    cores.pin_generator()
    command = shlex.join(["messenger-bench", *(sys.argv[1:] if argv is None else argv)])
    when = datetime.datetime.now().astimezone()
    print(f"messenger-bench {when:%Y-%m-%d %H:%M %Z}: {machine()}")
    print(f"{command}   ({cores.describe()})")
    bench = Bench(args, options, cores)
    results: list[ScenarioResult] = []
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        for name in names:
            result = bench.run(runner, name)
            results.append(result)
            print_result(result, sys.stdout)
            sys.stdout.flush()
    valid = all(r.valid for r in results)
    if args.json is not None:
        document: dict[str, Any] = {
            "date": when.isoformat(timespec="seconds"),
            "machine": machine(),
            "command": command,
            "pinning": cores.describe(),
            "valid": valid,
            "scenarios": [r.as_json() for r in results],
        }
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    if args.markdown is not None:
        with args.markdown.open("w") as out:
            print(f"{when:%Y-%m-%d}, {machine()}, {cores.describe()}:", file=out)
            print(f"`{command}`", file=out)
            markdown(results, out)
    if not valid:
        print("\nINVALID: verification failed (see above); no figure of that run counts.")
        return 1
    return 0
