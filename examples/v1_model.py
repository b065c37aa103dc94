"""The model of the AG2 1.x examples: gpt-4o-mini when ``OPENAI_API_KEY`` is set, else a scripted local stand-in."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ag2.config import OpenAIConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.support

from tests.support.scripted_model import Reply, ScriptedLLM

MODEL = "gpt-4o-mini"


def model_config(
    scripted_replies: Sequence[Reply] = (), default: Reply = "Done."
) -> tuple[OpenAIConfig, ScriptedLLM | None]:
    """The 1.x model config to use, and the scripted server standing in for the model (to stop at exit) if any."""
    if os.environ.get("OPENAI_API_KEY"):
        return OpenAIConfig(model=MODEL), None
    scripted = ScriptedLLM(scripted_replies, default=default).start()
    return OpenAIConfig(model=MODEL, api_key="scripted", base_url=scripted.base_url, max_retries=0), scripted
