"""A knowledge base records the model, not the backend: one built with PyTorch is searched
with OpenVINO (and back) with the same results, and the stored-config check lets it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ragline import Config, KnowledgeBase
from ragline.config import EmbedConfig
from ragline.errors import ConfigMismatchError

pytest.importorskip("openvino")

TORCH = Config(embed=EmbedConfig(model="minilm", backend="torch"))


def backend(name: str) -> Config:
    return replace(TORCH, embed=replace(TORCH.embed, backend=name))


@pytest.fixture(scope="module")
def torch_kb(tmp_path_factory: pytest.TempPathFactory, write_corpus) -> Path:
    root = tmp_path_factory.mktemp("switch")
    write_corpus(root / "corpus")
    with KnowledgeBase.create(root / "kb", TORCH) as kb:
        kb.add([root / "corpus"])
    return root / "kb"


def _dense_hits(kb: KnowledgeBase, queries: dict[str, str]) -> list[list[tuple[str, float]]]:
    return [
        [(hit.chunk.doc_id, hit.score) for hit in kb.search(query, k=5, mode="dense")]
        for query in queries.values()
    ]


def test_openvino_searches_a_torch_built_base_alike(torch_kb: Path, queries: dict[str, str]):
    with KnowledgeBase.open(torch_kb) as kb:
        expected = _dense_hits(kb, queries)
    with KnowledgeBase.open(torch_kb, config=backend("openvino")) as kb:
        assert kb.config.embed.backend == "openvino"
        found = _dense_hits(kb, queries)
    for want, got in zip(expected, found, strict=True):
        assert [doc for doc, _ in got] == [doc for doc, _ in want] or _ties(want, got)
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=QUERY_TOLERANCE)


QUERY_TOLERANCE = 1e-2
"""Where this CPU has no native bf16, ``auto`` embeds queries on int8 weights (cosine 0.998+
to float32): scores moved by up to 3e-3 here, not by float32 rounding."""


def _ties(want: list[tuple[str, float]], got: list[tuple[str, float]]) -> bool:
    """Orders that differ only among hits whose scores are equal to within the tolerance."""
    return all(
        a == b or abs(score_a - score_b) < QUERY_TOLERANCE
        for (a, score_a), (b, score_b) in zip(want, got, strict=True)
    )


def test_the_backend_is_not_a_build_setting(torch_kb: Path):
    KnowledgeBase.open(torch_kb, config=backend("openvino")).close()
    KnowledgeBase.open(torch_kb, config=backend("sentence-transformers")).close()
    other_model = replace(TORCH, embed=replace(TORCH.embed, model="hash-64"))
    with pytest.raises(ConfigMismatchError):
        KnowledgeBase.open(torch_kb, config=other_model)
