"""``GET /collections/{name}/documents/{id}`` says where an uploaded PDF's pages start (the web
page shows the page and printed label of a cited sentence from them); unpaged documents have
none."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("pypdf")

from fastapi.testclient import TestClient  # noqa: E402

from ragline.keystore import KEYS_FILE, KeyStore  # noqa: E402
from ragline.serve.app import create_app  # noqa: E402

MANUAL = Path(__file__).resolve().parents[2] / "data" / "pdf" / "tide-manual.pdf"


def uploaded(client: TestClient, name: str, data: bytes) -> dict[str, Any]:
    job = client.post("/collections/docs/uploads", files=[("files", (name, data))]).json()
    deadline = time.monotonic() + 30
    while job["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        job = client.get(f"/collections/docs/jobs/{job['id']}").json()
    assert job["status"] == "done" and not job["errors"], job
    found: dict[str, Any] = client.get(f"/collections/docs/documents/{name}").json()
    return found


def test_a_pdf_document_tells_where_its_pages_start(tmp_path: Path) -> None:
    key, _ = KeyStore(tmp_path / KEYS_FILE).create("*", "admin")
    with TestClient(create_app(data=tmp_path, generator="extractive")) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        made = client.post("/collections", json={"name": "docs", "embedder": "hash-32"})
        assert made.status_code == 201, made.text
        manual = uploaded(client, "tide-manual.pdf", MANUAL.read_bytes())
        notes = uploaded(client, "notes.txt", b"Neap tides come at the quarters.")
    starts = manual["page_starts"]
    assert starts[0] == 0 and starts == sorted(starts) and len(starts) == 5
    labels = manual["metadata"]["page_labels"]
    last = manual["text"][starts[-1] :]
    assert (labels[-1], last.split("\n")[0]) == ("3", "3 Spring and neap tides")
    assert manual["chunks"][0]["page"] == 1
    assert notes["page_starts"] == []
