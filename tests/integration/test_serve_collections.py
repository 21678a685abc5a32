"""Every route of a ``--data`` server, in-process (TestClient): collections, search, ask
(whole and streamed), documents, upload jobs, OpenAI-compatible routes, health, metrics, docs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from ragline import KnowledgeBase  # noqa: E402
from ragline.embed.fake import HashEncoder  # noqa: E402
from ragline.generate.extractive import ExtractiveGenerator  # noqa: E402
from ragline.serve.app import create_app  # noqa: E402
from serve_data import DOCS, QUESTION, bearer, error_of, make_data  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture()
def data(tmp_path: Path) -> tuple[Path, dict[tuple[str, str], str]]:
    return tmp_path, make_data(tmp_path)


@pytest.fixture()
def client(data: tuple[Path, dict[tuple[str, str], str]]) -> Iterator[TestClient]:
    root, keys = data
    with TestClient(create_app(data=root, generator="extractive")) as test_client:
        test_client.headers.update(bearer(keys["*", "admin"]))
        yield test_client


def wait_for(client: TestClient, name: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = client.get(f"/collections/{name}/jobs/{job_id}").json()
        if job["status"] != "running":
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running")


def sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_health_needs_no_key(data: tuple[Path, dict[tuple[str, str], str]]) -> None:
    with TestClient(create_app(data=data[0])) as anonymous:
        assert anonymous.get("/health").json() == {"status": "ok"}
        assert anonymous.get("/collections").status_code == 401


def test_collections_list_create_info_delete(client: TestClient, data: Any) -> None:
    listed = client.get("/collections").json()["collections"]
    assert [(c["name"], c["documents"]) for c in listed] == [("alpha", 2), ("beta", 2)]
    made = client.post(
        "/collections",
        json={"name": "gamma", "embedder": "hash-32", "chunker": "fixed", "chunk_size": 64},
    )
    assert made.status_code == 201, made.text
    assert made.json()["config"]["chunk"] == {**made.json()["config"]["chunk"], "size": 64}
    info = client.get("/collections/gamma").json()
    assert info["name"] == "gamma" and info["documents"] == 0 and info["embedder"] == "hash-32"
    assert client.post("/collections", json={"name": "gamma"}).status_code == 409
    assert client.delete("/collections/gamma").json() == {"deleted": "gamma"}
    assert not (data[0] / "gamma").exists()
    assert client.get("/collections/gamma").status_code == 404


def test_search_and_ask_match_the_library(client: TestClient, data: Any) -> None:
    hits = client.post("/collections/alpha/search", json={"query": "boil pasta", "k": 1}).json()
    assert [h["doc_id"] for h in hits["hits"]] == ["pasta"]
    answer = client.post("/collections/alpha/ask", json={"question": QUESTION}).json()
    with KnowledgeBase.open(data[0] / "alpha") as kb:
        expected = kb.ask(QUESTION, generator=ExtractiveGenerator(encoder=kb.encoder))
    assert answer["answer"] == expected.text and "[1]" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "tides"


def test_ask_stream_sends_tokens_then_citations_then_done(client: TestClient) -> None:
    whole = client.post("/collections/alpha/ask", json={"question": QUESTION}).json()
    reply = client.post("/collections/alpha/ask/stream", json={"question": QUESTION})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event")
    events = sse(reply.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"token"}
    assert "".join(d["text"] for n, d in events if n == "token") == whole["answer"]
    assert events[-2][1] == whole["citations"] and events[-2][1][0]["supported"] is True
    assert events[-1][1]["answer"] == whole["answer"]


def test_documents_add_list_get_delete(client: TestClient) -> None:
    added = client.post(
        "/collections/alpha/documents",
        json={
            "documents": [
                {"id": "bread", "text": "Sourdough needs a starter.", "metadata": {"topic": "food"}}
            ]
        },
    ).json()
    assert added["added"] == 1 and added["chunks"] >= 1
    page = client.get("/collections/alpha/documents", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 3 and [d["id"] for d in page["documents"]] == ["pasta", "tides"]
    assert page["documents"][0]["metadata"] == {"topic": "food", "year": 2019}
    doc = client.get("/collections/alpha/documents/tides").json()
    assert doc["text"] == DOCS[0].text
    assert [c["span"] for c in doc["chunks"]][0][0] == 0
    assert client.delete("/collections/alpha/documents/bread").json() == {"deleted": 1}
    assert client.delete("/collections/alpha/documents/bread").status_code == 404
    gone = client.post("/collections/alpha/documents/delete", json={"filters": {"topic": "food"}})
    assert gone.json() == {"deleted": 1}
    again = client.post("/collections/alpha/documents/delete", json={"ids": ["pasta", "nope"]})
    assert again.status_code == 404 and "no document matched" in error_of(again)
    assert client.post("/collections/alpha/documents/delete", json={"ids": ["tides"]}).json() == {
        "deleted": 1
    }
    assert client.get("/collections/alpha/documents").json()["total"] == 0


def test_upload_job_progress_and_per_file_errors(client: TestClient) -> None:
    files = [
        (
            "files",
            ("notes.md", b"# Bread\n\nSourdough bread needs a lively starter.", "text/markdown"),
        ),
        ("files", ("empty.txt", b"", "text/plain")),
    ]
    started = client.post("/collections/beta/uploads", files=files)
    assert started.status_code == 202 and started.json()["files_total"] == 2
    job = wait_for(client, "beta", started.json()["id"])
    assert job["status"] == "done" and job["files_done"] == 2 and job["chunks"] >= 1
    assert [f["status"] for f in job["files"]] == ["done", "error"]
    assert job["errors"] == [{"file": "empty.txt", "reason": "empty file"}]
    doc = client.get("/collections/beta/documents/notes.md").json()
    assert doc["metadata"]["source"] == "notes.md" and "path" not in doc["metadata"]
    assert [j["id"] for j in client.get("/collections/beta/jobs").json()["jobs"]] == [job["id"]]


def test_cancel_keeps_what_was_committed(client: TestClient) -> None:
    files = [
        ("files", (f"f{n}.txt", f"File {n} talks about topic {n}.".encode(), "text/plain"))
        for n in range(40)
    ]
    job_id = client.post("/collections/beta/uploads", files=files).json()["id"]
    assert client.delete(f"/collections/beta/jobs/{job_id}").status_code == 200
    job = wait_for(client, "beta", job_id)
    assert job["status"] in ("cancelled", "done")
    done = sum(f["status"] == "done" for f in job["files"])
    assert client.get("/collections/beta/documents").json()["total"] == 2 + done


def test_a_restart_keeps_finished_jobs_and_ends_running_ones(data: Any) -> None:
    root, keys = data
    headers = bearer(keys["*", "admin"])
    with TestClient(create_app(data=root, generator="extractive"), headers=headers) as first:
        job_id = first.post(
            "/collections/alpha/uploads",
            files=[("files", ("a.txt", b"Apples are red.", "text/plain"))],
        ).json()["id"]
        wait_for(first, "alpha", job_id)
    stale = json.loads((root / "alpha" / "jobs" / f"{job_id}.json").read_text())
    stale.update(id="0" * 32, status="running", finished=None)
    (root / "alpha" / "jobs" / f"{'0' * 32}.json").write_text(json.dumps(stale))
    with TestClient(create_app(data=root, generator="extractive"), headers=headers) as second:
        assert second.get(f"/collections/alpha/jobs/{job_id}").json()["status"] == "done"
        assert second.get("/collections/alpha/documents/a.txt").status_code == 200
        interrupted = second.get(f"/collections/alpha/jobs/{'0' * 32}").json()
        assert interrupted["status"] == "interrupted" and interrupted["finished"]


def test_openai_routes_in_process(client: TestClient) -> None:
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == [
        "ragline/alpha",
        "ragline/beta",
    ]
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.post(
        "/v1/chat/completions", json={"model": "ragline/alpha", "messages": messages}
    )
    body = whole.json()
    assert "[1]" in body["choices"][0]["message"]["content"]
    assert body["choices"][0]["message"]["citations"][0]["doc_id"] == "tides"
    assert body["citations"] == body["choices"][0]["message"]["citations"]
    unknown = client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": messages})
    assert unknown.status_code == 404 and "no model" in error_of(unknown)
    vectors = client.post(
        "/v1/embeddings", json={"model": "ragline/alpha", "input": ["moon tides", "salted water"]}
    )
    got = [d["embedding"] for d in vectors.json()["data"]]
    expected = HashEncoder(64).encode_documents(["moon tides", "salted water"])
    assert np.allclose(np.array(got), expected, atol=1e-6) and np.abs(expected).sum() > 0


def test_metrics_docs_and_access_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="ragline.serve.access"):
        client.post("/collections/alpha/search", json={"query": "tides"})
    line = caplog.records[-1].getMessage()
    assert line.startswith("POST /collections/{name}/search 200 ") and "key=" in line
    key = client.headers["authorization"].split()[1]
    assert key not in caplog.text and key.split("_")[1] in line
    text = client.get("/metrics").text
    assert (
        'ragline_requests_total{method="POST",route="/collections/{name}/search",status="200"}'
        in text
    )
    assert 'ragline_request_seconds_bucket{le="0.005",route="/collections/{name}/search"}' in text
    assert (
        'ragline_documents{collection="alpha"} 2.0' in text and "ragline_jobs_running 0.0" in text
    )
    anonymous = TestClient(client.app)
    page = anonymous.get("/docs")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert anonymous.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert "/collections/{name}/uploads" in anonymous.get("/openapi.json").json()["paths"]


def test_deleting_a_collection_stops_its_jobs_first(client: TestClient, data: Any) -> None:
    files = [
        ("files", (f"f{n}.txt", f"File {n} is about topic {n}.".encode(), "text/plain"))
        for n in range(40)
    ]
    assert client.post("/collections/beta/uploads", files=files).status_code == 202
    assert client.delete("/collections/beta").json() == {"deleted": "beta"}
    assert not (data[0] / "beta").exists()
    assert client.app.state.service.jobs.counts() == 0  # type: ignore[attr-defined]
    assert [c["name"] for c in client.get("/collections").json()["collections"]] == ["alpha"]
