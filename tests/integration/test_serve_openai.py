"""The OpenAI-compatible routes: shapes in-process, then ragline's own OpenAI client against
a real ``ragline serve`` subprocess on 127.0.0.1 (extractive generator, hash encoder)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragline import Config, Document, KnowledgeBase
from ragline.documents import Chunk, Hit
from ragline.embed.fake import HashEncoder
from ragline.errors import RaglineError
from ragline.generate.base import Completion
from ragline.generate.extractive import ExtractiveGenerator
from ragline.generate.openai_http import OpenAIChatGenerator
from ragline.generate.prompt import ABSTAIN_TEXT, build_messages

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from ragline.serve.app import create_app  # noqa: E402

pytestmark = pytest.mark.integration

KEY_ENV = "RAGLINE_TEST_SERVE_KEY"
KEY = "k-7f3a9c"
STARTUP_SECONDS = 60
DOCS = [
    Document("tides", "Tides are caused by the gravity of the Moon and the Sun."),
    Document("pasta", "Boil pasta in salted water for nine minutes."),
]


def passage(doc_id: str, text: str, rank: int) -> Hit:
    return Hit(Chunk(f"{doc_id}#0", doc_id, text, 0, len(text), {"title": doc_id}), 1.0, rank, "")


QUESTION = "What are tides caused by?"
MESSAGES, _ = build_messages(
    QUESTION,
    [
        passage("pasta", "Boil pasta in salted water for nine minutes.", 1),
        passage("tides", "Tides are caused by the gravity of the Moon. They rise twice a day.", 2),
    ],
)
LOCAL = ExtractiveGenerator(encoder=HashEncoder())  # what the server's generator is


@pytest.fixture(scope="module")
def kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve-openai") / "kb"
    with KnowledgeBase.create(path, Config().with_overrides("embed", model="hash-64")) as kb:
        kb.add(DOCS)
    return path


# ---- in-process: response shapes ------------------------------------------------------------
@pytest.fixture(scope="module")
def client(kb_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(kb_path, generator="extractive")) as test_client:
        yield test_client


def sse_events(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def test_models(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["ragline/kb", "ragline"]
    assert body["data"][0]["object"] == "model"


def test_chat_completion_shape(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={"model": "ragline", "messages": MESSAGES})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "ragline" and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": LOCAL.generate(MESSAGES)}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_chat_stream_shape(client: TestClient) -> None:
    payload = {"messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    response = client.post("/v1/chat/completions", json=payload)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == LOCAL.generate(MESSAGES)
    finals = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finals[-1] == "stop" and set(finals[:-1]) == {None}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_chat_options(client: TestClient) -> None:
    full = LOCAL.generate(MESSAGES)
    assert " by " in full
    for stop in (" by ", [" by ", "zzz"]):
        body = client.post(
            "/v1/chat/completions",
            json={"messages": MESSAGES, "stop": stop, "max_tokens": 50, "seed": 3},
        ).json()
        assert body["choices"][0]["message"]["content"] == full[: full.index(" by ")]
    parts = [{**m, "content": [{"type": "text", "text": m["content"]}]} for m in MESSAGES]
    body = client.post("/v1/chat/completions", json={"messages": parts, "top_p": 0.9}).json()
    assert body["choices"][0]["message"]["content"] == full
    unrelated = [{"role": "user", "content": "Hello there"}]
    body = client.post("/v1/chat/completions", json={"messages": unrelated}).json()
    assert body["choices"][0]["message"]["content"] == ABSTAIN_TEXT


class Words:
    """A generator without ``complete`` that replies with :attr:`text`, at most
    ``max_new_tokens`` words of it; its tokens are words, as its ``encode`` says."""

    name = "words"
    text = "Tides are caused by the gravity of the Moon and the Sun."

    def generate(
        self, messages: list[dict], *, max_new_tokens: int = 256, **options: object
    ) -> str:
        return " ".join(self.text.split()[:max_new_tokens])

    def stream(self, messages: list[dict], **options: object) -> Iterator[str]:
        first, *rest = self.generate(messages, **options).split()
        yield from [first, *(f" {word}" for word in rest)]

    def encode(self, text: str) -> list[str]:
        return text.split()


@pytest.fixture(scope="module")
def words_client(kb_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(kb_path, generator=Words())) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("max_tokens", "reply", "finish"),
    [(5, "Tides are caused by the", "length"), (50, Words.text, "stop")],
)
def test_chat_finish_reason_says_whether_the_reply_was_cut(
    words_client: TestClient, max_tokens: int, reply: str, finish: str
) -> None:
    payload = {"messages": MESSAGES, "max_tokens": max_tokens}
    (choice,) = words_client.post("/v1/chat/completions", json=payload).json()["choices"]
    assert choice["message"]["content"] == reply and choice["finish_reason"] == finish
    response = words_client.post("/v1/chat/completions", json={**payload, "stream": True})
    chunks = [json.loads(e) for e in sse_events(response.text)[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == reply
    finals = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finals[-1] == finish and set(finals[:-1]) == {None}
    # ragline's own client reads the reason back, whole and streamed
    remote = OpenAIChatGenerator(str(words_client.base_url), "ragline")
    remote._client = words_client  # the in-process app instead of a socket
    pieces: list[str] = []
    assert remote.complete(MESSAGES, max_new_tokens=max_tokens) == Completion(reply, finish)
    streamed = remote.complete(MESSAGES, max_new_tokens=max_tokens, on_token=pieces.append)
    assert streamed == Completion(reply, finish) and "".join(pieces) == reply


class Breaking:
    """A generator that says a few words, then fails (or, with ``forever``, never ends and
    records when its stream is closed)."""

    name = "breaking"

    def __init__(self, forever: bool = False) -> None:
        self.forever = forever
        self.closed = threading.Event()

    def generate(self, messages: list[dict], **options: object) -> str:
        return "".join(self.stream(messages))

    def stream(self, messages: list[dict], **options: object) -> Iterator[str]:
        try:
            yield "Tides"
            while self.forever:
                yield " and"
                time.sleep(0.01)
            raise ConnectionError("upstream\nwent away")
        finally:
            self.closed.set()


def test_chat_stream_failing_midway_ends_with_an_error_event(kb_path: Path) -> None:
    with TestClient(create_app(kb_path, generator=Breaking())) as broken:
        response = broken.post("/v1/chat/completions", json={"messages": MESSAGES, "stream": True})
    assert response.status_code == 200
    *chunks, last = [json.loads(e) for e in sse_events(response.text)]
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == ["", "Tides"]
    assert last["error"]["type"] == "server_error"
    assert "upstream went away" in last["error"]["message"]


def test_an_abandoned_stream_stops_the_generator() -> None:
    from ragline.serve.openai import _relayed

    generator = Breaking(forever=True)
    relay = _relayed(generator, MESSAGES, {"max_new_tokens": 8})
    assert next(relay) == "Tides"
    relay.close()
    assert generator.closed.wait(timeout=10)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"messages": []}, "messages"),
        ({}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n=1"),
        ({"messages": [{"role": "user", "content": "x"}], "temperature": 9}, "temperature"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "stop": 5}, "stop"),
    ],
)
def test_chat_bad_requests(client: TestClient, payload: dict, fragment: str) -> None:
    response = client.post("/v1/chat/completions", json=payload)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert fragment in message and "\n" not in message


# ---- a real server, and ragline's OpenAI client ----------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-log") / "server.log"


@pytest.fixture(scope="module")
def server(kb_path: Path, log_path: Path) -> Iterator[str]:
    """``ragline serve`` in a subprocess, with an API key; yields its base URL."""
    port = free_port()
    env = {**os.environ, KEY_ENV: KEY, "NO_COLOR": "1", "TERM": "dumb"}
    command = [
        sys.executable,
        "-m",
        "ragline.cli",
        "serve",
        "--kb",
        str(kb_path),
        "--port",
        str(port),
        "--generator",
        "extractive",
        "--api-key-env",
        KEY_ENV,
    ]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"ragline serve exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ragline serve not up in {STARTUP_SECONDS} s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal
    assert process.returncode in (0, -signal.SIGTERM), log_path.read_text()


def test_real_server_prints_its_url_and_health_needs_no_key(server: str, log_path: Path) -> None:
    assert f"at {server} (generator extractive, API key required)" in log_path.read_text()
    assert httpx.get(f"{server}/health", timeout=5).json() == {"status": "ok"}
    assert httpx.get(f"{server}/info", timeout=5).status_code == 401


def test_openai_client_generate_and_stream(server: str) -> None:
    expected = LOCAL.generate(MESSAGES)
    assert "Moon" in expected and "[2]" in expected
    with OpenAIChatGenerator(server, "ragline", api_key=KEY, timeout=30) as remote:
        assert remote.generate(MESSAGES) == expected
        pieces = list(remote.stream(MESSAGES))
        assert pieces and "".join(pieces) == expected
        stop = [" by "]
        assert remote.generate(MESSAGES, stop=stop) == LOCAL.generate(MESSAGES, stop=stop)
        assert "".join(remote.stream(MESSAGES, stop=stop)) == LOCAL.generate(MESSAGES, stop=stop)


def test_real_server_answers_concurrent_clients(server: str) -> None:
    """4 threads x 5 requests (bounded), sharing one client: every reply is the right one."""
    from concurrent.futures import ThreadPoolExecutor

    expected = LOCAL.generate(MESSAGES)
    with (
        OpenAIChatGenerator(server, "ragline", api_key=KEY, timeout=30) as remote,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        replies = list(pool.map(lambda _: remote.generate(MESSAGES), range(20), timeout=60))
    assert replies == [expected] * 20


@pytest.mark.parametrize("key", ["wrong-key", ""])
def test_openai_client_wrong_key_is_401(server: str, key: str) -> None:
    with OpenAIChatGenerator(server, "ragline", api_key=key, timeout=30) as remote:
        with pytest.raises(RaglineError, match="401"):
            remote.generate(MESSAGES)
        with pytest.raises(RaglineError, match="401"):
            list(remote.stream(MESSAGES))


def test_real_server_search_and_ask(server: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    hits = httpx.post(
        f"{server}/search", json={"query": "boil pasta", "k": 1}, headers=headers, timeout=30
    ).json()["hits"]
    assert [hit["doc_id"] for hit in hits] == ["pasta"]
    answer = httpx.post(
        f"{server}/ask", json={"question": QUESTION}, headers=headers, timeout=30
    ).json()
    assert "Moon" in answer["answer"] and answer["citations"][0]["doc_id"] == "tides"


def test_serve_refuses_a_missing_knowledge_base(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ragline.cli", "serve", "--kb", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"ragline: error: {tmp_path / 'none'}: not a ragline knowledge base (no ragline.toml)"
    ]
