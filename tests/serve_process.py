"""``ragline serve`` run as a user runs it: a subprocess on a free loopback port, waited for
until ``/health`` answers, stopped with SIGTERM (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(*args: str | os.PathLike[str], log: Path) -> Iterator[str]:
    """``ragline serve ARGS --port <free>`` while the block runs; yields its base URL.

    Its output goes to ``log``; a server that exits early or does not come up fails with it.
    """
    port = free_port()
    command = [sys.executable, "-m", "ragline.cli", "serve", *map(str, args), "--port", str(port)]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"ragline serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"ragline serve not up in {STARTUP_SECONDS} s:\n{log.read_text()}")
        time.sleep(0.2)
