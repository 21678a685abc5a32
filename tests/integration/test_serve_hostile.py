"""Hostile requests to a ``--data`` server: bad JSON, wrong types, huge bodies, unknown
collections, file names that try to be paths, filters on fields that do not exist. Each
is refused with the one-line JSON error, and nothing stored changes."""

from __future__ import annotations

import inspect
import resource
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from cli_runs import run_cli  # noqa: E402
from ragline.keystore import KEYS_FILE, KeyStore  # noqa: E402
from ragline.serve.app import create_app  # noqa: E402
from ragline.serve.service import Limits  # noqa: E402
from serve_data import bearer, error_of, make_data  # noqa: E402
from serve_process import free_port, serving  # noqa: E402

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
    assert finished(client, reply.json())["status"] == "done"  # before the next test looks
    assert not list(root.rglob("*Users*"))


# ---- decompression bombs ------------------------------------------------------------------
def deflated(size: int, layers: int) -> bytes:
    """``size`` blank bytes (valid, empty page content) deflated ``layers`` times, made
    without ever holding them: each layer shrinks the last about a thousand times."""
    block = b" " * (1 << 20)
    packer = zlib.compressobj(1)
    data = b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()
    for _ in range(layers - 1):
        data = zlib.compress(data, 9)
    return data


def pdf_with(stream: bytes, layers: int, pages: int) -> bytes:
    """A minimal PDF whose ``pages`` pages all show one content stream."""
    filters = " ".join(["/FlateDecode"] * layers)
    kids = " ".join(f"{4 + n} 0 R" for n in range(pages))
    font = "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} /MediaBox [0 0 612 792] "
        f"/Resources {font} >>".encode(),
        f"<< /Length {len(stream)} /Filter [{filters}] >>\nstream\n".encode()
        + stream
        + b"\nendstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>"] * pages
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    return bytes(out + f"startxref\n{xref}\n%%EOF\n".encode())


def finished(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while job["status"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = client.get(f"/jobs/{job['id']}").json()
    return job


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(
    ("inflated", "layers", "pages", "reason"),
    [
        (256 << 20, 3, 1, "a stream inflates past a limit"),
        (6 << 20, 2, 12, "its pages inflate to over"),
    ],
    ids=["one-stream-of-256MB", "one-6MB-stream-on-12-pages"],
)
def test_a_pdf_bomb_is_refused_without_exhausting_memory(
    unchanged: TestClient, inflated: int, layers: int, pages: int, reason: str
) -> None:
    bomb = pdf_with(deflated(inflated, layers), layers, pages)
    assert len(bomb) <= LIMITS.max_file_bytes  # tiny: under the server's upload limit
    files = [
        ("files", ("bomb.pdf", bomb, "application/pdf")),
        ("files", ("fine.txt", b"A file that is fine.", "text/plain")),
    ]
    before = peak_rss_mb()
    reply = unchanged.post("/collections/alpha/uploads", files=files)
    assert reply.status_code == 202, reply.text
    job = finished(unchanged, reply.json())
    assert peak_rss_mb() - before < 150  # the bomb was not inflated in memory
    assert job["status"] == "done" and job["files_done"] == 2
    [error] = job["errors"]
    assert error["file"] == "bomb.pdf" and reason in error["reason"]
    assert "\n" not in error["reason"] and len(error["reason"]) < 300
    unchanged.delete("/collections/alpha/documents/fine.txt")  # stored data as it was


# ---- keys ---------------------------------------------------------------------------------
def test_an_expired_key_is_refused(served: tuple[TestClient, Path]) -> None:
    """Made by ``ragline keys create --expires`` with a lifetime of a second, then used."""
    client, root = served
    made = run_cli(
        "keys", "create", "--data", root, "--collection", "alpha", "--expires", "0.00001"
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    expires = next(r for r in KeyStore(root / KEYS_FILE).records() if key.startswith(f"rl_{r.id}_"))
    time.sleep(max(0.0, expires.expires - time.time()) + 0.1)
    reply = client.get("/collections/alpha", headers=bearer(key))
    assert reply.status_code == 401 and error_of(reply) == "invalid API key"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/collections/alpha/documents", None),
        ("POST", "/collections/alpha/search", {"query": "tides"}),
        ("POST", "/collections/alpha/documents", {"documents": [{"id": "x", "text": "Hi."}]}),
        ("DELETE", "/collections/alpha/documents/tides", None),
    ],
)
def test_a_key_anywhere_but_authorization_is_refused(
    unchanged: TestClient, method: str, path: str, body: Any
) -> None:
    key = unchanged.headers.pop("Authorization").removeprefix("Bearer ")
    try:
        for headers, params in (
            ({"X-API-Key": key}, None),
            ({"Api-Key": key}, None),
            ({"Authorization": key}, None),
            ({}, {"api_key": key}),
            ({}, {"key": key}),
            ({}, {"access_token": key}),
        ):
            reply = unchanged.request(method, path, headers=headers, params=params, json=body)
            assert reply.status_code == 401, (headers, params)
            assert "API key" in error_of(reply)
    finally:
        unchanged.headers["Authorization"] = f"Bearer {key}"


# ---- size limits from the command line ----------------------------------------------------
def test_serve_sets_its_size_limits_from_the_command_line(tmp_path: Path) -> None:
    helped = run_cli("serve", "-h")
    assert all(f"--max-{what}" in helped.stdout for what in ("request-mb", "file-mb", "files"))
    keys = make_data(tmp_path / "data")
    limits = ("--max-request-mb", "0.02", "--max-file-mb", "0.005", "--max-files", "2")
    with serving("--data", tmp_path / "data", *limits, log=tmp_path / "serve.log") as url:
        http = httpx.Client(base_url=url, headers=bearer(keys["*", "admin"]), timeout=30)

        def upload(*files: tuple[str, bytes]) -> httpx.Response:
            parts = [("files", (name, data, "text/plain")) for name, data in files]
            return http.post("/collections/alpha/uploads", files=parts)

        body = {"query": "tides", "filters": ["topic=" + "y" * 30_000]}
        big = http.post("/collections/alpha/search", json=body)
        assert big.status_code == 413 and "over 20972 bytes" in error_of(big)
        assert upload(("a.txt", b"a" * 6000)).status_code == 413  # over 5243 bytes
        assert upload(*[(f"{n}.txt", b"small") for n in range(3)]).status_code == 413
        assert upload(("a.txt", b"a" * 5000), ("b.txt", b"b")).status_code == 202


# ---- slow work does not hold up the event loop --------------------------------------------
class MatrixGenerator:
    """A generator that does real work for every word it writes: matrix products, which
    release the GIL as a model's layers do. It writes until ``done`` is set (or for at most
    ``seconds``), so the ask lasts as long as the test watches, on any machine."""

    name = "matrix"

    def __init__(self, seconds: float = 60.0, products: int = 3, size: int = 400) -> None:
        self.seconds, self.products, self.size = seconds, products, size
        self.done = threading.Event()

    def stream(self, messages: Any, *, max_new_tokens: int = 256, **options: Any) -> Any:
        weights = np.random.default_rng(0).standard_normal((self.size, self.size))
        state = np.eye(self.size)
        deadline = time.monotonic() + self.seconds
        n = 0
        while not self.done.is_set() and time.monotonic() < deadline:
            for _ in range(self.products):
                state = weights @ state
                state /= np.linalg.norm(state)
            yield f"word{n} "
            n += 1

    def generate(self, messages: Any, **options: Any) -> str:
        return "".join(self.stream(messages, **options))


@contextmanager
def uvicorn_serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port from a thread of this process."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_health_stays_fast_during_a_long_ask_and_slow_key_checks(tmp_path: Path) -> None:
    """While an answer takes seconds of generator work and requests with a wrong secret for
    a real key each cost a scrypt hash, /health still answers at once."""
    keys = make_data(tmp_path)
    key_id = keys["alpha", "read"].split("_")[1]
    wrong = bearer(f"rl_{key_id}_not-the-secret")
    generator = MatrixGenerator()
    app = create_app(data=tmp_path, generator=generator)
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        ask = {"question": "What are tides caused by?"}
        with ThreadPoolExecutor(16) as pool:
            asking = pool.submit(
                http.post, "/collections/alpha/ask", json=ask, headers=bearer(keys["alpha", "read"])
            )
            refused = [pool.submit(http.get, "/collections", headers=wrong) for _ in range(8)]
            latencies = []
            while not asking.done():
                started = time.perf_counter()
                assert http.get("/health").status_code == 200
                latencies.append(time.perf_counter() - started)
                if len(latencies) == 10:
                    generator.done.set()
                time.sleep(0.05)
            assert all(r.result().status_code == 401 for r in refused)
        answer = asking.result()
    assert answer.status_code == 200, answer.text
    assert len(latencies) >= 10, "the ask ended before the test let it (60 s of /health calls)"
    print(f"/health during the ask: {len(latencies)} calls, max {max(latencies) * 1000:.0f} ms")
    # Quiet, the slowest is a few ms; the bound leaves room for a machine shared with other
    # jobs. Checked in the event loop, the keys alone held /health up for 2 s here.
    assert max(latencies) < 1.0


def test_the_command_line_defaults_are_the_services() -> None:
    from ragline.cli.serve import serve

    defaults = {n: p.default for n, p in inspect.signature(serve).parameters.items()}
    limits, megabyte = Limits(), 1024 * 1024
    assert defaults["max_request_mb"] * megabyte == limits.max_request_bytes
    assert defaults["max_file_mb"] * megabyte == limits.max_file_bytes
    assert defaults["max_files"] == limits.max_files
