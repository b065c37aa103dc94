"""AG2's own opt-in tracing (``autogen.opentelemetry``) beside ours: one span per operation, in either order.

AG2's helpers wrap objects one by one. Where their wrapper runs *outside* ours, ours adopts its span
(``SpanStart.adopt``, see :func:`..ag2_own_tracing.current_ag2_span`). Where it would run *inside* ours — the
LLM-based speaker selection of a group chat, and the internal agents AG2 makes for it — ours sets AG2's
wrappers aside on that object while instrumented, so only ours traces it. An agent AG2 wrapped *before*
``instrument()`` holds, in each wrapper, the bound method it replaced, which skips our class patches: ours
routes those calls through its patches (:class:`ThroughOurs`), so ours runs inside AG2's span exactly as
when ours came first. Likewise the class function AG2's LLM-client wrapper (``instrument_llm_wrapper``)
captured, which ours finds in place of its patch: ours routes it through that patch's wrapper
(:class:`ThroughPatch`). ``restore_all()`` puts everything back.
"""

from __future__ import annotations

import gc
import inspect
import logging
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator
from types import CellType, FunctionType, MethodType
from typing import Any

from opentelemetry_instrumentation_ag2.ag2_own_tracing import CLASSIC_MODULE, is_ag2_own_wrapper
from opentelemetry_instrumentation_ag2.patching import Patch, PatchedFunction, unpatched

logger = logging.getLogger(__name__)

SELECTION_WRAPPERS = ("_auto_select_speaker", "a_auto_select_speaker", "_create_internal_agents")
"""What ``autogen.opentelemetry``'s ``instrument_groupchat`` wraps on a ``GroupChat``, inside ``select_speaker``."""


class ThroughOurs:
    """Stands in AG2's wrapper for the bound method it captured: calls it through our patch of it while one
    is in place, as it is otherwise."""

    __slots__ = ("original",)

    def __init__(self, original: MethodType) -> None:
        self.original = original

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        original = self.original
        agent = original.__self__
        patched = inspect.getattr_static(type(agent), original.__name__, None)
        if isinstance(patched, PatchedFunction) and patched.__wrapped__ is original.__func__:
            return patched.__get__(agent, type(agent))(*args, **kwargs)
        return original(*args, **kwargs)


class ThroughPatch:
    """Stands in AG2's class-level wrapper for the class function it captured: calls it as a method through
    our patch's wrapper, which so runs inside AG2's span as when ours came first."""

    __slots__ = ("original", "patched")

    def __init__(self, original: Any, wrapper: Callable) -> None:
        self.original = original
        self.patched = PatchedFunction(unpatched(original), wrapper)

    def __call__(self, instance: Any, /, *args: Any, **kwargs: Any) -> Any:
        return self.patched.__get__(instance, type(instance))(*args, **kwargs)


def _cells(wrapper: Any) -> Iterator[tuple[CellType, Any]]:
    """The closure cells of one of AG2's wrappers, with what each holds."""
    for cell in getattr(wrapper, "__closure__", None) or ():
        try:
            held = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        yield cell, held


def _captured_methods(agent: Any) -> Iterator[tuple[CellType, Any]]:
    """The closure cells of AG2's wrappers on ``agent``, with what each holds."""
    for wrapper in list(vars(agent).values()):
        if is_ag2_own_wrapper(wrapper):
            yield from _cells(wrapper)


def _captured_function(owner: Any, name: str) -> Iterator[tuple[CellType, Any]]:
    """The cell of AG2's wrapper at ``owner.name`` (a class's) holding the function the class defined there."""
    wrapper = vars(owner).get(name) if isinstance(owner, type) else None
    if not is_ag2_own_wrapper(wrapper):
        return
    qualname = f"{owner.__qualname__}.{name}"
    for cell, held in _cells(wrapper):
        function = unpatched(held)
        if isinstance(function, FunctionType) and function.__qualname__ == qualname:
            yield cell, held


def _is_own_class_method(agent: Any, held: Any) -> bool:
    """Whether ``held`` is ``agent``'s bound method as its class defines it (ours patched or not)."""
    if not isinstance(held, MethodType) or held.__self__ is not agent:
        return False
    return unpatched(inspect.getattr_static(type(agent), held.__name__, None)) is held.__func__


def _reroute(agent: Any) -> bool:
    """Route the methods AG2's wrappers on ``agent`` captured through our patches; whether there were any."""
    rerouted = False
    for cell, held in _captured_methods(agent):
        if _is_own_class_method(agent, held):
            cell.cell_contents = ThroughOurs(held)
            rerouted = True
    return rerouted


def _instances(cls: type) -> list[Any]:
    """The live instances of ``cls`` and its subclasses."""
    classes, pending = set(), [cls]
    while pending:
        klass = pending.pop()
        if klass not in classes:
            classes.add(klass)
            pending += klass.__subclasses__()
    return [found for found in gc.get_referrers(*classes) if type(found) in classes]


class OwnTracingSetAside:
    """AG2's own wrappers, set aside or rerouted while we are instrumented."""

    def __init__(self) -> None:
        self._set_aside: dict[int, tuple[weakref.ref, dict[str, Any]]] = {}
        self._rerouted: dict[int, weakref.ref] = {}
        self._rerouted_functions: list[CellType] = []

    def set_aside(self, target: Any, names: tuple[str, ...] = SELECTION_WRAPPERS) -> None:
        """Take AG2's wrappers of ``names`` off ``target`` (once), so its class's methods, ours, run."""
        found = vars(target)
        wrappers = {name: found[name] for name in names if is_ag2_own_wrapper(found.get(name))}
        if not wrappers:
            return
        for name in wrappers:
            del found[name]
        key = id(target)
        _, earlier = self._set_aside.get(key, (None, {}))
        self._set_aside[key] = (weakref.ref(target, lambda _: self._set_aside.pop(key, None)), {**earlier, **wrappers})

    def reroute_agents(self, agent_class: type) -> None:
        """Route the agents AG2 wrapped before ``instrument()`` through ours (see the module docstring)."""
        if CLASSIC_MODULE not in sys.modules:
            return  # AG2's own tracing was never imported: it wrapped nothing
        try:
            agents = _instances(agent_class)
        except Exception:
            logger.debug("ag2 instrumentation failed to find the agents AG2's own tracing wrapped", exc_info=True)
            return
        for agent in agents:
            key = id(agent)
            try:
                if key not in self._rerouted and _reroute(agent):
                    self._rerouted[key] = weakref.ref(agent, lambda _, key=key: self._rerouted.pop(key, None))
            except Exception:
                logger.debug("ag2 instrumentation failed to reroute AG2's own wrappers", exc_info=True)

    def reroute_functions(self, patches: Iterable[Patch]) -> None:
        """Route the class functions AG2's own tracing wrapped before ``instrument()`` (in place of these
        patches' targets) through the patches' wrappers."""
        if CLASSIC_MODULE not in sys.modules:
            return
        for patch in patches:
            try:
                for cell, held in _captured_function(*patch.located()):
                    cell.cell_contents = ThroughPatch(held, patch.wrapper)
                    self._rerouted_functions.append(cell)
            except Exception:
                logger.debug("ag2 instrumentation failed to reroute AG2's wrapper of %s", patch.target, exc_info=True)

    def restore_all(self) -> None:
        """Put every wrapper back where it was, and every captured method or function back in its wrapper."""
        for ref, wrappers in list(self._set_aside.values()):
            target = ref()
            if target is not None:
                vars(target).update(wrappers)
        self._set_aside.clear()
        agents = [ref() for ref in list(self._rerouted.values())]
        for agent in [agent for agent in agents if agent is not None]:
            for cell, held in _captured_methods(agent):
                if isinstance(held, ThroughOurs):
                    cell.cell_contents = held.original
        self._rerouted.clear()
        for cell in self._rerouted_functions:
            if isinstance(cell.cell_contents, ThroughPatch):
                cell.cell_contents = cell.cell_contents.original
        self._rerouted_functions.clear()
