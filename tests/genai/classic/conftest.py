"""The classic line's fixtures, for the util-genai 1.3 environment (tox env ``classic-genai``)."""

from tests.classic.conftest import instrument, llm  # noqa: F401 (fixtures)
