"""A key-free back end for your own AG2 app: the demo's scripted model, and a receiver printing every trace.

    bash examples/demo.sh --serve       # or, in the demo's environment: python examples/local_backend.py

Serves an OpenAI-compatible model on http://127.0.0.1:8000/v1 (point your app at it with ``OPENAI_BASE_URL``)
and receives OTLP on 127.0.0.1:4317 (gRPC) and :4318 (HTTP), printing each trace as a tree until Ctrl-C.
The model calls the first tool it is offered until a tool has answered, then answers in words.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.support

import trace_receiver

from tests.support.scripted_model import ScriptedLLM
from tests.support.tool_calling_model import tool_then_answer


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the model, then run the trace receiver (its options pass through) until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0], add_help=False)
    parser.add_argument("--model-port", type=int, default=8000, help="the model's port (0 = any free one)")
    options, receiver_argv = parser.parse_known_args(argv)
    try:
        model = ScriptedLLM(default=tool_then_answer, port=options.model_port).start()
    except (RuntimeError, TimeoutError) as exc:
        print(
            f"cannot serve the model on 127.0.0.1:{options.model_port}: {exc} (choose another: --model-port)",
            file=sys.stderr,
        )
        return 1
    print(
        f"Scripted model on {model.base_url}: point your app at it with OPENAI_BASE_URL={model.base_url}",
        file=sys.stderr,
        flush=True,
    )  # stdout is the traces' (--json: one JSON line each)
    try:
        return trace_receiver.main(receiver_argv)
    finally:
        model.stop()


if __name__ == "__main__":
    sys.exit(main())
