"""A data directory with two small collections and keys of every scope and role, for the
service tests (hash encoder, extractive generator: no neural model is loaded)."""

from __future__ import annotations

from pathlib import Path

from ragline import Config, Document, KnowledgeBase
from ragline.keystore import KEYS_FILE, ROLES, KeyStore

COLLECTIONS = ("alpha", "beta")
DOCS = [
    Document(
        "tides",
        "Tides are caused by the gravity of the Moon and the Sun. Spring tides are higher.",
        {"topic": "science", "year": 2021},
    ),
    Document(
        "pasta",
        "Boil pasta in salted water for nine minutes. Drain it and add the sauce.",
        {"topic": "food", "year": 2019},
    ),
]
QUESTION = "What are tides caused by?"
CONFIG = Config().with_overrides("embed", model="hash-64")


def make_data(root: Path) -> dict[tuple[str, str], str]:
    """Collections ``alpha`` and ``beta`` under ``root``, and a key per (scope, role):
    scope is a collection or ``*``."""
    for name in COLLECTIONS:
        with KnowledgeBase.create(root / name, CONFIG) as kb:
            kb.add(DOCS)
    store = KeyStore(root / KEYS_FILE)
    keys = {}
    for scope in ("alpha", "*"):
        for role in ROLES:
            keys[scope, role], _ = store.create(scope, role)
    return keys


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def error_of(response) -> str:  # type: ignore[no-untyped-def]
    """The one-line message of a JSON error reply (and check the shape while at it)."""
    error = response.json()["error"]
    assert error["code"] == response.status_code and isinstance(error["type"], str)
    message = error["message"]
    assert message and "\n" not in message and "Traceback" not in message
    return str(message)
