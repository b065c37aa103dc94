"""Real processes under ``opentelemetry-instrument`` exporting real OTLP, for cross-process tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.support.instrumented_env import instrumented_env as example_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def instrumented_env(service: str, endpoint: str, protocol: str) -> dict[str, str]:
    """The examples' environment under ``opentelemetry-instrument``, never with a real API key."""
    environment = example_env(service, endpoint, protocol)
    environment.pop("OPENAI_API_KEY", None)
    return environment


def instrumented(script: str, *args: str) -> list[str]:
    """The command running an example under ``opentelemetry-instrument``."""
    launcher = (
        shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent)) or "opentelemetry-instrument"
    )
    return [launcher, sys.executable, str(EXAMPLES / script), *args]


class Started(NamedTuple):
    """A server process that said it is ready, and the URL it gave."""

    url: str
    process: subprocess.Popen


@contextmanager
def background(command: list[str], env: dict[str, str], ready_prefix: str = "READY ") -> Iterator[Started]:
    """Start a server process, wait for its ``READY <url>`` line, yield it, and stop it at the end."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith(ready_prefix) and not ready.is_set():
                url.append(line[len(ready_prefix) :].strip())
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(60) or not url:
            raise RuntimeError(f"{command} did not become ready:\n{''.join(output)}")
        yield Started(url[0], process)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        reader.join(5)


def run_to_end(command: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run a client process to completion; its output, or an assertion error with it."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
