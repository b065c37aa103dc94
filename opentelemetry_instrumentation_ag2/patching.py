"""Class-level wrapt patches, applied and undone as one list, and patching deferred until a module is imported."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from types import ModuleType

from opentelemetry.instrumentation.utils import unwrap
from wrapt import register_post_import_hook, wrap_function_wrapper

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Patch:
    """Wrap ``module.target`` (``"Class.method"``) with a wrapt ``wrapper``."""

    module: str
    target: str
    wrapper: Callable

    def apply(self) -> bool:
        """Wrap the target; ``False`` when its module or attribute is absent from this AG2 release."""
        try:
            module = importlib.import_module(self.module)
            owner_path, _, name = self.target.rpartition(".")
            owner = reduce(getattr, owner_path.split("."), module) if owner_path else module
            if not hasattr(owner, name):
                return False
            if getattr(getattr(owner, name), "__otel_wrapped__", False):
                logger.info("ag2 instrumentation: %s is traced by AG2's own tracing; leaving it to it", self.target)
                return False
        except (ImportError, AttributeError):
            logger.debug("ag2 instrumentation: %s.%s not available", self.module, self.target)
            return False
        wrap_function_wrapper(module, self.target, self.wrapper)
        return True

    def remove(self) -> None:
        """Restore the original callable."""
        module = importlib.import_module(self.module)
        owner_path, _, name = self.target.rpartition(".")
        owner = reduce(getattr, owner_path.split("."), module) if owner_path else module
        unwrap(owner, name)


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
