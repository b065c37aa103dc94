"""Real processes under ``opentelemetry-instrument`` exporting real OTLP to an in-test receiver (127.0.0.1 only).

The receiver is ``tests/support/otlp_receiver.py``'s, as in the classic suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from tests.support.otlp_receiver import ReceivedSpan, TraceReceiver

__all__ = ["ReceivedSpan", "RunningProcess", "TraceReceiver", "instrumented", "instrumented_env"]

ROOT = Path(__file__).resolve().parents[2]


def instrumented_env(service: str, grpc_endpoint: str) -> dict[str, str]:
    """This environment less its ``OTEL_*``, plus a service name and OTLP/gRPC traces to the receiver."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    environment.pop("OPENAI_API_KEY", None)
    return environment | {
        "OTEL_SERVICE_NAME": service,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "PYTHONUNBUFFERED": "1",
    }


def instrumented(module: str, *args: str) -> list[str]:
    """The command running ``python -m module`` under ``opentelemetry-instrument``."""
    launcher = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert launcher, "opentelemetry-instrument is installed with the test extra"
    return [launcher, sys.executable, "-m", module, *args]


class RunningProcess:
    """A process started from the repository root, its output read line by line as it comes.

    ``wait_for_line`` waits for a line (readiness); ``finish`` closes its stdin (the app's cue to end) and waits
    for it to exit on its own, so its spans are flushed; leaving the ``with`` block kills it if still running.
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

    def __enter__(self) -> RunningProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(10)
