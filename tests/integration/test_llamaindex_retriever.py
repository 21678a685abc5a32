"""RaglineRetriever inside a real LlamaIndex query engine with llama_index.core's own
MockLLM: no network, no model download."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core.llms import MockLLM  # noqa: E402
from llama_index.core.query_engine import RetrieverQueryEngine  # noqa: E402

from ragline import KnowledgeBase  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.integrations.llamaindex import RaglineRetriever  # noqa: E402
from serve_data import CONFIG, DOCS, QUESTION  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture()
def kb(tmp_path: Path):  # type: ignore[no-untyped-def]
    with KnowledgeBase.create(tmp_path / "kb", CONFIG) as made:
        made.add(DOCS)
        yield made


def test_nodes_carry_ids_spans_and_scores(kb: KnowledgeBase) -> None:
    found = RaglineRetriever(kb, k=2).retrieve(QUESTION)
    assert [n.node.node_id for n in found] == ["tides#0", "pasta#0"]
    top = found[0]
    assert top.node.get_content() == DOCS[0].text and top.node.ref_doc_id == "tides"
    assert (top.node.start_char_idx, top.node.end_char_idx) == (0, len(DOCS[0].text))
    assert top.score == top.node.metadata["score"] and top.score > found[1].score
    assert top.node.metadata["chunk_id"] == "tides#0" and top.node.metadata["rank"] == 1
    only_food = RaglineRetriever(kb, mode="bm25", filters={"topic": "food"}).retrieve("water")
    assert [n.node.ref_doc_id for n in only_food] == ["pasta"]


def test_retriever_feeds_a_query_engine_with_the_mock_llm(kb: KnowledgeBase) -> None:
    engine = RetrieverQueryEngine.from_args(RaglineRetriever(kb, k=1), llm=MockLLM())
    response = engine.query(QUESTION)
    (source,) = response.source_nodes
    assert source.node.node_id == "tides#0" and source.node.metadata["doc_id"] == "tides"
    # MockLLM answers with the prompt it was given: the retrieved passage went into it
    assert DOCS[0].text in str(response) and QUESTION in str(response)


def test_bad_k_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(RaglineError, match="k must be 1 or more, got 0"):
        RaglineRetriever(kb, k=0)
