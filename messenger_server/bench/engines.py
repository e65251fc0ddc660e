"""Throwaway PostgreSQL and Redis servers in temporary folders: for the tests and for
``messenger-bench --cluster`` (several server nodes need both).

A missing binary raises :class:`MissingEngine`, naming the Debian package that installs it
(``packaging/build_deps.py`` installs them for CI).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

INSTALL_HINT = "sudo apt-get install -y redis-server postgresql"
PACKAGES = {"redis-server": "redis-server", "initdb": "postgresql", "pg_ctl": "postgresql"}
"""The Debian package of each binary (packaging/build_deps.py installs them for CI)."""
DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")
"""Where Debian installs PostgreSQL's server programs (one folder per major version), off
the PATH."""


def find(binary: str) -> str | None:
    """``binary`` on the PATH, or in the newest of Debian's PostgreSQL folders."""
    path = shutil.which(binary)
    if path is not None or not DEBIAN_POSTGRESQL.is_dir():
        return path
    versions = sorted(
        (p for p in DEBIAN_POSTGRESQL.glob(f"*/bin/{binary}") if p.parts[-3].isdigit()),
        key=lambda p: int(p.parts[-3]),
    )
    return str(versions[-1]) if versions else None


class MissingEngine(Exception):
    """A binary of PostgreSQL or Redis is not installed; the message says how to get it."""


def need(binary: str) -> str:
    """The path of ``binary``.

    Raises:
        MissingEngine: it is not installed (the message names the command that installs it).
    """
    path = find(binary)
    if path is None:
        package = PACKAGES.get(binary, binary)
        raise MissingEngine(
            f"{binary} is not installed (it needs: sudo apt-get install -y {package})"
        )
    return path


class RedisServer:
    """``redis-server`` on a Unix socket in ``folder`` (no TCP port to pick or collide),
    without persistence."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        binary = need("redis-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                binary,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.folder),
                "--save", "",
                "--appendonly", "no",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self._accepting():  # the socket file comes a moment before listen()
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.01)

    def _accepting(self) -> bool:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
            return True

    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None
        self.socket.unlink(missing_ok=True)


class PostgreSQLServer:
    """A PostgreSQL cluster of its own (``initdb``), listening on a Unix socket only in a
    fresh temporary folder (for the tests: one per session, and a schema per test, see
    :meth:`create_schema`).

    Unless ``durable``, it trades durability for speed (``fsync = off``): a test never
    survives a crash of the machine, and the repository's own settings
    (``synchronous_commit``) stay as in production. PostgreSQL refuses to run as root: as
    root (CI), the cluster belongs to the ``postgres`` user that Debian's package creates
    (``nobody`` without it).
    """

    USER = "postgres"
    """The cluster's superuser (trusted on the socket: only this machine's users reach it)."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        """``fsync`` on, as in production (for measurements); off for the tests."""
        self.initdb = need("initdb")
        self.pg_ctl = str(Path(self.initdb).with_name("pg_ctl"))
        if not Path(self.pg_ctl).exists():
            self.pg_ctl = need("pg_ctl")
        self.folder = Path(tempfile.mkdtemp(prefix="messenger-pg-"))
        self.data = self.folder / "data"
        self.port = 5432  # names the socket file only: the folder is ours
        self._owner: pwd.struct_passwd | None = None
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                self._owner = pwd.getpwnam("nobody")
            os.chown(self.folder, self._owner.pw_uid, self._owner.pw_gid)

    def _run(self, *args: str) -> None:
        extra: dict[str, Any] = {}
        if self._owner is not None:
            extra = {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}
        result = subprocess.run(
            args,
            capture_output=True,
            text=True,
            cwd=self.folder,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
            timeout=120,
            **extra,
        )
        if result.returncode != 0:
            log = self.folder / "postgresql.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({result.returncode}):"
                f" {result.stdout}{result.stderr}{tail}"
            )

    def start(self) -> None:
        self._run(
            self.initdb, "-D", str(self.data), "-U", self.USER, "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-k {self.folder} -p {self.port} -c listen_addresses=''"
            " -c max_connections=200"
        )
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.folder / "postgresql.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def restart(self, *, immediate: bool = False) -> None:
        """Restart the server with the options it was started with; ``immediate``: without
        a shutdown checkpoint, as after a crash (what was committed comes back from the
        write-ahead log; make the server ``durable`` for that to hold)."""
        self._run(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.folder / "postgresql.log"),
            "-m", "immediate" if immediate else "fast", "-w", "-t", "60", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def pid(self) -> int | None:
        """The postmaster's process id, while it runs."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def dsn(self, schema: str | None = None) -> str:
        """The DSN of the cluster's database; with ``schema``, of that schema alone (its
        tables are found first: the repository names no schema)."""
        dsn = f"postgresql://{self.USER}@/postgres?host={self.folder}&port={self.port}"
        return dsn if schema is None else f"{dsn}&search_path={schema}"

    async def create_schema(self) -> str:
        """A new, empty schema — as good as a database of its own for one test, and ten
        times quicker to make; returns its DSN."""
        import asyncpg

        name = f"test_{next(self._names)}"
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f"CREATE SCHEMA {name}")
        finally:
            await conn.close()
        return self.dsn(name)

    async def drop_schema(self, dsn: str) -> None:
        import asyncpg

        match = re.search(r"search_path=(\w+)$", dsn)
        assert match is not None
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {match.group(1)} CASCADE")
        finally:
            await conn.close()
