"""The model both lines' examples use: gpt-4o-mini when ``OPENAI_API_KEY`` is set, else a scripted local stand-in.

``model.py`` (classic) and ``v1_model.py`` (AG2 1.x) turn what this yields into their line's model config.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.support

from tests.support.scripted_model import Reply, ScriptedLLM

MODEL = "gpt-4o-mini"


@contextmanager
def scripted_model_url(replies: Sequence[Reply], default: Reply) -> Iterator[str | None]:
    """``None`` when ``OPENAI_API_KEY`` is set (the real model answers); else the base URL of a scripted stand-in
    answering ``replies``, then ``default``, which serves until the block ends."""
    if os.environ.get("OPENAI_API_KEY"):
        yield None
        return
    with ScriptedLLM(replies, default=default) as scripted:
        yield scripted.base_url
