"""Small helpers for the AG2 1.x tests: finding spans, whether a patch is on, and scripted models that work on
every 1.x release."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from functools import reduce
from typing import Any

from ag2.config import ModelProvider
from ag2.events import ModelResponse, ToolErrorEvent
from ag2.testing import TestConfig
from opentelemetry.sdk.trace import ReadableSpan

from opentelemetry_instrumentation_ag2.patching import PatchedFunction

OUR_SCOPE = "opentelemetry_instrumentation_ag2"
AG2_SCOPE = "opentelemetry.instrumentation.ag2"
REPORTS_RESPONSE_ID = hasattr(ModelResponse(), "response_id")
"""ag2 >= 1.1 carries the provider's response id on ``ModelResponse``; 1.0 does not."""


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    """The spans called ``name``, in the order they ended."""
    return [span for span in spans if span.name == name]


def one(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    """The one span called ``name``."""
    found = by_name(spans, name)
    assert len(found) == 1, f"expected one {name!r}, got {[s.name for s in spans]}"
    return found[0]


def is_child(child: ReadableSpan, parent: ReadableSpan) -> bool:
    """Whether ``child`` is a direct child of ``parent`` in the same trace."""
    return (
        child.parent is not None
        and child.parent.span_id == parent.context.span_id
        and child.context.trace_id == parent.context.trace_id
    )


def scope_of(span: ReadableSpan) -> str | None:
    """The instrumentation scope that made the span."""
    return span.instrumentation_scope.name if span.instrumentation_scope else None


def scripted(*turns: Any, model: str | None = "gpt-test") -> TestConfig:
    """``ag2.testing.TestConfig`` that, like a real provider, hands a failed tool's error to the model.

    (ag2 1.0's TestConfig always re-raises it; later releases ask for ``raise_tool_errors=False``.)
    """
    provider = ModelProvider.OPENAI if model else None
    if "raise_tool_errors" in inspect.signature(TestConfig).parameters:
        return TestConfig(*turns, provider=provider, model=model, raise_tool_errors=False)
    return _QuietToolErrors(*turns, provider=provider, model=model)


class _QuietToolErrors(TestConfig):
    __test__ = False

    def create(self) -> Any:
        client = super().create()

        async def call(messages: Sequence[Any], context: Any, **kwargs: Any) -> ModelResponse:
            kept = [message for message in messages if not isinstance(message, ToolErrorEvent)]
            return await client(kept, context, **kwargs)

        return call


class FailingConfig:
    """A model config whose LLM call raises ``error`` (a provider failing)."""

    def __init__(self, error: BaseException, model: str = "gpt-broken") -> None:
        self.error = error
        self.model = model
        self.provider = ModelProvider.OPENAI

    def copy(self) -> FailingConfig:
        return self

    def create(self) -> Any:
        async def call(messages: Sequence[Any], context: Any, **kwargs: Any) -> ModelResponse:
            raise self.error

        return call


def patched(module: str, target: str) -> bool:
    """Whether the instrumentor's wrapper is on ``module.target`` (``"Class.method"`` or a function)."""
    owner_path, _, name = target.rpartition(".")
    owner = reduce(getattr, owner_path.split(".") if owner_path else [], importlib.import_module(module))
    return isinstance(inspect.getattr_static(owner, name), PatchedFunction)
