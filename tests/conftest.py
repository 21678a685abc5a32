"""Shared fixtures: a tiny corpus in several formats, a HashEncoder knowledge base, a CLI runner.

Everything here is model-free and fast: knowledge bases use ``HashEncoder`` (config
``embed.model = "hash-64"``), so tests never load a neural network unless they ask for one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_runs import run_cli
from ragline import Config, Document, KnowledgeBase

HASH_MODEL = "hash-64"
# pyproject's per-test timeout (600 s) guards the default suite; the slow recipes embed whole
# data sets and train for up to an hour per kind on 2 cores, bounded by their own subprocess
# timeouts, so they get this one instead
SLOW_TIMEOUT = 4 * 3600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests run under :data:`SLOW_TIMEOUT` unless they set their own."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


# Eight documents with disjoint vocabularies, so that each one is the clear answer to a
# query built from its own words, with metadata for filter tests.
CORPUS: list[Document] = [
    Document(
        "cats",
        "Cats purr when they are content. A kitten sleeps curled on a warm windowsill, "
        "whiskers twitching while it dreams.",
        {"year": 2018, "lang": "en", "topic": "animals"},
    ),
    Document(
        "volcanoes",
        "Magma rises through the crust and erupts as lava. Basalt forms when lava cools "
        "quickly near the surface of a volcano.",
        {"year": 2019, "lang": "en", "topic": "geology"},
    ),
    Document(
        "astronomy",
        "Telescopes observe distant galaxies. Nebulae glow with ionised hydrogen, and "
        "astronomers measure redshift to estimate cosmic distances.",
        {"year": 2020, "lang": "en", "topic": "science"},
    ),
    Document(
        "baking",
        "Sourdough bread needs flour, water, salt and a lively starter. Knead the dough "
        "and let it proof overnight before baking in a hot oven.",
        {"year": 2020, "lang": "fr", "topic": "food"},
    ),
    Document(
        "chess",
        "Grandmasters often open with the Sicilian defence. A knight fork wins material, "
        "and endgames reward an active king.",
        {"year": 2021, "lang": "de", "topic": "games"},
    ),
    Document(
        "oceans",
        "Coral reefs shelter clownfish and sea turtles. Tides are driven by the gravity "
        "of the moon pulling on seawater.",
        {"year": 2022, "lang": "en", "topic": "science"},
    ),
    Document(
        "trains",
        "Steam locomotives pulled freight wagons across the prairie railway, stopping at "
        "depots for coal and boiler water.",
        {"year": 2023, "lang": "de", "topic": "transport"},
    ),
    Document(
        "gardening",
        "Tomatoes need sunlight and compost. Prune the suckers, stake the vines and water "
        "the roots deeply during dry summers.",
        {"year": 2024, "lang": "fr", "topic": "food"},
    ),
]

# A query per document, made of words only that document contains.
QUERIES: dict[str, str] = {
    "cats": "kitten purr whiskers windowsill",
    "volcanoes": "magma lava basalt volcano",
    "astronomy": "telescopes galaxies nebulae redshift",
    "baking": "sourdough flour knead dough",
    "chess": "grandmasters sicilian knight endgames",
    "oceans": "coral reefs clownfish tides",
    "trains": "steam locomotives freight railway",
    "gardening": "tomatoes compost prune suckers",
}


def hash_config(**index: object) -> Config:
    """The default config with the model-free hash encoder (and index overrides)."""
    config = Config().with_overrides("embed", model=HASH_MODEL)
    return config.with_overrides("index", **index) if index else config


def build_pdf(text: str) -> bytes:
    """A minimal one-page PDF showing ``text`` in Helvetica (so tests need no PDF writer)."""
    content = b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("latin-1")
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def write_corpus(root: Path) -> dict[str, str]:
    """Write CORPUS under ``root`` as txt, md, html, jsonl and pdf files.

    Returns the knowledge-base document id of each CORPUS document (path-based for files,
    the record's own id for JSONL records).
    """
    docs = {d.id: d for d in CORPUS}
    root.mkdir(parents=True, exist_ok=True)
    (root / "notes").mkdir()
    (root / "cats.txt").write_text(docs["cats"].text, encoding="utf-8")
    (root / "volcanoes.md").write_text(
        "# Volcanoes\n\n" + docs["volcanoes"].text + "\n", encoding="utf-8"
    )
    (root / "astronomy.html").write_text(
        "<html><head><title>Astronomy</title></head><body><p>"
        + docs["astronomy"].text
        + "</p></body></html>",
        encoding="utf-8",
    )
    (root / "baking.txt").write_text(docs["baking"].text, encoding="utf-8")
    (root / "records.jsonl").write_text(
        "".join(
            json.dumps({"id": d.id, "text": d.text, "title": d.id}) + "\n"
            for d in (docs["chess"], docs["oceans"])
        ),
        encoding="utf-8",
    )
    (root / "trains.pdf").write_bytes(build_pdf(docs["trains"].text))
    (root / "notes" / "gardening.md").write_text(docs["gardening"].text, encoding="utf-8")
    name = root.name
    return {
        "cats": f"{name}/cats.txt",
        "volcanoes": f"{name}/volcanoes.md",
        "astronomy": f"{name}/astronomy.html",
        "baking": f"{name}/baking.txt",
        "chess": "chess",
        "oceans": "oceans",
        "trains": f"{name}/trains.pdf",
        "gardening": f"{name}/notes/gardening.md",
    }


@pytest.fixture
def corpus_ids(tmp_path: Path) -> dict[str, str]:
    """Write the corpus to ``tmp_path/corpus``; CORPUS id -> the document id loaders give it."""
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def corpus_dir(tmp_path: Path, corpus_ids: dict[str, str]) -> Path:
    """The tiny corpus written to ``tmp_path/corpus`` in five formats (8 documents)."""
    return tmp_path / "corpus"


@pytest.fixture(name="write_corpus", scope="session")
def write_corpus_fixture():
    """``write_corpus(root) -> ids``, for fixtures of wider scope than ``corpus_dir``."""
    return write_corpus


@pytest.fixture
def corpus_docs() -> list[Document]:
    """The eight CORPUS documents, with metadata (year, lang, topic)."""
    return list(CORPUS)


@pytest.fixture
def queries() -> dict[str, str]:
    """CORPUS id -> a query only that document matches."""
    return dict(QUERIES)


@pytest.fixture
def make_config():
    """``hash_config``: the default config with the hash encoder, plus index overrides."""
    return hash_config


@pytest.fixture
def kb_path(tmp_path: Path) -> Path:
    return tmp_path / "kb"


@pytest.fixture
def kb(kb_path: Path) -> Iterator[KnowledgeBase]:
    """An empty knowledge base using the hash encoder; closed after the test."""
    knowledge_base = KnowledgeBase.create(kb_path, hash_config())
    try:
        yield knowledge_base
    finally:
        knowledge_base.close()


@pytest.fixture
def docs_kb(kb: KnowledgeBase) -> KnowledgeBase:
    """``kb`` holding the eight CORPUS documents (with their metadata)."""
    report = kb.add(CORPUS)
    assert report.added == len(CORPUS) and not report.errors
    return kb


@pytest.fixture
def docs_kb_dir(tmp_path: Path, corpus_docs, run_cli) -> Path:
    """A knowledge base directory built by ``ragline index`` from the CORPUS documents
    (texts only, hash encoder)."""
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in corpus_docs))
    kb = tmp_path / "kb"
    assert run_cli("index", docs, "--kb", kb, "--embedder", "hash-64").returncode == 0
    return kb


@pytest.fixture(name="run_cli", scope="session")
def run_cli_fixture():
    """The ``run_cli`` helper (conftest modules are not importable by name across the tree)."""
    return run_cli


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny models run single-threaded: on a busy machine, syncing threads costs more than
    the arithmetic (a tiny training step took 8x longer with two threads)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
