"""The key store: keys shown once, stored hashed, scoped, revocable, expiring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragline.errors import RaglineError
from ragline.keystore import KeyStore


def test_only_a_salted_hash_is_stored(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, record = store.create("handbook", "write")
    text = (tmp_path / "keys.json").read_text()
    assert key.split("_", 2)[2] not in text and key not in text
    other, again = store.create("handbook", "write")
    assert again.salt != record.salt and again.hash != record.hash
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert store.verify(key) == record and store.verify(other) == again


@pytest.mark.parametrize(
    "given", ["", "rl_", "rl__x", "nope", "rl_000000000000_secret", "Bearer x", "rl_a_b_c"]
)
def test_malformed_or_unknown_keys_are_refused(tmp_path: Path, given: str) -> None:
    store = KeyStore(tmp_path / "keys.json")
    store.create("*", "admin")
    assert store.verify(given) is None


def test_wrong_secret_for_a_known_id(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, _ = store.create("*", "read")
    assert store.verify(key[:-1] + ("a" if key[-1] != "a" else "b")) is None


def test_scope_and_roles(tmp_path: Path) -> None:
    _, record = KeyStore(tmp_path / "keys.json").create("alpha", "write")
    assert record.allows("alpha", "read") and record.allows("alpha", "write")
    assert not record.allows("alpha", "admin") and not record.allows("beta", "read")
    assert record.sees("alpha") and not record.sees("beta")


def test_revoke_seen_by_another_store_on_the_same_file(tmp_path: Path) -> None:
    server, cli = KeyStore(tmp_path / "keys.json"), KeyStore(tmp_path / "keys.json")
    key, record = cli.create("alpha", "read")
    assert server.verify(key) is not None
    cli.revoke(record.id)
    assert server.verify(key) is None
    assert [r.public()["revoked"] for r in server.records()] == [True]
    assert "hash" not in server.records()[0].public()


def test_expired_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, record = store.create("alpha", "read", expires_days=1)
    assert store.verify(key) is not None and record.expires == pytest.approx(record.created + 86400)
    later = record.created + 86400 + 1
    monkeypatch.setattr("ragline.keystore.time.time", lambda: later)
    assert store.verify(key) is None and record.public()["expired"] is True


@pytest.mark.parametrize(
    ("collection", "role", "days"), [("a", "root", None), ("", "read", None), ("a", "read", -1)]
)
def test_bad_key_requests(tmp_path: Path, collection: str, role: str, days: float | None) -> None:
    with pytest.raises(RaglineError):
        KeyStore(tmp_path / "keys.json").create(collection, role, expires_days=days)


def test_revoking_an_unknown_id_and_a_broken_file(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    with pytest.raises(RaglineError, match="no key"):
        store.revoke("abc")
    (tmp_path / "keys.json").write_text(json.dumps({"nope": 1}))
    with pytest.raises(RaglineError, match="unreadable key file"):
        store.records()
