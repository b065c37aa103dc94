"""a2a-sdk's own tracing, which both AG2 lines' A2A support runs on: off unless the user chose."""

from __future__ import annotations

import os
import sys

A2A_SDK_TRACING_ENV = "OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"


def quiet_a2a_sdk_tracing() -> None:
    """Turn off a2a-sdk's built-in per-method spans (dozens per request, doubling ours) unless the user chose.

    a2a-sdk reads the variable once, when it is first imported: call this before anything imports it. Set the
    variable to ``true`` to keep those spans.
    """
    if "a2a" not in sys.modules:
        os.environ.setdefault(A2A_SDK_TRACING_ENV, "false")
