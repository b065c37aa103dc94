"""Scripted models for network participants (no tracing code: the apps run under ``opentelemetry-instrument``)."""

from __future__ import annotations

from typing import Any

from ag2.config import ModelProvider
from ag2.testing import TestClient, TestConfig


class TakeTurns(TestConfig):
    """A participant's scripted model: its n-th turn plays ``turns[n]`` (a reply, or a tuple of scripted
    events); later turns reply nothing, so the channel adapter posts nothing and the run ends."""

    __test__ = False

    def __init__(self, *turns: Any, model: str = "gpt-test") -> None:
        super().__init__("", provider=ModelProvider.OPENAI, model=model)
        self._turns = iter(turns)

    def create(self) -> TestClient:
        turn = next(self._turns, "")
        return TestClient(*(turn if isinstance(turn, tuple) else (turn,)))
