"""The model the examples use: gpt-4o-mini when ``OPENAI_API_KEY`` is set, else a scripted local stand-in."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from autogen import LLMConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.support

from tests.support.scripted_model import Reply, ScriptedLLM

MODEL = "gpt-4o-mini"


def model_config(
    scripted_replies: Sequence[Reply] = (), default: Reply = "TERMINATE"
) -> tuple[LLMConfig, ScriptedLLM | None]:
    """The LLM config to use, and the scripted server standing in for the model (to stop at exit) if any."""
    if os.environ.get("OPENAI_API_KEY"):
        return LLMConfig({"model": MODEL}), None
    scripted = ScriptedLLM(scripted_replies, default=default).start()
    config = LLMConfig(
        {"api_type": "openai", "model": MODEL, "api_key": "scripted", "base_url": scripted.base_url},
        cache_seed=None,
    )
    return config, scripted
