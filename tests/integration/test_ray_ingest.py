"""``ragline index --ray``: Ray workers read, chunk and embed; the driver commits. The result
must be the catalog in-process indexing makes (same documents, chunk ids, texts, spans, commit
order and vectors), re-running adds nothing, a worker killed mid-batch loses and duplicates
nothing, and a bad file is reported while the rest goes on.

One local Ray (2 CPUs) serves the whole module; the CLI test joins it by address.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_runs import run_cli
from ragline.config import Config
from ragline.distributed.workers import ChunkEmbedder
from ragline.manage import IndexingResult, index_paths
from ragline.store.layout import CATALOG_FILE

pytestmark = pytest.mark.integration
ray = pytest.importorskip("ray")

HASH = Config.from_dict({"embed": {"model": "hash-64"}})
BATCH = 4  # documents per actor call: several batches over both actors


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray for this module's tests; its address, for a CLI run to join."""
    ray.init(
        num_cpus=2,
        object_store_memory=200 * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
    )
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Twenty-odd files in folders, of three types, one JSONL of records, one broken PDF."""
    root = tmp_path / "corpus"
    for n in range(18):
        folder = root / f"topic{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        body = " ".join(f"Sentence {k} of note {n} is about subject {n % 5}." for k in range(n + 3))
        (folder / f"note{n:02d}.md").write_text(f"# Note {n}\n\n{body}\n\n## Part two\n\n{body}\n")
    (root / "plain.txt").write_text("A plain text file about rivers and bridges.\n")
    records = [{"id": f"r{k}", "text": f"Record {k} mentions a lighthouse."} for k in range(5)]
    (root / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    return root


def rows(kb: Path) -> dict[str, Any]:
    """Everything the catalog holds that indexing decides, in commit (row id) order."""
    with sqlite3.connect(kb / CATALOG_FILE) as db:
        documents = db.execute(
            "SELECT id, hash, text, metadata, page_starts, chunks FROM documents ORDER BY rowid"
        ).fetchall()
        chunks = db.execute(
            "SELECT id, chunk_id, doc_id, ordinal, start, end, text, metadata, header "
            "FROM chunks ORDER BY id"
        ).fetchall()
        blobs = db.execute("SELECT vector FROM chunks ORDER BY id").fetchall()
    vectors = np.stack([np.frombuffer(blob, dtype=np.float32) for (blob,) in blobs])
    return {"documents": documents, "chunks": chunks, "vectors": vectors}


def assert_same_catalog(ray_kb: Path, local_kb: Path, atol: float = 0.0) -> None:
    got, want = rows(ray_kb), rows(local_kb)
    assert got["documents"] == want["documents"]
    assert got["chunks"] == want["chunks"]
    np.testing.assert_allclose(got["vectors"], want["vectors"], atol=atol, rtol=0)


def index_on_ray(
    kb: Path, corpus: Path, config: Config = HASH, *, embedder: type = ChunkEmbedder, **options: Any
) -> IndexingResult:
    """``index_paths`` with 2 actors on the module's Ray."""
    from ragline.distributed.ray_ingest import RayReader

    reader = RayReader(actors=2, embedder=embedder, batch_size=BATCH)
    return index_paths(kb, [corpus], config, reader=reader, **options)


def test_ray_catalog_is_the_in_process_one_and_a_rerun_adds_nothing(
    ray_cluster: str, corpus: Path, tmp_path: Path
) -> None:
    local = index_paths(tmp_path / "local", [corpus], HASH)
    seen: list[tuple[int, int]] = []
    on_ray = index_on_ray(
        tmp_path / "ray", corpus, on_input=lambda done, total: seen.append((done, total))
    )
    assert_same_catalog(tmp_path / "ray", tmp_path / "local")
    assert (on_ray.report.added, on_ray.report.chunks) == (local.report.added, local.report.chunks)
    assert on_ray.report.added == 18 + 1 + 5
    assert seen[-1] == (on_ray.scan.files, on_ray.scan.files) == (21, 21)
    # the broken file is reported in one line, as in-process, and the rest went on
    [error], [want] = on_ray.report.errors, local.report.errors
    assert (error.source, error.reason) == (want.source, want.reason)
    assert error.source == str(corpus / "broken.pdf") and "\n" not in error.reason

    again = index_on_ray(tmp_path / "ray", corpus)
    assert (again.report.added, again.report.updated, again.report.unchanged) == (0, 0, 24)
    assert_same_catalog(tmp_path / "ray", tmp_path / "local")


@pytest.mark.slow
def test_a_changed_file_is_replaced_alone(ray_cluster: str, corpus: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    index_on_ray(kb, corpus)
    (corpus / "plain.txt").write_text("A plain text file about rivers, bridges and ferries.\n")
    changed = index_on_ray(kb, corpus)
    assert (changed.report.added, changed.report.updated, changed.report.unchanged) == (0, 1, 23)
    here = index_paths(kb, [corpus], HASH)  # in-process indexing names the files alike
    assert (here.report.indexed, here.report.unchanged) == (0, 24)


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    ray_cluster: str, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "die-once"
    marker.touch()

    class DiesOnce(ChunkEmbedder):
        """Does a batch's work, then (the first time only, in whichever actor gets there)
        dies before handing it back: Ray restarts the actor and retries the batch."""

        def __call__(self, batch: Any) -> dict[str, list[Any]]:
            done = super().__call__(batch)
            try:
                marker.unlink()
            except FileNotFoundError:
                return done
            os._exit(1)

    on_ray = index_on_ray(tmp_path / "ray", corpus, embedder=DiesOnce)
    assert not marker.exists()  # a worker did die
    assert "died" not in capsys.readouterr().out  # Ray's note of it is a log: on stderr
    index_paths(tmp_path / "local", [corpus], HASH)
    assert_same_catalog(tmp_path / "ray", tmp_path / "local")
    assert on_ray.report.added == on_ray.documents == 24
    assert len({chunk[1] for chunk in rows(tmp_path / "ray")["chunks"]}) == on_ray.chunks


def test_cli_index_joins_a_ray_cluster(ray_cluster: str, corpus: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    done = run_cli(
        "index", corpus, "--kb", kb, "--embedder", "hash-64", "--ray", ray_cluster, "--json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["added"], report["documents"]) == (24, 24)
    assert [e["source"] for e in report["errors"]] == [str(corpus / "broken.pdf")]
    index_paths(tmp_path / "local", [corpus], HASH)
    assert_same_catalog(kb, tmp_path / "local")


@pytest.mark.slow
def test_minilm_vectors_match_in_process(ray_cluster: str, tmp_path: Path) -> None:
    """The packaged MiniLM in two actors embeds what it embeds in-process (batches differ, so
    within float tolerance)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n, topic in enumerate(["tides", "glaciers", "orchards", "comets", "bees", "kilns"]):
        (corpus / f"{topic}.txt").write_text(f"Notes on {topic}. " * (5 + 20 * n))
    index_paths(tmp_path / "local", [corpus], Config())
    index_on_ray(tmp_path / "ray", corpus, Config())
    assert_same_catalog(tmp_path / "ray", tmp_path / "local", atol=1e-5)


def test_an_address_where_nothing_answers_is_refused_in_one_line(
    corpus: Path, tmp_path: Path
) -> None:
    kb = tmp_path / "kb"
    done = run_cli("index", corpus, "--kb", kb, "--embedder", "hash-64", "--ray", "127.0.0.1:1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "ragline: error: --ray 127.0.0.1:1: cannot reach the cluster (connection refused)"
    ]
    assert not kb.exists()
