"""``ragline serve`` under load, over loopback: a real server subprocess, many concurrent
connections, bounded in count and time.

5,000 searches at 32 concurrent connections while an upload job ingests files, then 500
asks answered by the extractive generator: no errors, and latency percentiles and
throughput printed and written as JSON (``$RAGLINE_LOAD_REPORT``, else the test's temporary
directory). Then the time to the first token of a streamed answer, by the extractive
generator and by the packaged SmolLM2 once loaded, with ``/health`` polled while SmolLM2
writes. The collection uses the hash encoder, so the figures measure the service
(routing, keys, retrieval, JSON), not an embedding model. A streamed answer shows a
sentence once it passes the support check, so its first token is its first checked
sentence, not the model's first token.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from ragline import Config, Document, KnowledgeBase  # noqa: E402
from ragline.keystore import KEYS_FILE, KeyStore  # noqa: E402
from serve_data import bearer  # noqa: E402
from serve_process import serving  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCIFACT = Path("/work/shared/data/scifact")
DOCUMENTS, UPLOADED = 2000, 150
SEARCHES, ASKS, CONCURRENCY = 5000, 500, 32
STORM_SECONDS = 900
"""No storm may take longer (a bound, not a target)."""

CONFIG = Config().with_overrides("embed", model="hash-256")


def scifact(limit: int) -> Iterator[dict[str, Any]]:
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as f:
        yield from islice(map(json.loads, f), limit)


def questions() -> list[str]:
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


@dataclass
class Storm:
    """Latencies of the requests that succeeded, and what failed."""

    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: list[str]

    def summary(self) -> dict[str, Any]:
        ms = sorted(x * 1000 for x in self.latencies)
        cut = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
        return {
            "requests": self.requests,
            "concurrency": CONCURRENCY,
            "errors": len(self.errors),
            "seconds": round(self.seconds, 2),
            "qps": round(self.requests / self.seconds, 1),
            "p50_ms": round(cut[49], 1),
            "p95_ms": round(cut[94], 1),
            "p99_ms": round(cut[98], 1),
            "max_ms": round(ms[-1], 1) if ms else None,
        }


async def storm(
    name: str, url: str, key: str, count: int, send: Callable[[Any, int], Awaitable[Any]]
) -> Storm:
    """``count`` requests made by ``send(client, n)`` over ``CONCURRENCY`` connections."""
    latencies: list[float] = []
    errors: list[str] = []
    numbers = iter(range(count))
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=url, headers=bearer(key), limits=limits, timeout=120
    ) as client:

        async def worker() -> None:
            for n in numbers:
                started = time.perf_counter()
                try:
                    reply = await send(client, n)
                except httpx.HTTPError as e:
                    errors.append(f"{type(e).__name__}: {e}")
                    continue
                if reply.status_code != 200:
                    errors.append(f"{reply.status_code}: {reply.text[:200]}")
                    continue
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(CONCURRENCY))), STORM_SECONDS
        )
    return Storm(name, count, time.perf_counter() - started, latencies, errors)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("load")
    docs = [Document(d["_id"], f"{d['title']}\n\n{d['text']}") for d in scifact(DOCUMENTS)]
    with KnowledgeBase.create(root / "scifact", CONFIG) as kb:
        kb.add(docs)
    key, _ = KeyStore(root / KEYS_FILE).create("*", "admin")
    return root, key


@pytest.fixture(scope="module")
def server(data: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root, _ = data
    log = tmp_path_factory.mktemp("load-log") / "serve.log"
    with serving("--data", root, "--generator", "smollm2", "--max-files", "500", log=log) as url:
        yield url


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The figures, written as JSON when the module's tests are done."""
    figures: dict[str, Any] = {}
    yield figures
    default = tmp_path_factory.mktemp("load-report") / "serve-load.json"
    path = Path(os.environ.get("RAGLINE_LOAD_REPORT", default))
    path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"\nload report: {path}\n{json.dumps(figures, indent=2)}")


def test_searches_while_an_upload_job_ingests(
    server: str, data: tuple[Path, str], report: dict[str, Any]
) -> None:
    _, key = data
    http = httpx.Client(base_url=server, headers=bearer(key), timeout=120)
    files = [
        ("files", (f"extra-{d['_id']}.txt", f"{d['title']}\n\n{d['text']}".encode(), "text/plain"))
        for d in islice(scifact(DOCUMENTS + UPLOADED), DOCUMENTS, None)
    ]
    job = http.post("/collections/scifact/uploads", files=files).json()
    assert job["status"] == "running"
    asked = questions()

    def search(client: Any, n: int) -> Awaitable[Any]:
        body = {"query": asked[n % len(asked)], "k": 10}
        return client.post("/collections/scifact/search", json=body)

    result = asyncio.run(storm("search", server, key, SEARCHES, search))
    job = http.get(f"/jobs/{job['id']}").json()
    report["search"] = result.summary() | {"job_during_storm": job["status"]}
    print("search:", report["search"])
    assert result.errors == [], result.errors[:5]
    deadline = time.monotonic() + 600
    while job["status"] == "running" and time.monotonic() < deadline:
        time.sleep(1)
        job = http.get(f"/jobs/{job['id']}").json()
    assert job["status"] == "done" and job["files_done"] == UPLOADED and not job["errors"]
    info = http.get("/collections/scifact").json()
    assert info["documents"] == DOCUMENTS + UPLOADED


def test_asks_by_the_extractive_generator(
    server: str, data: tuple[Path, str], report: dict[str, Any]
) -> None:
    _, key = data
    asked = questions()

    def ask(client: Any, n: int) -> Awaitable[Any]:
        body = {"question": asked[n % len(asked)], "generator": "extractive"}
        return client.post("/collections/scifact/ask", json=body)

    result = asyncio.run(storm("ask", server, key, ASKS, ask))
    report["ask_extractive"] = result.summary()
    print("ask:", report["ask_extractive"])
    assert result.errors == [], result.errors[:5]


def first_token_seconds(http: Any, body: dict[str, Any]) -> tuple[float, float, str]:
    """Seconds to the first ``token`` event of a streamed answer, to its end, and the text."""
    started = time.perf_counter()
    first, text = None, []
    with http.stream("POST", "/collections/scifact/ask/stream", json=body) as reply:
        assert reply.status_code == 200, reply.read()
        event = None
        for line in reply.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "token":
                first = first or time.perf_counter() - started
                text.append(json.loads(line.removeprefix("data: "))["text"])
            assert event != "error", line
    assert first is not None, "no token event"
    return first, time.perf_counter() - started, "".join(text)


def test_time_to_first_token_and_health_during_a_local_answer(
    server: str, data: tuple[Path, str], report: dict[str, Any]
) -> None:
    _, key = data
    http = httpx.Client(base_url=server, headers=bearer(key), timeout=600)
    asked = questions()[:3]
    figures: dict[str, Any] = {}
    for generator in ("extractive", "smollm2"):
        body = {"generator": generator, "max_new_tokens": 48}
        started = time.perf_counter()
        first_token_seconds(http, {"question": asked[0], **body})  # loads what it needs
        figures[f"{generator}_first_answer_s"] = round(time.perf_counter() - started, 2)
        runs = [first_token_seconds(http, {"question": q, **body}) for q in asked]
        figures[f"{generator}_ttft_ms"] = [round(r[0] * 1000) for r in runs]
        figures[f"{generator}_ttft_median_ms"] = round(statistics.median(r[0] for r in runs) * 1000)
        figures[f"{generator}_total_median_ms"] = round(
            statistics.median(r[1] for r in runs) * 1000
        )
    health = health_during(http, server, asked[0])
    figures["health_during_smollm2_answer"] = {
        "calls": len(health),
        "median_ms": statistics.median(health),
        "max_ms": max(health),
    }
    report["stream"] = figures
    print("stream:", figures)
    assert max(health) < 1000


def health_during(http: Any, url: str, question: str) -> list[int]:
    """/health latencies (ms) polled while SmolLM2 writes a long streamed answer."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"question": question, "generator": "smollm2", "max_new_tokens": 128}
    latencies = []
    with ThreadPoolExecutor(1) as pool, httpx.Client(base_url=url, timeout=30) as probe:
        answering = pool.submit(first_token_seconds, http, body)
        while not answering.done():
            started = time.perf_counter()
            assert probe.get("/health").status_code == 200
            latencies.append(round((time.perf_counter() - started) * 1000))
            time.sleep(0.1)
        answering.result()
    assert len(latencies) >= 5, "the answer was too quick to tell"
    return latencies
