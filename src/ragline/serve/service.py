"""What a server holds between requests: its collections, upload jobs and limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from ragline.serve.collections import Collections
from ragline.serve.jobs import Jobs


@dataclass(frozen=True)
class Limits:
    """Sizes a request may not exceed (a larger one is a 413)."""

    max_request_bytes: int = 64 * 1024 * 1024
    max_file_bytes: int = 32 * 1024 * 1024
    max_files: int = 200


@dataclass
class Service:
    """The state every route shares (``app.state.service``)."""

    collections: Collections
    limits: Limits = field(default_factory=Limits)
    jobs: Jobs = field(default_factory=Jobs)
