"""The tracing configurations a benchmark process can run under, all exporting to a discarding exporter.

* ``baseline``: no tracing at all (no SDK provider, no instrumentor).
* ``baseline-again``: the same in a second process: the A/A control of paired timings (two identical
  processes should come out level; how far they do not is what separates processes).
* ``ours``: ``AG2Instrumentor().instrument(tracer_provider=...)``.
* ``ours-metrics``: ``ours`` plus an SDK ``MeterProvider`` with a periodic reader (60 s, as zero-code sets it
  up) exporting to a discarding exporter: what the metrics ours records cost on top of the spans.
* ``ag2``: AG2's own ``autogen.opentelemetry`` wired by hand on the same agents (``instrument_agent`` on
  each agent, ``instrument_llm_wrapper`` where a model is called, ``instrument_a2a_server`` on a server).
* ``openinference``: ``openinference.instrumentation.ag2.AG2Instrumentor().instrument(tracer_provider=...)``.
* ``floor``: the SDK alone (provider and processor, no instrumentor), to time one bare span.
* ``floor-in-turn``: the SDK alone, W1's reply function entering one bare span per turn: the same bare
  span timed inside the real workload.
* ``attributed-in-turn``: as ``floor-in-turn``, the span being the one ours makes for a W1 turn (same name,
  same four attributes): what the SDK itself charges for those attributes.
* ``sdk-only``: the SDK set up as for the others and nothing making spans (a2a-sdk's built-in tracing off, as
  ours turns it off): what having a ``TracerProvider`` and its batch processor in the process costs (W2, W3).
* ``idle-thread``: no tracing at all, one idle thread started: what a process having a second thread costs
  (the batch processor's export thread makes every instrumented process multi-threaded).
* ``minimal``: the cheapest instrumentation making the same W1 and W2 spans: plain wrappers around
  ``generate_reply``, ``initiate_chat`` and ``OpenAIWrapper.create`` that only enter
  ``tracer.start_as_current_span(name)``.

Every configuration but ``baseline`` uses a ``TracerProvider`` with a ``BatchSpanProcessor`` (default
settings, as in production) and an exporter that counts the spans and drops them; the provider is also
made the global one, for libraries that use that.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

A2A_SDK_TRACING_ENV = "OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"

CONFIGS = ("baseline", "ours", "ag2", "openinference")
"""The four configurations compared on every workload, the baseline first."""
UNINSTRUMENTED = ("baseline", "baseline-again")

LABELS = {
    "baseline": "uninstrumented",
    "baseline-again": "uninstrumented again (A/A)",
    "ours": "ours",
    "ours-content": "ours, SPAN_ONLY content",
    "ours-metrics": "ours, with a MeterProvider",
    "ag2": "AG2's own tracing",
    "openinference": "OpenInference",
    "floor": "bare SDK span",
    "floor-in-turn": "bare SDK span in the turn",
    "attributed-in-turn": "SDK span with our attributes in the turn",
    "minimal": "minimal wrapper",
    "sdk-only": "SDK alone, no spans",
    "idle-thread": "an idle thread, no SDK",
}


class Telemetry:
    """The tracing set-up of one process: what it instruments and how many spans reached the exporter."""

    def __init__(self, config: str, capture_message_content: str | None = None) -> None:
        self.config = config
        self.provider: Any = None
        self.exporter: Any = None
        self.drops: Any = None
        self.meter_provider: Any = None
        if config in UNINSTRUMENTED:
            return
        if config == "idle-thread":
            threading.Thread(target=threading.Event().wait, name="idle", daemon=True).start()
            return
        if config == "sdk-only":
            os.environ.setdefault(A2A_SDK_TRACING_ENV, "false")  # before a2a-sdk is imported, which reads it once
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from sink import DiscardingExporter, DropCounter

        self.exporter = DiscardingExporter()
        self.drops = DropCounter.install()
        self.provider = TracerProvider()
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        trace.set_tracer_provider(self.provider)
        if config == "ours-metrics":
            self.meter_provider = discarding_meter_provider()
        if config in ("ours", "ours-content", "ours-metrics"):
            from opentelemetry_instrumentation_ag2 import AG2Instrumentor

            AG2Instrumentor().instrument(
                tracer_provider=self.provider,
                meter_provider=self.meter_provider,
                capture_message_content=capture_message_content or "NO_CONTENT",
            )
        elif config == "openinference":
            from openinference.instrumentation.ag2 import AG2Instrumentor as OpenInferenceInstrumentor

            OpenInferenceInstrumentor().instrument(tracer_provider=self.provider)
        elif config == "minimal":
            minimal_wrappers(self.provider.get_tracer("benchmarks.minimal"))
        elif config not in ("ag2", "floor", "floor-in-turn", "attributed-in-turn", "sdk-only"):
            raise ValueError(f"unknown configuration {config!r}")

    def instrument_agents(self, agents: Sequence[Any], *, llm: bool = False) -> None:
        """AG2's own tracing, by hand, on these agents (and on its LLM client when ``llm``); no-op otherwise."""
        if self.config != "ag2":
            return
        from autogen.opentelemetry import instrument_agent, instrument_llm_wrapper

        if llm:
            instrument_llm_wrapper(tracer_provider=self.provider)
        for agent in agents:
            instrument_agent(agent, tracer_provider=self.provider)

    def instrument_server(self, server: Any) -> None:
        """AG2's own tracing of an ``A2aAgentServer`` (before ``build()``) and of its LLM client."""
        if self.config != "ag2":
            return
        from autogen.opentelemetry import instrument_a2a_server, instrument_llm_wrapper

        instrument_llm_wrapper(tracer_provider=self.provider)
        instrument_a2a_server(server, tracer_provider=self.provider)

    def tracer(self) -> Any:
        """A tracer of the benchmark's provider (for the bare-span floor)."""
        return self.provider.get_tracer("benchmarks.floor")

    def flush(self) -> None:
        """Export every ended span now."""
        if self.provider is not None:
            self.provider.force_flush()

    def spans(self) -> int:
        """Spans made so far: exported (after a flush) plus any the batch processor dropped, queue full."""
        self.flush()
        return self.exporter.count + self.drops.count if self.exporter is not None else 0

    def dropped(self) -> int:
        """Spans the batch processor dropped so far (queue full)."""
        return self.drops.count if self.drops is not None else 0

    def reset(self) -> None:
        """Flush and forget the spans so far (e.g. the warm-up's)."""
        self.flush()
        if self.exporter is not None:
            self.exporter.count = 0
            self.drops.count = 0

    def shutdown(self) -> None:
        """Flush and stop the batch processor's thread (and the metric reader's)."""
        if self.provider is not None:
            self.provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


def discarding_meter_provider() -> Any:
    """A global SDK ``MeterProvider`` whose periodic reader exports to a discarding exporter."""
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from sink import DiscardingMetricExporter

    provider = MeterProvider([PeriodicExportingMetricReader(DiscardingMetricExporter())])
    metrics.set_meter_provider(provider)
    return provider


def minimal_wrappers(tracer: Any) -> None:
    """The same spans as ours on W1 and W2 (one per turn, one per chat, one per LLM call), made as cheaply as
    the SDK allows."""
    from autogen import ConversableAgent, OpenAIWrapper

    def bare_span(owner: type, method: str, name: Callable[[Any], str]) -> None:
        original = getattr(owner, method)

        def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(name(self)):
                return original(self, *args, **kwargs)

        setattr(owner, method, traced)

    bare_span(ConversableAgent, "generate_reply", lambda agent: "invoke_agent " + agent.name)
    bare_span(ConversableAgent, "initiate_chat", lambda agent: "conversation " + agent.name)
    bare_span(OpenAIWrapper, "create", lambda _: "chat")


# ---------------------------------------------------------------------------------------------- groups

WORKLOADS = {
    "W1": "W1 local chat, reply functions, 10 rounds",
    "W1x100": "W1 local chat, reply functions, 100 rounds",
    "W2": "W2 chat through the scripted model",
    "W3": "W3 A2A round trip to a local server",
}
"""The timed workloads, in table order."""

FLOOR_CONFIGS = ("floor", "floor-in-turn", "attributed-in-turn", "minimal")
"""W1's extra configurations, for the floor."""
SDK_CONFIGS = ("sdk-only", "idle-thread")
SDK_GROUPS = ("W2", "W3")
"""Where the SDK's own cost (without any spans) is measured too."""
METRIC_CONFIGS = ("ours-metrics",)
METRIC_GROUPS = ("W1", "W2")
"""Where ours is also measured with a MeterProvider, as zero-code runs it (W3's few points a turn are lost in it)."""
MEMORY_CONFIGS = ("baseline", "ours", "ours-tracemalloc")
FLAT_CONFIGS = ("baseline", "ours", "ours-content", "ag2", "openinference")
