"""The 1.x line's fixtures, for the util-genai 1.3 environment (tox env ``v1-genai``)."""

import pytest

from tests.support.scripted_model import ScriptedLLM
from tests.v1.conftest import instrument, no_content_by_default  # noqa: F401 (fixtures)


@pytest.fixture
def llm():
    """A scripted OpenAI-compatible model on 127.0.0.1, for a tool's own LLM call."""
    with ScriptedLLM() as server:
        yield server
