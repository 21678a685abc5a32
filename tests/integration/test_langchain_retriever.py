"""RaglineRetriever inside a real LangChain chain (retriever -> prompt -> chat model ->
parser) with langchain-core's own fake chat model: no network, no model download."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("langchain_core")

from langchain_core.documents import Document as LcDocument  # noqa: E402
from langchain_core.language_models.fake_chat_models import FakeListChatModel  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.runnables import RunnableLambda, RunnablePassthrough  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from ragline import KnowledgeBase  # noqa: E402
from ragline.integrations.langchain import RaglineRetriever  # noqa: E402
from serve_data import CONFIG, DOCS, QUESTION  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture()
def kb(tmp_path: Path):  # type: ignore[no-untyped-def]
    with KnowledgeBase.create(tmp_path / "kb", CONFIG) as made:
        made.add(DOCS)
        yield made


def test_documents_carry_ids_spans_and_scores(kb: KnowledgeBase) -> None:
    docs = RaglineRetriever(kb=kb, k=2).invoke(QUESTION)
    assert [d.id for d in docs] == ["tides#0", "pasta#0"]
    top = docs[0]
    assert top.page_content == DOCS[0].text
    assert top.metadata["doc_id"] == "tides" and top.metadata["span"] == [0, len(DOCS[0].text)]
    assert top.metadata["rank"] == 1 and top.metadata["score"] > docs[1].metadata["score"]
    assert set(top.metadata["ranks"]) == {"bm25", "dense"} and top.metadata["topic"] == "science"
    only_food = RaglineRetriever(kb=kb, mode="bm25", filters={"topic": "food"}).invoke("water")
    assert [d.metadata["doc_id"] for d in only_food] == ["pasta"]


def test_retriever_feeds_a_chain_with_a_fake_chat_model(kb: KnowledgeBase) -> None:
    seen: list[str] = []

    def context(docs: list[LcDocument]) -> str:
        return "\n".join(f"[{d.metadata['chunk_id']}] {d.page_content}" for d in docs)

    def record(prompt):  # type: ignore[no-untyped-def]
        seen.append(prompt.to_string())
        return prompt

    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    llm = FakeListChatModel(responses=["The Moon and the Sun [tides#0]."])
    retriever = RaglineRetriever(kb=kb, k=1)
    chain = (
        {"context": retriever | context, "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(record)
        | llm
        | StrOutputParser()
    )
    assert chain.invoke(QUESTION) == "The Moon and the Sun [tides#0]."
    (shown,) = seen
    assert f"[tides#0] {DOCS[0].text}" in shown and "pasta" not in shown


def test_bad_settings_are_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(ValidationError, match="k"):
        RaglineRetriever(kb=kb, k=0)
    with pytest.raises(ValidationError, match="mode"):
        RaglineRetriever(kb=kb, mode="fuzzy")
