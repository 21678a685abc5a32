"""Hostile requests to a ``--data`` server: bad JSON, wrong types, huge bodies, unknown
collections, file names that try to be paths, filters on fields that do not exist. Each
is refused with the one-line JSON error, and nothing stored changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from ragline.serve.app import create_app  # noqa: E402
from ragline.serve.service import Limits  # noqa: E402
from serve_data import bearer, error_of, make_data  # noqa: E402

pytestmark = pytest.mark.integration

LIMITS = Limits(max_request_bytes=20_000, max_file_bytes=2_000, max_files=3)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    keys = make_data(root)
    with TestClient(create_app(data=root, generator="extractive", limits=LIMITS)) as client:
        client.headers.update(bearer(keys["*", "admin"]))
        yield client, root


def stored(client: TestClient) -> Any:
    return {
        name: client.get(f"/collections/{name}/documents").json()["documents"]
        for name in ("alpha", "beta")
    }


@pytest.fixture()
def unchanged(served: tuple[TestClient, Path]) -> Iterator[TestClient]:
    client, root = served
    before, files = stored(client), sorted(p.relative_to(root) for p in root.rglob("*"))
    yield client
    assert stored(client) == before
    after = sorted(p.relative_to(root) for p in root.rglob("*") if "jobs" not in p.parts)
    assert after == [p for p in files if "jobs" not in p.parts]


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/collections/alpha/search", b'{"query": "tides"', "not valid JSON"),
        ("/collections/alpha/search", b"\xff\xfe", "not valid JSON"),
        ("/collections/alpha/documents", b'{"documents": "x"}', "documents"),
        ("/collections/alpha/documents", b'{"documents": [{"id": 5, "text": "x"}]}', "id"),
        ("/collections/alpha/documents", b'{"documents": []}', "documents"),
        (
            "/collections/alpha/documents",
            b'{"documents": [{"id": "a", "text": "x", "evil": 1}]}',
            "evil",
        ),
        ("/collections/alpha/search", b'{"query": "x", "k": "many"}', "k"),
        ("/collections/alpha/search", b'{"query": ["x"]}', "query"),
        ("/collections", b'{"name": "../etc"}', "invalid collection name"),
        ("/collections", b'{"name": "UPPER"}', "invalid collection name"),
        ("/collections", b'{"name": "ok", "chunk_size": 16, "overlap": 40}', "overlap (40)"),
        ("/collections", b'{"name": "ok", "chunk_size": 1}', "chunk_size"),
        ("/collections/alpha/documents/delete", b"{}", "either 'ids' or 'filters'"),
        (
            "/collections/alpha/documents/delete",
            b'{"filters": {"year": {"regex": "."}}}',
            "unknown operator",
        ),
        ("/v1/chat/completions", b'{"model": "ragline/alpha", "messages": []}', "messages"),
        (
            "/v1/chat/completions",
            b'{"model": "ragline/alpha", "messages": [{"role": "system", "content": "x"}]}',
            "user message",
        ),
        ("/v1/embeddings", b'{"model": "ragline/alpha", "input": 5}', "input"),
    ],
)
def test_malformed_bodies_are_400(
    unchanged: TestClient, path: str, body: bytes, fragment: str
) -> None:
    reply = unchanged.post(path, content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400, reply.text
    assert fragment in error_of(reply)


def test_huge_body_is_413(unchanged: TestClient) -> None:
    huge = {"documents": [{"id": "big", "text": "x" * 30_000}]}
    reply = unchanged.post("/collections/alpha/documents", json=huge)
    assert reply.status_code == 413 and "over 20000 bytes" in error_of(reply)


def test_huge_chunked_body_is_413(unchanged: TestClient) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"documents": [{"id": "big", "text": "'
        for _ in range(40):
            yield b"x" * 1000
        yield b'"}]}'

    reply = unchanged.post(
        "/collections/alpha/documents", content=body(), headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413


def test_file_over_the_limit_and_too_many_files_are_413(unchanged: TestClient) -> None:
    big = unchanged.post(
        "/collections/alpha/uploads", files=[("files", ("big.txt", b"x" * 3000, "text/plain"))]
    )
    assert big.status_code == 413 and "big.txt: file over 2000 bytes" in error_of(big)
    many = [("files", (f"f{n}.txt", b"small", "text/plain")) for n in range(4)]
    assert unchanged.post("/collections/alpha/uploads", files=many).status_code == 413


@pytest.mark.parametrize(
    "name",
    [
        "../escape.txt",
        "../../etc/passwd.txt",
        "/etc/absolute.txt",
        "..\\windows.txt",
        "dir/inside.txt",
        ".hidden.txt",
        "..",
        "",
    ],
)
def test_file_names_that_are_paths_are_refused(unchanged: TestClient, name: str) -> None:
    reply = unchanged.post(
        "/collections/alpha/uploads", files=[("files", (name, b"Some text.", "text/plain"))]
    )
    assert reply.status_code in (400, 422), reply.text
    if reply.status_code == 400:
        error_of(reply)


@pytest.mark.parametrize(
    "name",
    [b"nul\x00byte.txt", b"line\rbreak.txt", b"tab\tname.txt", b"..\\up.txt"],
)
def test_raw_file_names_with_control_bytes_are_refused(unchanged: TestClient, name: bytes) -> None:
    """Sent as raw bytes (a client library would escape them) in a hand-made multipart body."""
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="'
        + name
        + b'"\r\nContent-Type: text/plain\r\n\r\nSome text.\r\n--XyZ--\r\n'
    )
    reply = unchanged.post(
        "/collections/alpha/uploads",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    if reply.status_code == 202:  # the multipart parser kept only a base name: never a path
        job = reply.json()
        assert all("/" not in f["name"] and "\\" not in f["name"] for f in job["files"])
        pytest.fail(f"accepted {name!r} as {job['files'][0]['name']!r}")
    assert reply.status_code == 400, reply.text
    error_of(reply)


def test_unsupported_file_type_and_duplicate_names(unchanged: TestClient) -> None:
    exe = unchanged.post(
        "/collections/alpha/uploads",
        files=[("files", ("tool.exe", b"MZ", "application/octet-stream"))],
    )
    assert exe.status_code == 400 and "unsupported file type" in error_of(exe)
    twice = [("files", ("a.txt", b"one", "text/plain")), ("files", ("a.txt", b"two", "text/plain"))]
    assert unchanged.post("/collections/alpha/uploads", files=twice).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/collections/nope"),
        ("POST", "/collections/nope/search"),
        ("GET", "/collections/nope/documents"),
        ("DELETE", "/collections/nope"),
        ("GET", "/collections/alpha/documents/no-such-doc"),
        ("GET", "/collections/alpha/jobs/no-such-job"),
        ("GET", "/collections/alpha/jobs/..%2F..%2Fkeys"),
        ("DELETE", "/collections/alpha/jobs/nope"),
    ],
)
def test_unknown_things_are_404(unchanged: TestClient, method: str, path: str) -> None:
    reply = unchanged.request(method, path, json={"query": "x"} if method == "POST" else None)
    assert reply.status_code == 404
    error_of(reply)


def test_filter_on_a_field_that_does_not_exist(unchanged: TestClient) -> None:
    gone = unchanged.post(
        "/collections/alpha/documents/delete", json={"filters": {"no_such_field": "x"}}
    )
    assert gone.status_code == 404 and error_of(gone) == "no document matched"
    hits = unchanged.post(
        "/collections/alpha/search", json={"query": "tides", "filters": {"no_such_field": "x"}}
    )
    assert hits.status_code == 200 and hits.json()["hits"] == []


def test_a_windows_path_becomes_its_base_name(served: tuple[TestClient, Path]) -> None:
    """The multipart parser keeps only the last part of ``C:\\dir\\name``: an id, not a path."""
    client, root = served
    reply = client.post(
        "/collections/beta/uploads",
        files=[("files", ("C:\\Users\\x\\report.txt", b"A report.", "text/plain"))],
    )
    assert reply.status_code == 202 and reply.json()["files"][0]["name"] == "report.txt"
    assert not list(root.rglob("*Users*"))
