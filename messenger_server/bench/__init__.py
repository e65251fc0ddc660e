"""``messenger-bench``: measures the server under chat-shaped load, and checks it.

``cli`` is the command line, ``scenarios`` the workloads, ``client`` the simulated users,
``verify`` the checks, ``target`` the processes measured, ``relay`` the baseline server,
``report`` the output. See docs/benchmarks.md.
"""

from messenger_server.bench.cli import main

__all__ = ["main"]
