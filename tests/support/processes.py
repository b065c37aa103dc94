"""Real processes for the cross-process tests of both lines: commands under ``opentelemetry-instrument``, their
environment (real OTLP to an in-test receiver, 127.0.0.1 only), and running them — a server until the test is done
with it, a client to its end, or a process read line by line as it talks."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from tests.support.instrumented_env import instrumented_env
from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SERVER_SERVICE = "tech-agent-service"
CLIENT_SERVICE = "client-service"


def otlp_env(service: str, endpoint: str, protocol: str = "grpc", *, httpx_spans: bool = False) -> dict[str, str]:
    """The environment of a test's process under ``opentelemetry-instrument`` (``instrumented_env``'s: this one
    less its ``OTEL_*``, traces as ``service`` to ``endpoint``), never with a real API key."""
    environment = instrumented_env(service, endpoint, protocol, httpx_spans=httpx_spans)
    environment.pop("OPENAI_API_KEY", None)
    return environment


def instrumented(*python_args: str) -> list[str]:
    """The command running ``python *python_args`` under ``opentelemetry-instrument``."""
    launcher = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert launcher, "opentelemetry-instrument is installed with the test extra"
    return [launcher, sys.executable, *python_args]


def instrumented_module(module: str, *args: str) -> list[str]:
    """The command running ``python -m module *args`` under ``opentelemetry-instrument``."""
    return instrumented("-m", module, *args)


def instrumented_example(script: str, *args: str) -> list[str]:
    """The command running ``examples/script *args`` under ``opentelemetry-instrument``."""
    return instrumented(str(EXAMPLES / script), *args)


def terminate(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM, so that the process shuts down (flushing its spans); SIGKILL if it is still there after ``grace``
    seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class RunningProcess:
    """A process started from the repository root, its output read line by line as it comes.

    ``wait_for_line`` waits for a line (readiness); ``finish`` closes its stdin (the app's cue to end) and waits
    for it to exit on its own, so its spans are flushed; ``stop`` terminates it; leaving the ``with`` block kills it
    if still running.
    """

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, prefix: str, timeout: float = 60) -> str:
        """The rest of the first output line starting with ``prefix``; fails if the process ends first."""

        def found() -> str | None:
            return next((line[len(prefix) :].strip() for line in self.lines if line.startswith(prefix)), None)

        with self._changed:
            ended = self._changed.wait_for(lambda: found() is not None or not self._reader.is_alive(), timeout=timeout)
            line = found()
        assert ended and line is not None, f"no {prefix!r} line:\n{self.output}"
        return line

    def finish(self, timeout: float = 60) -> str:
        """Close stdin, wait for a clean exit and return the output."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        code = self.process.wait(timeout)
        self._reader.join(10)
        assert code == 0, f"exit code {code}:\n{self.output}"
        return self.output

    def stop(self) -> None:
        """Terminate the process (a server shuts down and flushes its spans), killing it if it will not go."""
        terminate(self.process)

    def __enter__(self) -> RunningProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(10)


class Started(NamedTuple):
    """A server process that said it is ready, and the URL it gave."""

    url: str
    process: subprocess.Popen


@contextmanager
def background(command: list[str], env: dict[str, str], ready_prefix: str = "READY ") -> Iterator[Started]:
    """Start a server process, wait for its ``READY <url>`` line, yield it, and stop it at the end."""
    with RunningProcess(command, env) as running:
        url = running.wait_for_line(ready_prefix)
        try:
            yield Started(url, running.process)
        finally:
            running.stop()


def run_to_end(command: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run a client process to completion; its output, or an assertion error with it."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Exchange(NamedTuple):
    """What a client process said after asking a server process, and the spans the receiver got of it."""

    url: str
    reply: str
    spans: list[ReceivedSpan]


def server_and_client(
    receiver: TraceReceiver,
    server: list[str],
    client: Callable[[str], list[str]],
    complete: Callable[[list[ReceivedSpan]], bool],
    protocol: str = "grpc",
    server_env: dict[str, str] | None = None,
) -> Exchange:
    """The ``server`` command run as ``tech-agent-service``, the ``client(url)`` command run to its end against the
    URL the server printed, as ``client-service``, both exporting to ``receiver``; the spans once ``complete``."""
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    with background(server, otlp_env(SERVER_SERVICE, endpoint, protocol) | (server_env or {})) as started:
        reply = run_to_end(client(started.url), otlp_env(CLIENT_SERVICE, endpoint, protocol))
        return Exchange(started.url, reply, receiver.wait_for(complete, timeout=60))
