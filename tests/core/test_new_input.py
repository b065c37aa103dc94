"""``content.new_input``: what a model call's captured input holds, on both lines."""

from __future__ import annotations

from opentelemetry_instrumentation_ag2.content import new_input

SYSTEM = {"role": "system", "content": "Be brief."}
USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}
TOOL = {"role": "tool", "content": "42"}


def test_a_first_call_sends_everything_but_the_system_messages() -> None:
    assert new_input([SYSTEM, USER]) == [USER]


def test_a_later_call_sends_what_came_after_the_model_last_spoke() -> None:
    assert new_input([SYSTEM, USER, ASSISTANT, TOOL, USER]) == [TOOL, USER]


def test_a_call_right_after_the_model_spoke_sends_nothing_new() -> None:
    assert new_input([USER, ASSISTANT]) == []


def test_plain_strings_are_messages_without_a_role() -> None:
    assert new_input(["hi", SYSTEM]) == ["hi"]
