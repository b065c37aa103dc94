"""The demo run as a newcomer runs it, for the demo tests and the Phoenix test: their shell's environment, and
one run of a demo command with a time limit."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

SUMMARY_PREFIX = "demo-summary: "
"""The line ``--summary`` makes the demo print, followed by its summary as JSON."""


def demo_env(**extra: str) -> dict[str, str]:
    """The environment a newcomer's shell would have, plus ``extra``: no ``OTEL_*`` or ``PHOENIX_*`` settings, no
    API key (the scripted model answers), no active virtualenv."""
    skipped = {"OPENAI_API_KEY", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_")) and k not in skipped}
    return env | extra


def run_demo(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run the demo; on timeout it gets SIGTERM first, so that it stops the processes it started."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"{command} did not finish within {timeout}s:\n{output}")
    return process.returncode, output
