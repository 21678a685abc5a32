"""Errors that ragline raises on purpose, each with a message a user can act on."""

from __future__ import annotations


class RaglineError(Exception):
    """Base class: a problem with the user's input or environment, reported in one line."""


class MissingDependencyError(RaglineError, ImportError):
    """An optional package is needed for the feature that was asked for."""


class ConfigMismatchError(RaglineError):
    """A knowledge base was opened with settings that contradict the ones it was built with."""


class LoadError(RaglineError):
    """A file or record could not be turned into a document; the message names it and why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class KnowledgeBaseLockedError(RaglineError):
    """Another process is writing to the knowledge base; only one writer at a time is allowed."""


class ConfigError(RaglineError, ValueError):
    """A setting has a value that cannot work (for example overlap ≥ chunk size)."""
