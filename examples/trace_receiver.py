"""A small OTLP trace receiver that prints every trace it receives as a tree.

Leave it running and point your instrumented apps at it::

    python examples/trace_receiver.py                       # OTLP/gRPC on 4317, OTLP/HTTP on 4318
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 opentelemetry-instrument python app.py

It listens on 127.0.0.1 for OTLP/gRPC and OTLP/HTTP (protobuf), groups spans by trace id and prints a trace
once no new span of it has arrived for ``--quiet-ms``. ``--forward URL`` also sends every trace export on to
another OTLP endpoint (Jaeger, Tempo, Phoenix, a collector...). Metrics and logs are accepted and dropped.
The receiver itself is ``tests/support/otlp_receiver.py``, which the tests use too.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.support

from tests.support.otlp_receiver import (
    KEY_ATTRIBUTES,
    Forwarder,
    ReceivedSpan,
    ReceiverStartError,
    TraceReceiver,
    make_console,
    spans_as_json,
    trace_tree,
)

# -- command line -----------------------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Receive OTLP traces on 127.0.0.1 and print each one as a tree.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--grpc-port", type=int, default=4317, help="OTLP/gRPC port (0 = any free one)")
    parser.add_argument("--http-port", type=int, default=4318, help="OTLP/HTTP port (0 = any free one)")
    parser.add_argument(
        "--quiet-ms",
        type=float,
        default=1000,
        help="print a trace once it had no new span for this long",
    )
    parser.add_argument(
        "--incomplete-ms",
        type=float,
        default=10_000,
        help="... or for this long when some span's parent has not arrived",
    )
    parser.add_argument("--forward", metavar="URL", help="also send every trace to this OTLP endpoint")
    parser.add_argument(
        "--forward-protocol", choices=("grpc", "http/protobuf"), default="grpc", help="OTLP protocol of --forward"
    )
    parser.add_argument("--attribute", action="append", default=[], help="also show this attribute (repeatable)")
    parser.add_argument("--json", action="store_true", help="print each trace as one JSON line instead of a tree")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the receiver until interrupted, printing every trace once it is quiet."""
    options = _parse_args(argv)
    console = make_console()
    banner = make_console(stderr=True) if options.json else console  # keep stdout pure JSON lines
    attributes = (*KEY_ATTRIBUTES, *options.attribute)
    shown: set[str] = set()

    def show(trace_id: str, spans: list[ReceivedSpan]) -> None:  # called from one thread only
        if options.json:
            print(json.dumps({"trace_id": trace_id, "spans": spans_as_json(spans)}), flush=True)
            return
        again = "  (again: more spans arrived)" if trace_id in shown else ""
        shown.add(trace_id)
        console.print(trace_tree(spans, attributes=attributes, title_suffix=again))
        console.print()

    try:
        forwarder = Forwarder(options.forward, options.forward_protocol) if options.forward else None
    except ValueError as exc:
        banner.print(f"[red]{exc}[/]")
        return 2
    receiver = TraceReceiver(
        grpc_port=options.grpc_port,
        http_port=options.http_port,
        on_trace=show,
        quiet_ms=options.quiet_ms,
        incomplete_ms=options.incomplete_ms,
        forwarder=forwarder,
    )
    try:
        receiver.start()
    except ReceiverStartError as exc:
        banner.print(f"[red]{exc}[/]\nStop it, or choose other ports: --grpc-port / --http-port", highlight=False)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    banner.print(
        f"Receiving OTLP on {receiver.grpc_endpoint} (gRPC) and {receiver.http_endpoint} (HTTP/protobuf)"
        + (f", forwarding to {options.forward}" if options.forward else "")
        + f".\nPoint your apps at it: OTEL_EXPORTER_OTLP_ENDPOINT={receiver.grpc_endpoint}   (Ctrl-C to stop)",
        highlight=False,
    )
    sys.stdout.flush()
    stop.wait()
    receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
