"""Class-level wrapt patches, applied and undone as one list."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

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
