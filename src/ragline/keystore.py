"""API keys for ``ragline serve --data DIR``: scoped to a collection and a role, stored hashed.

A key reads ``rl_<id>_<secret>``. Only its id, a random salt and ``scrypt(secret, salt)`` are
written (to ``DIR/keys.json``), so a copy of the file does not let anyone in; a presented
key is looked up by its id and its hash compared in constant time. The server re-reads the
file when it changes, so ``ragline keys revoke`` takes effect without a restart.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     store = KeyStore(Path(tmp) / "keys.json")
...     key, record = store.create("handbook", "read")
...     [store.verify(key).role, store.verify(key + "x")]
['read', None]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError

KEYS_FILE = "keys.json"
"""Where a data directory keeps its keys."""

ROLES = ("read", "write", "admin")
"""Each role may do what the ones before it may: read < write < admin."""

ALL = "*"
"""The collection scope of a key valid for every collection."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT).hex()


@dataclass(frozen=True)
class KeyRecord:
    """What is stored about a key: never the key itself."""

    id: str
    collection: str
    role: str
    created: float
    expires: float | None
    salt: str
    hash: str
    revoked: bool = False

    def allows(self, collection: str, role: str = "read") -> bool:
        """Whether this key may act on ``collection`` with ``role`` (or a lesser one)."""
        scoped = self.collection in (ALL, collection)
        return scoped and ROLES.index(self.role) >= ROLES.index(role)

    def sees(self, collection: str) -> bool:
        """Whether this key may know that ``collection`` exists."""
        return self.collection in (ALL, collection)

    @property
    def expired(self) -> bool:
        return self.expires is not None and time.time() >= self.expires

    def public(self) -> dict[str, Any]:
        """The record without salt and hash (what ``keys list`` shows)."""
        shown = {k: v for k, v in asdict(self).items() if k not in ("salt", "hash")}
        shown["expired"] = self.expired
        return shown


class KeyStore:
    """The keys of one data directory, in a JSON file re-read whenever it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._records: dict[str, KeyRecord] = {}
        # sha256 of keys already checked -> their id, so scrypt runs once per key, not
        # once per request; revocation and expiry are still checked on every call.
        self._checked: dict[str, str] = {}

    def records(self) -> list[KeyRecord]:
        """Every key ever made here (revoked and expired ones included), oldest first."""
        with self._lock:
            self._refresh()
            return sorted(self._records.values(), key=lambda r: r.created)

    def create(
        self, collection: str, role: str, *, expires_days: float | None = None
    ) -> tuple[str, KeyRecord]:
        """A new key (returned once, as ``rl_<id>_<secret>``) and its stored record."""
        if role not in ROLES:
            raise RaglineError(f"unknown role {role!r} (use {', '.join(ROLES)})")
        if not collection:
            raise RaglineError("a key needs a collection name, or '*' for all")
        if expires_days is not None and expires_days <= 0:
            raise RaglineError("--expires must be a positive number of days")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
        salt = os.urandom(16)
        now = time.time()
        record = KeyRecord(
            id=key_id,
            collection=collection,
            role=role,
            created=now,
            expires=now + expires_days * 86400 if expires_days else None,
            salt=salt.hex(),
            hash=_hash(secret, salt),
        )
        with self._lock:
            self._refresh()
            self._records[key_id] = record
            self._write()
        return f"rl_{key_id}_{secret}", record

    def revoke(self, key_id: str) -> KeyRecord:
        """Mark key ``key_id`` revoked (kept, so the audit trail stays)."""
        with self._lock:
            self._refresh()
            record = self._records.get(key_id)
            if record is None:
                raise RaglineError(f"no key with id {key_id!r} in {self.path}")
            self._records[key_id] = revoked = KeyRecord(**{**asdict(record), "revoked": True})
            self._write()
        return revoked

    def verify(self, key: str) -> KeyRecord | None:
        """The record of a valid (known, not revoked, not expired) key, else None."""
        prefix, _, rest = key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != "rl" or not key_id or not secret:
            return None
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        with self._lock:
            self._refresh()
            record = self._records.get(key_id)
            known = self._checked.get(digest) == key_id
        if record is None or record.revoked or record.expired:
            return None
        if not known:
            given = _hash(secret, bytes.fromhex(record.salt))
            if not hmac.compare_digest(given, record.hash):
                return None
            with self._lock:
                self._checked[digest] = key_id
        return record

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._seen = {}, None
            return
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen == self._seen:
            return
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))["keys"]
            self._records = {row["id"]: KeyRecord(**row) for row in rows}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise RaglineError(f"{self.path}: unreadable key file: {e}") from e
        self._seen = seen

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        body = {"keys": [asdict(r) for r in self._records.values()]}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=1)
        os.replace(tmp, self.path)
        self._seen = None
