"""Metrics and content events: the signals beside the spans, through the providers given to ``instrument()``.

Metric names, units and bucket boundaries are those of the GenAI conventions as opentelemetry-util-genai
defines them: ``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage`` for LLM calls and
remote agent calls, ``gen_ai.invoke_agent.duration`` for local agent turns, ``gen_ai.execute_tool.duration``
for tools. (They are declared here because util-genai's own instrument factory changed name and place
between the releases that openai-v2 and this package can share.)
"""

from __future__ import annotations

import enum
from typing import Any

from opentelemetry._logs import Logger, LogRecord
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram, Meter
from opentelemetry.util.types import AttributeValue

from opentelemetry_instrumentation_ag2 import attributes as attr

DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
AGENT_DURATION_BUCKETS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6)
TOKEN_BUCKETS = tuple(4**power for power in range(14))  # 1, 4, 16, ... 67108864


class Measure(str, enum.Enum):
    """Which duration histogram an operation records into (a ``str`` enum: hashed as fast as a string)."""

    CLIENT_OPERATION = "client_operation"
    AGENT = "agent"
    TOOL = "tool"


_COMMON = (attr.GEN_AI_OPERATION_NAME, attr.GEN_AI_PROVIDER_NAME, attr.ERROR_TYPE)
METRIC_ATTRIBUTES: dict[Measure, frozenset[str]] = {
    Measure.CLIENT_OPERATION: frozenset(
        (
            *_COMMON,
            attr.GEN_AI_REQUEST_MODEL,
            attr.GEN_AI_RESPONSE_MODEL,
            attr.SERVER_ADDRESS,
            attr.SERVER_PORT,
            attr.GEN_AI_AGENT_NAME,
        )
    ),
    Measure.AGENT: frozenset((*_COMMON, attr.GEN_AI_AGENT_NAME, attr.GEN_AI_REQUEST_MODEL)),
    Measure.TOOL: frozenset((*_COMMON, attr.GEN_AI_TOOL_NAME, attr.GEN_AI_TOOL_TYPE)),
}
"""The span attributes each duration histogram's points carry (those of them the span has)."""


def _util_genai_instruments(meter: Meter) -> tuple[Histogram | None, Histogram | None]:
    """opentelemetry-util-genai's client duration and token histograms, where the installed release offers them
    publicly (``None`` each where it does not: ours below are the same instruments)."""
    try:
        from opentelemetry.util.genai.instruments import create_duration_histogram, create_token_histogram
    except ImportError:
        return None, None
    return create_duration_histogram(meter), create_token_histogram(meter)


class Signals:
    """The metric instruments and the event logger of one ``instrument()`` call."""

    def __init__(self, meter: Meter, logger: Logger) -> None:
        def histogram(name: str, unit: str, description: str, buckets: tuple[float, ...]) -> Histogram:
            return meter.create_histogram(
                name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
            )

        client_duration, token_usage = _util_genai_instruments(meter)
        self._durations = {
            Measure.CLIENT_OPERATION: client_duration
            or histogram(
                "gen_ai.client.operation.duration", "s", "Duration of GenAI client operation", DURATION_BUCKETS
            ),
            Measure.AGENT: histogram(
                "gen_ai.invoke_agent.duration",
                "s",
                "Measures the duration of an in-process agent invocation.",
                AGENT_DURATION_BUCKETS,
            ),
            Measure.TOOL: histogram(
                "gen_ai.execute_tool.duration", "s", "Measures the duration of a tool execution.", DURATION_BUCKETS
            ),
        }
        self._tokens = token_usage or histogram(
            "gen_ai.client.token.usage",
            "{token}",
            "Number of input and output tokens used by GenAI clients",
            TOKEN_BUCKETS,
        )
        self._logger = logger

    def record_duration(self, measure: Measure, seconds: float, attributes: dict[str, Any]) -> None:
        """One duration point, with the operation's metric attributes."""
        self._durations[measure].record(seconds, metric_attributes(measure, attributes))

    def record_tokens(self, attributes: dict[str, Any], input_tokens: int | None, output_tokens: int | None) -> None:
        """``gen_ai.client.token.usage`` points by ``gen_ai.token.type``."""
        base = metric_attributes(Measure.CLIENT_OPERATION, attributes)
        for token_type, count in (("input", input_tokens), ("output", output_tokens)):
            if count is not None:
                self._tokens.record(count, base | {attr.GEN_AI_TOKEN_TYPE: token_type})

    def emit(self, event_name: str, attributes: dict[str, AttributeValue], context: Context) -> None:
        """A content event, correlated with the span whose context is given."""
        self._logger.emit(LogRecord(event_name=event_name, attributes=attributes, context=context))


def metric_attributes(measure: Measure, attributes: dict[str, Any]) -> dict[str, Any]:
    """The low-cardinality attributes of a metric point, taken from its span's attributes."""
    return {key: attributes[key] for key in attributes.keys() & METRIC_ATTRIBUTES[measure]}
