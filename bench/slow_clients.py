"""Does `python run.py` still answer while many clients hold slow connections open?

Starts run.py on a temporary data dir, measures /healthz with no other connection (the
baseline), then again while N connections each sent half a request and wait; prints both
and their ratio. Loopback only; every connection is closed at the end.

    python bench/slow_clients.py [--connections 500] [--calls 30]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def healthz_ms(port: int) -> float | None:
    """One /healthz on a new connection, in milliseconds; None when no answer came."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/healthz")
        if connection.getresponse().status != 200:
            return None
    except OSError:
        return None
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def measure(port: int, calls: int) -> tuple[float, float, int]:
    times = [healthz_ms(port) for _ in range(calls)]
    answered = [t for t in times if t is not None]
    if not answered:
        return float("inf"), float("inf"), calls
    return statistics.median(answered), max(answered), calls - len(answered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMBULANTE_")}
        env["AMBULANTE_DATA_DIR"] = data_dir
        server = subprocess.Popen(
            [sys.executable, "run.py", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        held: list[socket.socket] = []
        try:
            deadline = time.monotonic() + 30
            while healthz_ms(port) is None:
                if time.monotonic() > deadline:
                    sys.exit("run.py did not start")
                time.sleep(0.2)
            baseline = measure(port, args.calls)
            for _ in range(args.connections):
                connection = socket.create_connection((HOST, port), timeout=TIMEOUT_SECONDS)
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                held.append(connection)
            time.sleep(1)
            loaded = measure(port, args.calls)
        finally:
            for connection in held:
                connection.close()
            server.terminate()
            server.wait(timeout=10)
    print(f"/healthz over {args.calls} calls, median and worst ms (no answer within 5 s)")
    print(
        f"  no other connection:             {baseline[0]:7.2f} {baseline[1]:7.2f}  ({baseline[2]})"
    )
    print(
        f"  {args.connections} slow connections held: "
        f"{loaded[0]:7.2f} {loaded[1]:7.2f}  ({loaded[2]})"
    )
    print(f"  ratio of medians: {loaded[0] / baseline[0]:.2f}x; goal: worst under 1000 ms")


if __name__ == "__main__":
    main()
