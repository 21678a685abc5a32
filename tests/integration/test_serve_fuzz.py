"""The service fuzzed from its own OpenAPI schema (schemathesis): every operation, with
requests that fit the schema and requests that do not, as an admin and as a reader.

No reply may be a 5xx, every reply must match the schema (status declared, body of the
declared shape), the server must stay up, and stored data may change only by valid writes:
an admin key scoped to ``alpha`` leaves ``beta`` as it was, a read key leaves both.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.openapi.checks import RejectedPositiveData  # noqa: E402

from ragline.serve.app import create_app  # noqa: E402
from ragline.serve.service import Limits  # noqa: E402
from serve_data import COLLECTIONS, bearer, make_data  # noqa: E402

pytestmark = pytest.mark.integration

EXAMPLES = 5
"""Examples per operation, generation mode and collection: bounds the test's time."""

LIMITS = Limits(max_request_bytes=200_000, max_file_bytes=50_000, max_files=5)


CHECKS = schemathesis.Config.from_dict(
    {
        "checks": {
            # A body over the size limit is refused with a 413.
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "405", "409", "413"]
            },
        }
    }
)


SEMANTIC = re.compile(
    "is not offered here|must be smaller than chunk_size|needs a user message with text"
)
"""Refusals of schema-valid requests for reasons a JSON schema cannot state: a generator
this server does not offer, an overlap not under the chunk size, a chat without a user's
words. Anything else refused although valid is a failure."""


@dataclass
class Tally:
    """Requests sent, schema-valid ones refused for a semantic reason, and failed checks."""

    requests: int = 0
    semantic: int = 0
    failures: list[str] = field(default_factory=list)

    def record(self, case: Any, response: Any, failures: list[Any]) -> None:
        for failure in failures:
            if isinstance(failure, RejectedPositiveData) and SEMANTIC.search(response.text):
                self.semantic += 1
                continue
            words = " ".join(f"{failure.title}: {failure.message}".split())[:200]
            self.failures.append(
                f"{case.operation.label} -> {response.status_code}: {words} {response.text[:200]}"
            )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[Any, str]]]:
    root = tmp_path_factory.mktemp("fuzz")
    keys = make_data(root)
    app = create_app(data=root, generator="extractive", limits=LIMITS)
    yield app, keys


def stored(client: TestClient, admin: str) -> dict[str, Any]:
    """Each collection's documents and jobs, as an admin sees them."""

    def read(path: str) -> Any:
        return client.get(path, headers=bearer(admin)).json()

    names = [c["name"] for c in read("/collections")["collections"]]
    return {
        name: (
            read(f"/collections/{name}/documents"),
            [job["id"] for job in read(f"/collections/{name}/jobs")["jobs"]],
        )
        for name in names
    }


def fuzz(app: Any, key: str, collections: tuple[str, ...], tally: Tally) -> None:
    """Every operation, positive and negative, with ``key``; path names ``collections``."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CHECKS)
    auth = bearer(key)
    for result in schema.get_all_operations():
        operation = result.ok()
        names: tuple[str | None, ...] = (None,)
        if "{name}" in operation.path:
            names = (*collections, None)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for name in names:
                fixed = {"name": name} if name else None
                strategy = operation.as_strategy(mode, headers=auth, path_parameters=fixed)
                run_examples(strategy, auth, tally)


def run_examples(strategy: Any, auth: dict[str, str], tally: Tally) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        tally.requests += 1
        try:
            response = case.call(headers=auth)
        except Exception as e:  # noqa: BLE001 - the app raised: what a real server sends as a bare 500
            tally.failures.append(f"{case.operation.label}: raised {type(e).__name__}: {e}"[:200])
            return
        try:
            case.validate_response(response, headers=auth)
        except FailureGroup as group:
            tally.record(case, response, list(group.exceptions))

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: no inputs
        one()


def settled(app: Any) -> None:
    """Wait for the upload jobs the fuzzer started (what they add are valid writes)."""
    deadline = time.monotonic() + 120
    while app.state.service.jobs.counts() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_fuzzed_from_the_schema(served: tuple[Any, dict[Any, str]]) -> None:
    app, keys = served
    admin = keys["*", "admin"]
    with TestClient(app) as client:
        before = stored(client, admin)
    tally = Tally()
    fuzz(app, keys["alpha", "admin"], ("alpha",), tally)
    settled(app)
    with TestClient(app) as client:
        middle = stored(client, admin)
        assert middle["beta"] == before["beta"]
    fuzz(app, keys["*", "read"], COLLECTIONS, tally)
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert stored(client, admin) == middle
    print(
        f"fuzzing: {tally.requests} requests, {len(tally.failures)} failures, "
        f"{tally.semantic} schema-valid requests refused for a semantic reason"
    )
    distinct = sorted(Counter(tally.failures).items())
    assert not distinct, "\n".join(f"{n} x {what}" for what, n in distinct)
