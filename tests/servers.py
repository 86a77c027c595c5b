"""Starting the real app in a process of its own (`python run.py`, or gunicorn as the README's
production section does), for the tests that need a server: the browser tests, the races
between processes, what proxies and slow clients do."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from tests.factories import environment_for_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_SECONDS = 30
STOP_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


class Server:
    """A run.py (or gunicorn) process on a free port; `stop()` ends it, whatever its state."""

    def __init__(
        self,
        log_path: Path,
        threads: int = 8,
        gunicorn: bool = False,
        workers: int = 2,
        **settings: str,
    ) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        if gunicorn:
            command = ["-m", "gunicorn", "--workers", str(workers), "--bind", f"{HOST}:{self.port}"]
            command.append("run:create_app()")
            settings.setdefault("AMBULANTE_PUBLIC_URL", self.url)
        else:
            command = ["run.py", "--host", HOST, "--port", str(self.port)]
            command += ["--threads", str(threads)]
        self.command = [sys.executable, *command]
        self.settings = settings
        self._start("wb")

    def _start(self, log_mode: str) -> None:
        with open(self.log_path, log_mode) as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env=environment_for_server(**self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_healthy()

    def restart(self) -> None:
        """The same process again, on the same port (a browser's service worker and caches
        belong to that origin); call it after `stop()`."""
        self._start("ab")

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(f"{self.url}/healthz"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"run.py did not start:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)


@dataclasses.dataclass(frozen=True)
class SharedDatabase:
    """What several app processes are pointed at, and how a test reads it back."""

    data_dir: Path
    url: str
    env: dict[str, str]


def read_back(url: str, statement: Any) -> list[tuple[Any, ...]]:
    """Rows as the database holds them, read on a connection of the test's own."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]
    finally:
        engine.dispose()
