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
  ``tracer.start_as_current_span(name)``. On AG2 1.x (``import ag2``): the same spans as ours, with as many
  attributes, made as cheaply as the SDK allows (:func:`minimal_v1_wrappers`), a2a-sdk's built-in tracing off
  as ours turns it off: the floor of ours' spans.

Every configuration but ``baseline`` uses a ``TracerProvider`` with a ``BatchSpanProcessor`` (default
settings, as in production) and an exporter that counts the spans and drops them; the provider is also
made the global one, for libraries that use that.
"""

from __future__ import annotations

import functools
import importlib.util
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
        if config in ("sdk-only", "minimal"):  # as ours turns it off: no a2a-sdk spans, only the ones compared
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
            tracer = self.provider.get_tracer("benchmarks.minimal")
            minimal_v1_wrappers(tracer) if importlib.util.find_spec("ag2") else minimal_wrappers(tracer)
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

    def served_app(self, app: Any, span_name: str) -> Any:
        """A served ASGI app as this configuration serves it: under ``minimal`` (1.x), in a bare SERVER span."""
        if self.config != "minimal":
            return app
        return minimal_server_span(app, self.provider.get_tracer("benchmarks.minimal"), span_name)

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


MINIMAL_V1_ATTRIBUTES = {
    "ag2.span.type": "agent",
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": "agent",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.conversation.id": "conversation",
}
"""As many attributes as ours puts on a 1.x turn's and an LLM call's span, constant (nothing read per call)."""
MINIMAL_V1_RESPONSE = {
    "gen_ai.response.model": "gpt-4o-mini",
    "gen_ai.response.id": "response",
    "gen_ai.usage.input_tokens": 1,
    "gen_ai.usage.output_tokens": 1,
    "gen_ai.response.finish_reasons": ("stop",),
}
"""As many attributes as ours reads off a model's response where it reports usage (V1-W2 and later)."""
MINIMAL_SERVER_ATTRIBUTES = {
    "http.request.method": "POST",
    "url.scheme": "http",
    "url.path": "/",
    "http.route": "/",
    "server.address": "127.0.0.1",
    "server.port": 8000,
    "network.protocol.version": "1.1",
    "http.response.status_code": 200,
}
"""As many attributes as ours puts on a served request's span."""


def minimal_v1_wrappers(tracer: Any) -> None:
    """On AG2 1.x, ours' turn and LLM-call spans made bare: one middleware appended to every turn (as ours and AG2's
    own are) entering ``invoke_agent`` around the turn and ``chat`` around each model call but a remote agent's."""
    from ag2.agent import Agent
    from ag2.middleware import BaseMiddleware
    from opentelemetry.trace import SpanKind

    class BareSpans(BaseMiddleware):
        def __init__(self, event: Any, context: Any, remote: bool) -> None:
            super().__init__(event, context)
            self.remote = remote

        async def on_turn(self, call_next: Callable, event: Any, context: Any) -> Any:
            with tracer.start_as_current_span("invoke_agent agent", attributes=MINIMAL_V1_ATTRIBUTES):
                return await call_next(event, context)

        async def on_llm_call(self, call_next: Callable, events: Any, context: Any) -> Any:
            if self.remote:  # ours makes no chat span of a remote agent's call: its turn's span is that call
                return await call_next(events, context)
            kind = SpanKind.CLIENT
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=kind, attributes=MINIMAL_V1_ATTRIBUTES) as span:
                response = await call_next(events, context)
                if response.usage:
                    span.set_attributes(MINIMAL_V1_RESPONSE)
                return response

    original = Agent._turn_scope

    def turn_scope(self: Any, *args: Any, **kwargs: Any) -> Any:
        bare = functools.partial(BareSpans, remote=type(self.config).__name__ == "A2AConfig")
        kwargs["additional_middleware"] = (*kwargs.get("additional_middleware", ()), bare)
        return original(self, *args, **kwargs)

    Agent._turn_scope = turn_scope


def minimal_server_span(app: Any, tracer: Any, span_name: str) -> Any:
    """An ASGI app whose every HTTP request is one bare SERVER span continuing the caller's W3C context."""
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    def header(carrier: Any, key: str) -> Any:
        encoded = key.encode()
        return [value.decode() for name, value in carrier if name == encoded] or None

    getter = type("HeaderGetter", (), {"get": staticmethod(header), "keys": staticmethod(lambda carrier: [])})()

    async def served(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        parent = extract(scope["headers"], getter=getter)
        with tracer.start_as_current_span(span_name, parent, SpanKind.SERVER, attributes=MINIMAL_SERVER_ATTRIBUTES):
            return await app(scope, receive, send)

    return served


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
