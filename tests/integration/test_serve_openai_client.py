"""The official ``openai`` Python client against a real ``ragline serve --data`` subprocess
on 127.0.0.1: grounded completions carry their citations whole and streamed, models are
those the key may use, embeddings are the collection's own vectors. Keys are made with the
``ragline keys`` command, as a user would."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

openai = pytest.importorskip("openai")
httpx = pytest.importorskip("httpx")

from ragline.embed.fake import HashEncoder  # noqa: E402
from serve_data import QUESTION, make_data  # noqa: E402
from serve_process import serving  # noqa: E402

pytestmark = pytest.mark.integration


def ragline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragline.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("openai-client")
    make_data(root)
    return root


@pytest.fixture(scope="module")
def alpha_key(data: Path) -> str:
    done = ragline("keys", "create", "--data", str(data), "--collection", "alpha", "--role", "read")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("rl_") and key not in (data / "keys.json").read_text()
    return key


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "serve.log"


@pytest.fixture(scope="module")
def server(data: Path, log_path: Path) -> Iterator[str]:
    with serving("--data", data, "--generator", "extractive", log=log_path) as url:
        assert f"serving collections in {data} at {url} (API key required)" in log_path.read_text()
        yield url


@pytest.fixture(scope="module")
def client(server: str, alpha_key: str) -> Iterator[object]:
    with openai.OpenAI(base_url=f"{server}/v1", api_key=alpha_key, max_retries=0, timeout=60) as c:
        yield c


def test_whole_completion_carries_citations(client) -> None:  # type: ignore[no-untyped-def]
    reply = client.chat.completions.create(
        model="ragline/alpha", messages=[{"role": "user", "content": QUESTION}]
    )
    message = reply.choices[0].message
    assert "Moon" in message.content and "[1]" in message.content
    citations = message.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["doc_id"] == "tides"
    assert citations[0]["supported"] is True and len(citations[0]["span"]) == 2


def test_streamed_completion_carries_citations(client) -> None:  # type: ignore[no-untyped-def]
    whole = (
        client.chat.completions.create(
            model="ragline/alpha", messages=[{"role": "user", "content": QUESTION}]
        )
        .choices[0]
        .message
    )
    chunks = list(
        client.chat.completions.create(
            model="ragline/alpha", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == whole.model_extra["citations"]
    assert last.choices[0].delta.model_extra["citations"] == whole.model_extra["citations"]


def test_models_are_what_the_key_may_use(client) -> None:  # type: ignore[no-untyped-def]
    assert [m.id for m in client.models.list()] == ["ragline/alpha"]


def test_access_log_names_the_key_id_never_the_key(  # type: ignore[no-untyped-def]
    client, log_path: Path, alpha_key: str
) -> None:
    client.models.list()
    time.sleep(0.5)
    log = log_path.read_text()
    key_id = alpha_key.split("_")[1]
    assert "GET /v1/models 200" in log and f"key={key_id}" in log
    assert alpha_key not in log and alpha_key.split("_", 2)[2] not in log


def test_another_collection_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="ragline/beta", messages=[{"role": "user", "content": QUESTION}]
        )


def test_embeddings_match_ragline_vectors(client) -> None:  # type: ignore[no-untyped-def]
    texts = ["moon and tides", "boil the pasta"]
    got = client.embeddings.create(model="ragline/alpha", input=texts, encoding_format="float")
    vectors = np.array([d.embedding for d in got.data], dtype=np.float32)
    assert np.allclose(vectors, HashEncoder(64).encode_documents(texts), atol=1e-6)


def test_revoked_key_is_refused_by_the_running_server(server: str, data: Path) -> None:
    made = ragline(
        "keys", "create", "--data", str(data), "--collection", "*", "--role", "read", "--json"
    )
    import json

    created = json.loads(made.stdout)
    with openai.OpenAI(base_url=f"{server}/v1", api_key=created["key"], max_retries=0) as c:
        assert len(list(c.models.list())) == 2
        assert ragline("keys", "revoke", "--data", str(data), created["id"]).returncode == 0
        listed = json.loads(ragline("keys", "list", "--data", str(data), "--json").stdout)
        assert [k["revoked"] for k in listed["keys"] if k["id"] == created["id"]] == [True]
        with pytest.raises(openai.AuthenticationError):
            c.models.list()


def test_no_auth_refuses_a_public_address(data: Path) -> None:
    done = ragline("serve", "--data", str(data), "--no-auth", "--host", "0.0.0.0")
    assert done.returncode == 1
    assert "--no-auth serves only a loopback address" in done.stderr


def test_kb_without_a_key_needs_no_auth(data: Path) -> None:
    done = ragline("serve", "--kb", str(data / "alpha"))
    assert done.returncode == 1 and "--no-auth" in done.stderr
