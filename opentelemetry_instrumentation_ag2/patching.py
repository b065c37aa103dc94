"""Class-level wrapt patches, applied and undone as one list, and patching deferred until a module is imported.

Every wrapper the instrumentor puts in place is a :class:`PatchedFunction`: AG2 keeps functions in its agents
(reply functions, tool maps), so the wrappers must copy, deep-copy and pickle as the functions they wrap do.
"""

from __future__ import annotations

import copy
import importlib
import logging
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from types import ModuleType
from typing import Any

from opentelemetry import context
from opentelemetry.instrumentation.utils import unwrap
from wrapt import BoundFunctionWrapper, FunctionWrapper, register_post_import_hook, wrap_object

from opentelemetry_instrumentation_ag2.ag2_own_tracing import is_ag2_own_wrapper

logger = logging.getLogger(__name__)


def unpatched(function: Any) -> Any:
    """``function`` without the instrumentor's wrappers (itself when it has none)."""
    while isinstance(function, (PatchedFunction, BoundPatchedFunction)):
        function = function.__wrapped__
    return function


def original_function(module: str, qualname: str) -> Any:
    """The function at ``module.qualname``, without the instrumentor's wrapper (how a wrapper unpickles)."""
    return unpatched(reduce(getattr, qualname.split("."), importlib.import_module(module)))


class _CopiesAsTheFunction:
    """``copy``, ``deepcopy`` and ``pickle`` treat the wrapper as the function it wraps.

    A function is its own copy (``copy`` treats functions as atomic), so the wrapper is too and a copied
    agent stays traced; a wrapped function pickles by reference, unwrapped; a wrapped bound method copies
    and pickles as the bound method.
    """

    __wrapped__: Any

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict) -> Any:
        if getattr(self.__wrapped__, "__self__", None) is not None:
            return copy.deepcopy(self.__wrapped__, memo)
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        function = self.__wrapped__
        if getattr(function, "__self__", None) is not None:
            return function.__reduce_ex__(protocol)
        module, qualname = function.__module__, function.__qualname__
        try:
            resolved = original_function(module, qualname)
        except (ImportError, AttributeError):
            resolved = None
        if resolved is not function:  # as pickle says of a function it cannot find by name
            raise pickle.PicklingError(f"Can't pickle {function!r}: it's not found as {module}.{qualname}")
        return original_function, (module, qualname)


class BoundPatchedFunction(_CopiesAsTheFunction, BoundFunctionWrapper):
    """A :class:`PatchedFunction` bound to an instance or class."""


class PatchedFunction(_CopiesAsTheFunction, FunctionWrapper):
    """The wrapt ``FunctionWrapper`` of every patch: copies and pickles as the wrapped function does."""

    __bound_function_wrapper__ = BoundPatchedFunction


@dataclass(frozen=True)
class Patch:
    """Wrap ``module.target`` (``"Class.method"``) with a wrapt ``wrapper``."""

    module: str
    target: str
    wrapper: Callable

    def located(self) -> tuple[Any, str]:
        """The class or module holding the target, and the target's name in it."""
        module = importlib.import_module(self.module)
        owner_path, _, name = self.target.rpartition(".")
        return (reduce(getattr, owner_path.split("."), module) if owner_path else module), name

    def apply(self) -> bool:
        """Wrap the target; ``False`` when its module or attribute is absent from this AG2 release, or when AG2's own
        tracing wrapped it."""
        try:
            owner, name = self.located()
            if not hasattr(owner, name):
                return False
            if is_ag2_own_wrapper(getattr(owner, name)):
                logger.info("ag2 instrumentation: %s is AG2's own tracing's wrapper; not wrapping it", self.target)
                return False
            current = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name)
            if isinstance(current, PatchedFunction) and current._self_wrapper is self.wrapper:
                return False  # the same patch, applied for the other AG2 line already

        except (ImportError, AttributeError):
            logger.debug("ag2 instrumentation: %s.%s not available", self.module, self.target)
            return False
        wrap_object(importlib.import_module(self.module), self.target, PatchedFunction, (self.wrapper,))
        return True

    def remove(self) -> None:
        """Restore the original callable."""
        unwrap(*self.located())


class WhenImported:
    """Runs a callback once a module is imported: at once if it is, else when the application imports it.

    So ``instrument()`` imports nothing the application does not (start-up time, memory, and objects every
    full garbage collection walks). At most one wrapt post-import hook is ever pending, however many
    ``instrument()`` / ``uninstrument()`` cycles come before the import; it runs the callback armed last.
    """

    def __init__(self, module: str) -> None:
        self.module = module
        self._callback: Callable[[], None] | None = None
        self._hooked = False

    def arm(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the module is imported (now if it already is)."""
        self._callback = callback
        if not self._hooked:
            self._hooked = True
            register_post_import_hook(self._imported, self.module)  # runs it now if already imported

    def disarm(self) -> None:
        """Forget the callback: importing the module later does nothing."""
        self._callback = None

    def _imported(self, _: ModuleType) -> None:
        self._hooked = False
        callback, self._callback = self._callback, None
        if callback is None:
            return
        try:
            callback()
        except Exception:  # the application's import must not fail because of us
            logger.warning("ag2 instrumentation failed to instrument %s", self.module, exc_info=True)


async def run_in(parent: context.Context | None, wrapped: Callable, args: tuple, kwargs: dict) -> Any:
    """A wrapper's await of the call it wraps with ``parent`` attached (as is when ``None``)."""
    if parent is None:
        return await wrapped(*args, **kwargs)
    token = context.attach(parent)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        context.detach(token)
