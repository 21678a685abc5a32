"""The only place that knows which packages are optional and which extra brings them."""

from __future__ import annotations

import importlib
import importlib.util
import os
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


def quiet_transformers() -> None:
    """Offline, and no load reports, warnings or progress bars from transformers: a model
    ragline loads is one it ships or was given, and its messages would only bury the answer."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
