"""Every forbidden combination of key scope x role x collection x route, tried and refused,
and nothing changed afterwards; and the ways a key can be missing, wrong or misplaced.

A key that cannot see a collection gets the 404 an unknown collection gets (names do not
leak); a key that sees it without the role gets a 403.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from ragline.keystore import KEYS_FILE, ROLES, KeyStore  # noqa: E402
from ragline.serve.app import create_app  # noqa: E402
from serve_data import COLLECTIONS, QUESTION, bearer, error_of, make_data  # noqa: E402

pytestmark = pytest.mark.integration

UPLOAD = {"files": [("files", ("new.txt", b"A new file about comets.", "text/plain"))]}
ROUTES: list[tuple[str, str, str, dict[str, Any]]] = [
    # (method, path with {c}, role needed, request options)
    ("GET", "/collections/{c}", "read", {}),
    ("POST", "/collections/{c}/search", "read", {"json": {"query": "tides"}}),
    ("POST", "/collections/{c}/ask", "read", {"json": {"question": QUESTION}}),
    ("POST", "/collections/{c}/ask/stream", "read", {"json": {"question": QUESTION}}),
    ("GET", "/collections/{c}/documents", "read", {}),
    ("GET", "/collections/{c}/documents/tides", "read", {}),
    ("GET", "/collections/{c}/jobs", "read", {}),
    ("GET", "/collections/{c}/jobs/" + "0" * 32, "read", {}),
    (
        "POST",
        "/v1/chat/completions",
        "read",
        {"json": {"model": "ragline/{c}", "messages": [{"role": "user", "content": QUESTION}]}},
    ),
    ("POST", "/v1/embeddings", "read", {"json": {"model": "ragline/{c}", "input": "tides"}}),
    (
        "POST",
        "/collections/{c}/documents",
        "write",
        {"json": {"documents": [{"id": "intruder", "text": "Written without the right."}]}},
    ),
    ("DELETE", "/collections/{c}/documents/tides", "write", {}),
    ("POST", "/collections/{c}/documents/delete", "write", {"json": {"ids": ["tides"]}}),
    (
        "POST",
        "/collections/{c}/documents/delete",
        "write",
        {"json": {"filters": {"topic": "food"}}},
    ),
    ("POST", "/collections/{c}/uploads", "write", UPLOAD),
    ("DELETE", "/collections/{c}/jobs/" + "0" * 32, "write", {}),
    ("GET", "/jobs/{job}", "read", {}),
    ("DELETE", "/jobs/{job}", "write", {}),
    ("DELETE", "/collections/{c}", "admin", {}),
    ("POST", "/collections", "admin", {"json": {"name": "{c}-new", "embedder": "hash-64"}}),
]
SCOPES = ("alpha", "*")


def forbidden() -> Iterator[Any]:
    """(scope, role, collection, route, expected status) of every refused combination."""
    for scope, role, collection, route in itertools.product(SCOPES, ROLES, COLLECTIONS, ROUTES):
        method, path, needed, _ = route
        sees = scope in ("*", collection)
        creating = path == "/collections"
        if not sees and not creating:
            expected = 404
        elif ROLES.index(role) < ROLES.index(needed) or (creating and scope != "*"):
            expected = 403
        else:
            continue
        yield pytest.param(
            scope,
            role,
            collection,
            route,
            expected,
            id=f"{scope}-{role}-{collection}-{method}{path}",
        )


MATRIX = list(forbidden())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[Any, str]]]:
    root = tmp_path_factory.mktemp("access")
    keys = make_data(root)
    with TestClient(create_app(data=root, generator="extractive")) as client:
        for name in COLLECTIONS:
            JOBS[name] = finished_job(client, keys["*", "admin"], name)
        yield client, keys


JOBS: dict[str, str] = {}
"""The id of a finished upload job in each collection (``{job}`` in a route's path)."""


def finished_job(client: TestClient, key: str, collection: str) -> str:
    """Upload one file to ``collection`` and wait for its job to finish; its id."""
    reply = client.post(f"/collections/{collection}/uploads", headers=bearer(key), **UPLOAD)
    job = reply.json()
    deadline = time.monotonic() + 60
    while job["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        job = client.get(f"/collections/{collection}/jobs/{job['id']}", headers=bearer(key)).json()
    assert job["status"] == "done", job
    return str(job["id"])


def snapshot(client: TestClient, keys: dict[Any, str]) -> Any:
    """What a refused request must not change: collections, their documents and jobs."""
    admin = bearer(keys["*", "admin"])
    names = [c["name"] for c in client.get("/collections", headers=admin).json()["collections"]]
    return names, {
        name: (
            client.get(f"/collections/{name}/documents", headers=admin).json(),
            client.get(f"/collections/{name}/jobs", headers=admin).json(),
        )
        for name in names
    }


def fill(value: Any, collection: str) -> Any:
    if isinstance(value, str):
        return value.replace("{c}", collection).replace("{job}", JOBS.get(collection, ""))
    if isinstance(value, dict):
        return {k: fill(v, collection) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, collection) for v in value]
    return value


def test_the_matrix_is_large() -> None:
    assert len(MATRIX) >= 80


@pytest.mark.parametrize(("scope", "role", "collection", "route", "expected"), MATRIX)
def test_refused_and_nothing_changed(
    served: tuple[TestClient, dict[Any, str]],
    scope: str,
    role: str,
    collection: str,
    route: tuple[str, str, str, dict[str, Any]],
    expected: int,
) -> None:
    client, keys = served
    method, path, _, options = route
    before = snapshot(client, keys)
    options = fill(options, collection) if "files" not in options else options
    reply = client.request(
        method, fill(path, collection), headers=bearer(keys[scope, role]), **options
    )
    assert reply.status_code == expected, reply.text
    message = error_of(reply)
    if expected == 404 and path.startswith("/collections/"):
        assert collection in message  # the same words as for a collection that does not exist
    if expected == 404 and path.startswith("/jobs/"):
        assert message == f"no job {JOBS[collection]!r}"  # as for a job that does not exist
    assert snapshot(client, keys) == before


def test_a_hidden_collection_looks_like_a_missing_one(
    served: tuple[TestClient, dict[Any, str]],
) -> None:
    client, keys = served
    alpha = bearer(keys["alpha", "admin"])
    hidden = client.get("/collections/beta", headers=alpha)
    missing = client.get("/collections/zeta", headers=alpha)
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert error_of(hidden).replace("beta", "zeta") == error_of(missing)
    listed = client.get("/collections", headers=alpha).json()["collections"]
    assert [c["name"] for c in listed] == ["alpha"]
    models = client.get("/v1/models", headers=alpha).json()["data"]
    assert [m["id"] for m in models] == ["ragline/alpha"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer rl_000000000000_nothing"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "rl_x"},
    ],
    ids=["missing", "unknown", "empty", "basic", "no-scheme"],
)
def test_missing_or_wrong_key_is_401(
    served: tuple[TestClient, dict[Any, str]], headers: dict[str, str]
) -> None:
    client, _ = served
    reply = client.get("/collections", headers=headers)
    assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert "API key" in error_of(reply)


def test_only_the_authorization_header_counts(served: tuple[TestClient, dict[Any, str]]) -> None:
    client, keys = served
    key = keys["*", "admin"]
    for headers in (
        {"X-API-Key": key},
        {"Api-Key": key},
        {"Cookie": f"key={key}"},
        {"Proxy-Authorization": f"Bearer {key}"},
    ):
        assert client.get("/collections", headers=headers).status_code == 401
    assert client.get("/collections", params={"api_key": key}).status_code == 401
    assert client.get("/collections", headers=bearer(key)).status_code == 200


def test_revoked_and_expired_keys_stop_working_without_a_restart(
    served: tuple[TestClient, dict[Any, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys = served
    root = Path(client.app.state.service.collections.data)  # type: ignore[attr-defined]
    cli = KeyStore(root / KEYS_FILE)
    key, record = cli.create("alpha", "read")
    assert client.get("/collections/alpha", headers=bearer(key)).status_code == 200
    cli.revoke(record.id)
    assert client.get("/collections/alpha", headers=bearer(key)).status_code == 401
    short, made = cli.create("alpha", "read", expires_days=1)
    assert client.get("/collections/alpha", headers=bearer(short)).status_code == 200
    later = made.created + 86400 + 1
    monkeypatch.setattr("ragline.keystore.time.time", lambda: later)
    assert client.get("/collections/alpha", headers=bearer(short)).status_code == 401


def test_no_auth_must_be_explicit(tmp_path: Path) -> None:
    make_data(tmp_path)
    with TestClient(create_app(data=tmp_path)) as secure:
        assert secure.get("/collections").status_code == 401
    with TestClient(create_app(data=tmp_path, no_auth=True)) as open_server:
        assert open_server.get("/collections").status_code == 200


def test_cors_is_closed_unless_configured(tmp_path: Path) -> None:
    keys = make_data(tmp_path)
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    with TestClient(create_app(data=tmp_path)) as closed:
        reply = closed.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in reply.headers
        assert (
            "access-control-allow-origin"
            not in closed.options("/collections", headers=preflight).headers
        )
    with TestClient(create_app(data=tmp_path, cors_origins=["https://team.example"])) as opened:
        reply = opened.get(
            "/collections", headers={"Origin": "https://team.example", **bearer(keys["*", "read"])}
        )
        assert reply.headers["access-control-allow-origin"] == "https://team.example"
        other = opened.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_top_level_jobs_follow_the_collections_rules(
    served: tuple[TestClient, dict[Any, str]],
) -> None:
    """``/jobs`` lists the jobs of the collections a key sees; ``/jobs/{id}`` is the
    collection's own job route under another name."""
    client, keys = served
    alpha, everyone = bearer(keys["alpha", "read"]), bearer(keys["*", "read"])
    listed = client.get("/jobs", headers=alpha).json()["jobs"]
    assert {job["collection"] for job in listed} == {"alpha"}
    everything = client.get("/jobs", headers=everyone).json()["jobs"]
    assert {JOBS["alpha"], JOBS["beta"]} <= {job["id"] for job in everything}
    created = [job["created"] for job in everything]
    assert created == sorted(created, reverse=True)
    same = client.get(f"/collections/alpha/jobs/{JOBS['alpha']}", headers=alpha).json()
    assert client.get(f"/jobs/{JOBS['alpha']}", headers=alpha).json() == same
    writer = bearer(keys["alpha", "write"])
    assert client.delete(f"/jobs/{JOBS['alpha']}", headers=writer).json()["status"] == "done"
    for missing in ("0" * 32, "ABC", "x" * 5000):
        reply = client.get(f"/jobs/{missing}", headers=everyone)
        assert reply.status_code == 404 and "no job" in error_of(reply)
