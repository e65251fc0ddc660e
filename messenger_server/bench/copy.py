"""The baseline of the file scenario: a plain socket copy of the same bytes.

No protocol, no framing, no hash, no fsync: a client connects and sends a 9-byte header,
``U`` or ``D`` and a size (unsigned 64-bit, big-endian). ``U`` (upload): the process reads
that many bytes from the socket and writes them to a file, 1 MiB at a time, then answers
one byte. ``D`` (download): it reads that many bytes of the file and writes them to the
socket. One connection at a time, blocking sockets: the least any server must do to move a
file between the network and its disk.

``messenger-bench`` runs it as a child process on the core it runs the server on, and prints
the file scenario's throughput as a ratio to it.

    python -m messenger_server.bench.copy --port 7861 --dir /tmp/copy
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

HEADER: Final = struct.Struct(">cQ")
BLOCK: Final = 1024 * 1024


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        part = sock.recv(size - len(data))
        if not part:
            raise ConnectionError("closed before the header")
        data += part
    return bytes(data)


def serve(connection: socket.socket, path: Path) -> None:
    operation, size = HEADER.unpack(receive_exactly(connection, HEADER.size))
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    if operation == b"U":
        with path.open("wb") as file:
            left = size
            while left > 0:
                count = connection.recv_into(view[: min(BLOCK, left)])
                if not count:
                    raise ConnectionError("closed during the upload")
                file.write(view[:count])
                left -= count
        connection.sendall(b"K")
    elif operation == b"D":
        with path.open("rb") as file:
            left = size
            while left > 0:
                count = file.readinto(view[: min(BLOCK, left)])
                if not count:
                    raise OSError("the file is shorter than asked")
                connection.sendall(view[:count])
                left -= count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="where the copy goes")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    with socket.create_server((args.host, args.port)) as listener:
        while True:
            connection, _ = listener.accept()
            with connection:
                try:
                    serve(connection, args.dir / "copy.bin")
                except (ConnectionError, OSError) as exc:
                    print(f"copy: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
