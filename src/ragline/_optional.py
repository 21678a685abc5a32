"""The only place that knows which packages are optional and which extra brings them."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from ragline.errors import MissingDependencyError


def is_available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or fail with the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingDependencyError(
            f"{module} is needed for this; pip install 'ragline[{extra}]'"
        ) from e
