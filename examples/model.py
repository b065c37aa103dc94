"""The model the examples use: gpt-4o-mini when ``OPENAI_API_KEY`` is set, else a scripted local stand-in."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from autogen import LLMConfig
from model_stand_in import MODEL, Reply, scripted_model_url


@contextmanager
def model_config(scripted_replies: Sequence[Reply] = (), default: Reply = "TERMINATE") -> Iterator[LLMConfig]:
    """The LLM config to use inside the block (the scripted stand-in, if it is the model, serves until it ends)."""
    with scripted_model_url(scripted_replies, default) as base_url:
        if base_url is None:
            yield LLMConfig({"model": MODEL})
        else:
            settings = {"api_type": "openai", "model": MODEL, "api_key": "scripted", "base_url": base_url}
            yield LLMConfig(settings, cache_seed=None)
