"""The model of the AG2 1.x examples: gpt-4o-mini when ``OPENAI_API_KEY`` is set, else a scripted local stand-in."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ag2.config import OpenAIConfig
from model_stand_in import MODEL, Reply, scripted_model_url


@contextmanager
def model_config(scripted_replies: Sequence[Reply] = (), default: Reply = "Done.") -> Iterator[OpenAIConfig]:
    """The 1.x model config to use inside the block (the scripted stand-in, if it is the model, serves until it
    ends)."""
    with scripted_model_url(scripted_replies, default) as base_url:
        if base_url is None:
            yield OpenAIConfig(model=MODEL)
        else:
            yield OpenAIConfig(model=MODEL, api_key="scripted", base_url=base_url, max_retries=0)
