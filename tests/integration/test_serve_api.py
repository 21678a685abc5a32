"""The HTTP API in-process (FastAPI TestClient): shapes, filters, cited answers, auth, errors.

Knowledge bases use the model-free hash encoder; the extractive generator is built over
the knowledge base's own encoder, so nothing here loads a neural model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ragline import Config, Document, KnowledgeBase
from ragline.embed.fake import HashEncoder
from ragline.generate.extractive import ExtractiveGenerator

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from ragline.serve.app import create_app  # noqa: E402

pytestmark = pytest.mark.integration

KEY = "s3cret-key"
DOCS = [
    Document(
        "tides",
        "Tides are caused by the gravity of the Moon and the Sun. Spring tides are higher.",
        {"topic": "science", "year": 2021, "lang": "en"},
    ),
    Document(
        "pasta",
        "Boil pasta in salted water for nine minutes. Drain it and add the sauce.",
        {"topic": "food", "year": 2019, "lang": "it"},
    ),
    Document(
        "volcano",
        "Magma rises through the crust and erupts as lava from the volcano.",
        {"topic": "science", "year": 2023, "lang": "en"},
    ),
    Document(
        "bread",
        "Sourdough bread needs flour, water, salt and a lively starter.",
        {"topic": "food", "year": 2024, "lang": "fr"},
    ),
]
HIT_KEYS = {"rank", "score", "doc_id", "chunk_id", "text", "span", "metadata", "scores"}


@pytest.fixture(scope="module")
def kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "kb"
    config = Config().with_overrides("embed", model="hash-64")
    with KnowledgeBase.create(path, config) as kb:
        kb.add(DOCS)
    return path


@pytest.fixture(scope="module")
def client(kb_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(kb_path, generator="extractive")) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def locked(kb_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(kb_path, generator="extractive", api_key=KEY)) as test_client:
        yield test_client


def error_of(response) -> str:  # type: ignore[no-untyped-def]
    """The one-line message of a JSON error reply (and check the shape while at it)."""
    body = response.json()
    error = body["error"]
    assert error["code"] == response.status_code and isinstance(error["type"], str)
    message = error["message"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_health_and_info(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    info = client.get("/info").json()
    assert info["documents"] == len(DOCS) and info["chunks"] >= len(DOCS)
    assert info["embedder"] == "hash-64" and info["generator"] == "extractive"


def test_search_matches_the_library_and_the_cli_shape(client: TestClient, kb_path: Path) -> None:
    response = client.post("/search", json={"query": "pasta salted water", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "pasta salted water" and len(body["hits"]) == 3
    assert all(set(hit) >= HIT_KEYS for hit in body["hits"])
    assert [hit["rank"] for hit in body["hits"]] == [1, 2, 3]
    assert body["hits"][0]["doc_id"] == "pasta"
    with KnowledgeBase.open(kb_path) as kb:
        expected = [hit.to_dict() for hit in kb.search("pasta salted water", k=3)]
    assert body["hits"] == json.loads(json.dumps(expected))


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_modes(client: TestClient, mode: str) -> None:
    body = client.post("/search", json={"query": "magma lava volcano", "k": 2, "mode": mode}).json()
    assert body["hits"][0]["doc_id"] == "volcano" and len(body["hits"]) <= 2


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        ({"topic": "food"}, {"pasta", "bread"}),
        ({"year": {"gte": 2021}, "topic": "science"}, {"tides", "volcano"}),
        ({"lang": {"in": ["it", "fr"]}}, {"pasta", "bread"}),
        (["lang=en", "year<2022"], {"tides"}),
    ],
)
def test_search_filters(client: TestClient, filters: object, allowed: set[str]) -> None:
    body = client.post(
        "/search", json={"query": "water gravity bread magma", "k": 10, "filters": filters}
    ).json()
    found = {hit["doc_id"] for hit in body["hits"]}
    assert found and found <= allowed


def test_search_fusion_score(client: TestClient) -> None:
    response = client.post("/search", json={"query": "sourdough", "k": 1, "fusion": "score"})
    assert response.status_code == 200 and response.json()["hits"][0]["doc_id"] == "bread"


def test_ask_extractive_returns_a_cited_answer(client: TestClient, kb_path: Path) -> None:
    question = "What are tides caused by?"
    response = client.post("/ask", json={"question": question, "generator": "extractive"})
    assert response.status_code == 200
    answer = response.json()
    assert not answer["abstained"] and "Moon" in answer["answer"]
    assert answer["citations"] and answer["citations"][0]["doc_id"] == "tides"
    assert all(c["supported"] for c in answer["citations"])
    assert {"n", "chunk_id", "doc_id", "span", "supported"} <= set(answer["citations"][0])
    assert answer["passages"][0]["n"] == 1 and answer["hops"][0]["query"] == question
    with KnowledgeBase.open(kb_path) as kb:
        expected = kb.ask(question, generator=ExtractiveGenerator(encoder=HashEncoder()))
    assert answer["answer"] == expected.text


def test_ask_options(client: TestClient) -> None:
    response = client.post(
        "/ask",
        json={
            "question": "What are tides caused by?",
            "k": 2,
            "hops": 2,
            "follow_up": "answer",
            "answer_style": "short",
            "filters": {"topic": "science"},
            "search_mode": "bm25",
        },
    )
    assert response.status_code == 200
    answer = response.json()
    assert len(answer["hops"]) == 2
    assert {p["doc_id"] for p in answer["passages"]} <= {"tides", "volcano"}


@pytest.mark.parametrize(
    ("route", "payload", "fragment"),
    [
        ("/search", {}, "query"),
        ("/search", {"query": "   "}, "blank"),
        ("/search", {"query": "x", "k": 0}, "k"),
        ("/search", {"query": "x", "mode": "fuzzy"}, "mode"),
        ("/search", {"query": "x", "fusion": "max"}, "fusion"),
        ("/search", {"query": "x", "top_k": 3}, "top_k"),
        ("/search", {"query": "x", "filters": {"year": {"approx": 1}}}, "approx"),
        ("/search", {"query": "x", "filters": ["no operator"]}, "no operator"),
        ("/ask", {"question": "x", "generator": "http://example.invalid"}, "not offered"),
        ("/ask", {"question": "x", "generator": "/etc/passwd"}, "not offered"),
        ("/ask", {"question": "x", "mode": "token"}, "token probabilities"),
        ("/ask", {"question": "x", "hops": 0}, "hops"),
        ("/ask", {"question": "x", "follow_up": "guess"}, "follow_up"),
        ("/ask", {"question": "x", "answer_style": "essay"}, "answer_style"),
    ],
)
def test_bad_requests_are_400_with_one_line(
    client: TestClient, route: str, payload: dict, fragment: str
) -> None:
    response = client.post(route, json=payload)
    assert response.status_code == 400
    assert fragment in error_of(response)


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/search", content=b'{"query": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "JSON" in error_of(response)


def test_unknown_route_is_404_and_wrong_method_405(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404 and "/nowhere" in error_of(response)
    response = client.post("/health")
    assert response.status_code == 405 and error_of(response)


def test_auth(locked: TestClient) -> None:
    assert locked.get("/health").status_code == 200  # always open
    for method, route, payload in [
        ("GET", "/info", None),
        ("POST", "/search", {"query": "pasta"}),
        ("POST", "/ask", {"question": "pasta?"}),
        ("GET", "/v1/models", None),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]}),
        ("GET", "/nowhere", None),
    ]:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            response = locked.request(method, route, json=payload, headers=headers)
            assert response.status_code == 401, (route, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert "API key" in error_of(response)
    good = {"Authorization": f"Bearer {KEY}"}
    assert locked.get("/info", headers=good).status_code == 200
    response = locked.post("/search", json={"query": "pasta", "k": 1}, headers=good)
    assert response.status_code == 200 and response.json()["hits"][0]["doc_id"] == "pasta"


class FailingGenerator:
    """A Generator whose backend is down."""

    name = "failing"

    def generate(self, messages: Sequence[dict], **options: object) -> str:
        raise ConnectionError("upstream model server\nis unreachable")

    def stream(self, messages: Sequence[dict], **options: object) -> Iterator[str]:
        raise ConnectionError("upstream model server\nis unreachable")
        yield ""  # a generator function, like real streaming backends


def test_generator_failure_is_500_without_traceback(kb_path: Path) -> None:
    with TestClient(create_app(kb_path, generator=FailingGenerator())) as failing:
        assert failing.get("/info").json()["generator"] == "failing"
        chat = {"messages": [{"role": "user", "content": "Question: why?"}]}
        for response in (
            failing.post("/ask", json={"question": "What are tides caused by?"}),
            failing.post("/v1/chat/completions", json=chat),
            failing.post("/v1/chat/completions", json={**chat, "stream": True}),
        ):
            assert response.status_code == 500
            message = error_of(response)
            assert "upstream model server is unreachable" in message
            assert error_of(response).startswith(("answering failed", "generator 'failing'"))
        # the server's own generator failing does not stop the others it offers
        ok = failing.post("/ask", json={"question": "What are tides?", "generator": "extractive"})
        assert ok.status_code == 200


def test_not_a_knowledge_base_is_refused(tmp_path: Path) -> None:
    from ragline.errors import RaglineError

    with pytest.raises(RaglineError, match="not a ragline knowledge base"):
        create_app(tmp_path)


def test_import_ragline_does_not_import_fastapi() -> None:
    code = (
        "import sys, ragline, ragline.cli, ragline.serve;"
        "print(','.join(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_an_unexpected_error_anywhere_is_the_json_500(kb_path: Path) -> None:
    app = create_app(kb_path, generator="extractive")

    @app.get("/broken")
    def broken() -> None:
        raise ZeroDivisionError("a bug outside every route's own handling")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        reply = test_client.get("/broken")
    assert reply.status_code == 500
    assert reply.json()["error"] == {
        "message": "GET /broken failed: ZeroDivisionError: a bug outside every route's own "
        "handling",
        "type": "server_error",
        "code": 500,
    }
