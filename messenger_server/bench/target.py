"""What the benchmark measures: a server (or the relay) as a child process, or one already
running; its CPU time and memory read from ``/proc``; the cores each side runs on.

On a machine with two cores or more the measured process gets the last core and the
load generator the first, so that neither steals the other's time and the server's CPU
per message is its own (``--no-pin`` leaves scheduling to the kernel).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from messenger_server.bench.client import Address

START_TIMEOUT: Final = 30.0

SERVER_ENVIRONMENT: Final = {
    # The defences against abuse are set out of the way: benchmark clients all come from
    # one address, send far more than a person, and leave more messages waiting.
    "MESSENGER_RATE_LIMIT": "10000000",
    "MESSENGER_RATE_BURST": "10000000",
    "MESSENGER_MAX_CONNECTIONS": "100000",
    "MESSENGER_MAX_CONNECTIONS_PER_IP": "100000",
    "MESSENGER_REGISTRATIONS_PER_IP_HOUR": "100000000",
    "MESSENGER_MAX_PENDING_PER_CLIENT": "100000000",
    "MESSENGER_MAX_PENDING_PER_SENDER": "100000000",
    "MESSENGER_REGISTRATION": "open",
}
"""Settings of the server started here (a server older than a setting ignores it)."""


@dataclass(frozen=True, slots=True)
class Cores:
    """Where the two sides run: ``None`` when not pinned."""

    generator: int | None
    target: int | None

    @classmethod
    def choose(cls, pin: bool) -> Cores:
        available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if not pin or len(available) < 2:
            return cls(None, None)
        return cls(available[0], available[-1])

    def pin_generator(self) -> None:
        if self.generator is not None:
            os.sched_setaffinity(0, {self.generator})

    @contextlib.contextmanager
    def target_affinity(self) -> Iterator[None]:
        """While inside, a process started from this thread inherits the target's core."""
        if self.target is None:
            yield
            return
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {self.target})
        try:
            yield
        finally:
            os.sched_setaffinity(0, before)

    def describe(self) -> str:
        if self.target is None:
            return "not pinned"
        return f"target on CPU {self.target}, load generator on CPU {self.generator}"


@dataclass
class Target:
    """A server under measurement: where to connect, and its process when it is ours
    (or given with ``--server-pid``) for CPU time and memory."""

    name: str
    addresses: list[Address]
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def cpu_seconds(self) -> float | None:
        return None if self.pid is None else cpu_seconds(self.pid)

    def rss_kib(self) -> int | None:
        return None if self.pid is None else rss_kib(self.pid)

    def check_alive(self) -> str | None:
        """Why the process is gone (with its log's end), or ``None`` while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        return f"{self.name} exited with {self.process.returncode}\n{self.log_tail()}"

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.workdir is not None:
            self.workdir.cleanup()
            self.workdir = None


CPUCLOCK_SCHED: Final = 2


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread, exited ones included) used so far by process
    ``pid``: read from its CPU-time clock (what ``clock_getcpuclockid(3)`` gives, to the
    nanosecond), else from ``/proc/PID/stat`` (the same time in 10 ms ticks). Linux."""
    with contextlib.suppress(OSError, OverflowError):
        return time.clock_gettime(((~pid) << 3) | CPUCLOCK_SCHED)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float | None:
    """CPU time the whole machine has been busy so far, every core (Linux ``/proc/stat``:
    user, nice, system, irq, softirq and steal), or ``None`` where there is no such file."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def parse_addresses(text: str) -> list[Address]:
    """``HOST:PORT[,HOST:PORT…]``."""
    addresses = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"not HOST:PORT: {item!r}")
        addresses.append((host, int(port)))
    return addresses


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start(
    name: str, command: Sequence[str], cores: Cores, environment: dict[str, str] | None = None
) -> Target:
    """Start ``command`` (which gets ``--port P`` appended) pinned to the target's core,
    and wait until it accepts connections. Its output goes to a log file."""
    workdir = tempfile.TemporaryDirectory(prefix=f"messenger-bench-{name}-")
    log_path = Path(workdir.name) / f"{name}.log"
    port = free_port()
    args = [arg.replace("{workdir}", workdir.name) for arg in command]
    with log_path.open("wb") as log, cores.target_affinity():
        process = subprocess.Popen(
            [*args, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})},
        )
    target = Target(name, [("127.0.0.1", port)], process.pid, process, log_path, workdir)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if (gone := target.check_alive()) is not None:
            target.stop()
            raise RuntimeError(f"{name} did not start: {gone}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return target
        if time.monotonic() > deadline:
            target.stop()
            raise RuntimeError(f"{name} did not listen on port {port} in {START_TIMEOUT} s")
        time.sleep(0.05)


SERVER_COMMAND: Final = "{python} -m messenger_server"


def start_server(
    cores: Cores, log_level: str, command: str = SERVER_COMMAND, *, keep_rate_limit: bool = False
) -> Target:
    """``messenger-server`` on a fresh data directory. ``command`` is how to start it
    (``{python}`` is this interpreter); the host, data directory, log level and port are
    appended. ``keep_rate_limit``: the server's default rate limit stays in force."""
    args = [arg.replace("{python}", sys.executable) for arg in shlex.split(command)]
    environment = dict(SERVER_ENVIRONMENT)
    if keep_rate_limit:
        del environment["MESSENGER_RATE_LIMIT"], environment["MESSENGER_RATE_BURST"]
    return start(
        "server",
        [*args, "--host", "127.0.0.1", "--data-dir", "{workdir}/data", "--log-level", log_level],
        cores,
        environment,
    )


def start_copy(cores: Cores) -> Target:
    """The plain socket copy of the file scenario (:mod:`.copy`)."""
    command = [sys.executable, "-m", "messenger_server.bench.copy", "--dir", "{workdir}/copy"]
    return start("copy", command, cores)


def start_relay(cores: Cores, fault: str | None = None) -> Target:
    """The storage-free relay (:mod:`.relay`)."""
    command = [sys.executable, "-m", "messenger_server.bench.relay", "--host", "127.0.0.1"]
    if fault is not None:
        command += ["--fault", fault]
    return start("relay", command, cores)


def _children_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its children alive now (PostgreSQL: a process per
    connection), plus what its exited children used (``cutime``/``cstime``)."""
    total = 0.0
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        total += cpu_seconds(pid)
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == pid:
                total += cpu_seconds(int(child.name))
    return total


@dataclass
class ClusterTarget(Target):
    """Several server nodes (children of their own) on a throwaway PostgreSQL and Redis,
    measured together: CPU time of the nodes, PostgreSQL (all its processes) and Redis;
    memory of the nodes."""

    nodes: list[Target] = field(default_factory=list)
    postgresql: Any = None
    redis: Any = None

    def cpu_seconds(self) -> float | None:
        total = sum(cpu_seconds(node.pid) for node in self.nodes if node.pid is not None)
        if self.postgresql is not None and (pid := self.postgresql.pid()) is not None:
            total += _children_cpu_seconds(pid)
        if self.redis is not None and (pid := self.redis.pid()) is not None:
            total += cpu_seconds(pid)
        return total

    def rss_kib(self) -> int | None:
        return sum(rss_kib(node.pid) for node in self.nodes if node.pid is not None)

    def check_alive(self) -> str | None:
        for node in self.nodes:
            if (gone := node.check_alive()) is not None:
                return gone
        return None

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgresql is not None:
            self.postgresql.stop()
        super().stop()


def start_cluster(
    cores: Cores, count: int, log_level: str, command: str = SERVER_COMMAND
) -> ClusterTarget:
    """``count`` nodes of ``messenger-server`` on a fresh PostgreSQL (``fsync`` on) and
    Redis, all on the target's core (so that one node and several compare on the same CPU).

    Raises:
        RuntimeError: something did not start (a missing engine says how to install it).
    """
    from messenger_server.bench import engines  # Linux, and only for --cluster

    workdir = tempfile.TemporaryDirectory(prefix=f"messenger-bench-cluster{count}-")
    cluster = ClusterTarget(f"{count} node{'s' * (count > 1)}", [], workdir=workdir)
    try:
        with cores.target_affinity():
            cluster.postgresql = engines.PostgreSQLServer(durable=True)
            cluster.postgresql.start()
            cluster.redis = engines.RedisServer(Path(workdir.name) / "redis")
            cluster.redis.start()
        dsn = cluster.postgresql.dsn()
        environment = {
            **SERVER_ENVIRONMENT,
            "MESSENGER_STORAGE": "postgresql",
            "MESSENGER_DATABASE_URL": dsn,
            "MESSENGER_BUS": "redis",
            "MESSENGER_BUS_URL": cluster.redis.url,
            "MESSENGER_BLOB_DIR": str(Path(workdir.name) / "blobs"),
        }
        args = [arg.replace("{python}", sys.executable) for arg in shlex.split(command)]
        migrated = subprocess.run(
            [*args, "migrate"],
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if migrated.returncode != 0:
            raise RuntimeError(f"messenger-server migrate failed: {migrated.stderr}")
        for index in range(count):
            node = start(
                f"node{index}",
                [*args, "--host", "127.0.0.1", "--data-dir", "{workdir}/data",
                 "--log-level", log_level],
                cores,
                environment,
            )  # fmt: skip
            cluster.nodes.append(node)
            cluster.addresses += node.addresses
    except (engines.MissingEngine, OSError, subprocess.SubprocessError) as exc:
        cluster.stop()
        raise RuntimeError(f"the cluster did not start: {exc}") from exc
    except BaseException:
        cluster.stop()
        raise
    return cluster
