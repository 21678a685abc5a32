"""KnowledgeBase.ask end to end: citations mapped and checked, abstention, attribution,
multi-hop, and the marginalized modes on a tiny local model."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase
from ragline.config import Config, GenerateConfig
from ragline.embed.fake import HashEncoder
from ragline.generate.extractive import ExtractiveGenerator
from ragline.generate.prompt import ABSTAIN_TEXT, system_prompt

sys.path.insert(0, str(Path(__file__).parent))
from test_gen_hf_local import build_tiny_model  # noqa: E402

from ragline.generate.hf_local import LocalGenerator  # noqa: E402

DOCS = [
    Document("paris", "Paris is the capital of France. It lies on the Seine.", {"topic": "geo"}),
    Document("tides", "Tides are caused by the gravity of the Moon and the Sun.", {"topic": "sci"}),
    Document("pasta", "Boil pasta in salted water for nine minutes.", {"topic": "food"}),
]


class ScriptedGenerator:
    """A Generator that replies with a fixed text and records the prompts it was given."""

    def __init__(self, reply: str) -> None:
        self.name = "scripted"
        self.reply = reply
        self.prompts: list[Sequence[dict[str, str]]] = []

    def generate(self, messages, **options) -> str:  # type: ignore[no-untyped-def]
        self.prompts.append(messages)
        return self.reply

    def stream(self, messages, **options):  # type: ignore[no-untyped-def]
        yield from self.generate(messages, **options).split(" ")


@pytest.fixture()
def kb(tmp_path: Path):  # type: ignore[no-untyped-def]
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as knowledge_base:
        knowledge_base.add(DOCS)
        yield knowledge_base


def test_model_citations_map_to_passages_and_are_checked(kb: KnowledgeBase) -> None:
    generator = ScriptedGenerator("Paris is the capital of France [1]. Rome hosts the pope [1].")
    answer = kb.ask("What is the capital of France?", generator=generator, search_mode="bm25")
    assert answer.passages[0].chunk.doc_id == "paris"
    assert "[1] Title:" in generator.prompts[0][1]["content"]
    (first,) = answer.citations
    assert (first.n, first.doc_id, first.chunk_id, first.origin) == (1, "paris", "paris#0", "model")
    assert first.span == answer.passages[0].chunk.span and first.supported
    assert answer.text == "Paris is the capital of France [1]."  # the pope is not in passage 1
    (withheld,) = answer.withheld
    assert withheld["sentence"] == "Rome hosts the pope."
    assert "rome" in [term.lower() for term in withheld["missing"]]
    data = answer.to_dict()
    assert data["citations"][0]["supported"] is True and data["hops"][0]["chunk_ids"]
    assert data["withheld"][0]["cited"] == [1]


def test_generator_abstention_and_weak_retrieval_abstain(kb: KnowledgeBase) -> None:
    said_no = kb.ask("Who won the 1998 cup?", generator=ScriptedGenerator(ABSTAIN_TEXT))
    assert said_no.abstained and said_no.text == ABSTAIN_TEXT and not said_no.citations
    silent = ScriptedGenerator("Anything [1].")
    weak = kb.ask("zebra quantum", generator=silent, min_score=0.99)
    assert weak.abstained and silent.prompts == []  # the generator was never asked


def test_uncited_answer_is_attributed_to_the_supporting_passage(kb: KnowledgeBase) -> None:
    answer = kb.ask(
        "What causes tides?",
        generator=ScriptedGenerator("Tides are caused by the gravity of the Moon."),
        search_mode="bm25",
    )
    (citation,) = answer.citations
    assert citation.origin == "attributed" and citation.doc_id == "tides" and citation.supported


def test_extractive_answer_cites_the_right_passage(kb: KnowledgeBase) -> None:
    generator = ExtractiveGenerator(encoder=HashEncoder())
    answer = kb.ask("How long should pasta boil?", generator=generator)
    assert not answer.abstained
    assert {c.doc_id for c in answer.citations} == {"pasta"}
    assert all(c.supported for c in answer.citations)


CHAIN = [
    Document("film", "The film Zorblat was directed by Quintara Velm."),
    Document("person", "Quintara Velm was born in the harbour town of Ostrava Pelt."),
    *[Document(f"noise{i}", f"Someone was born in a town in spring number {i}.") for i in range(6)],
]
CHAIN_QUESTION = "Where was the person who directed Zorblat born?"


def test_multihop_finds_the_second_fact_single_hop_misses(tmp_path: Path) -> None:
    generator = ExtractiveGenerator(encoder=HashEncoder())
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(CHAIN)
        single = kb.ask(CHAIN_QUESTION, generator=generator, k=2, search_mode="bm25")
        double = kb.ask(CHAIN_QUESTION, generator=generator, k=2, hops=2, search_mode="bm25")
    assert "person" not in {hit.chunk.doc_id for hit in single.passages}
    assert {"film", "person"} <= {hit.chunk.doc_id for hit in double.passages}
    assert len(double.hops) == 2 and "Quintara Velm" in double.hops[1]["query"]


@pytest.mark.parametrize(
    ("follow_up", "reply", "second_query"),
    [
        ("answer", "Quintara Velm made it [1].", f"{CHAIN_QUESTION} Quintara Velm made it."),
        ("missing", "Query: Quintara Velm birthplace", "Quintara Velm birthplace"),
        ("missing", "DONE", None),
        ("answer", ABSTAIN_TEXT, None),
    ],
)
def test_multihop_follow_up_is_the_missing_fact_or_the_answer_so_far(
    tmp_path: Path, follow_up: str, reply: str, second_query: str | None
) -> None:
    generator = ScriptedGenerator(reply)
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(CHAIN)
        answer = kb.ask(
            CHAIN_QUESTION, generator=generator, k=2, hops=2, search_mode="bm25",
            follow_up=follow_up,
        )  # fmt: skip
    queries = [hop["query"] for hop in answer.hops]
    assert queries == [CHAIN_QUESTION] + ([second_query] if second_query else [])
    if second_query:
        assert "person" in {hit.chunk.doc_id for hit in answer.passages}
    hop_prompt = generator.prompts[0][0]["content"]
    assert ("cite" in hop_prompt) is (follow_up == "answer")


def test_answer_follow_up_packs_the_passages_into_the_answers_budget(tmp_path: Path) -> None:
    generator = ScriptedGenerator("Quintara Velm [1].")
    config = Config(generate=GenerateConfig(context_tokens=24, min_score=-1.0))
    with KnowledgeBase.create(tmp_path / "kb", config, encoder=HashEncoder()) as kb:
        kb.add(CHAIN)
        kb.ask(
            CHAIN_QUESTION, generator=generator, k=2, hops=2, search_mode="bm25",
            follow_up="answer",
        )  # fmt: skip
    follow_up, final = generator.prompts[0][1]["content"], generator.prompts[-1][1]["content"]
    assert "[1] Title:" in follow_up and "[1] Title:" in final
    assert "[2] Title:" not in follow_up and "[2] Title:" not in final


@pytest.mark.parametrize("style", ["sentence", "short"])
def test_answer_style_sets_the_system_prompt_of_answer_and_follow_up(
    tmp_path: Path, style: str
) -> None:
    generator = ScriptedGenerator("Quintara Velm [1].")
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(CHAIN)
        kb.ask(
            CHAIN_QUESTION, generator=generator, k=2, hops=2, search_mode="bm25",
            follow_up="answer", answer_style=style,
        )  # fmt: skip
    assert len(generator.prompts) == 2  # the follow-up, then the answer
    assert [p[0]["content"] for p in generator.prompts] == [system_prompt(style)] * 2


def test_unknown_answer_style_is_refused_before_asking(kb: KnowledgeBase) -> None:
    from ragline.errors import RaglineError

    generator = ScriptedGenerator("x")
    with pytest.raises(RaglineError, match="answer style 'essay': use sentence, short"):
        kb.ask("What causes tides?", generator=generator, answer_style="essay")
    assert generator.prompts == []


LINKED = [
    Document("zorblat", "The film Zorblat was directed by Quintara Velm.", {"title": "Zorblat"}),
    Document(
        "velm", "Her childhood home and birthplace: Ostrava Pelt.", {"title": "Quintara Velm"}
    ),
    *[Document(f"noise{i}", f"Someone was born in a town in spring number {i}.") for i in range(6)],
]


def test_links_follow_up_searches_the_documents_the_passages_name(tmp_path: Path) -> None:
    generator = ScriptedGenerator("Ostrava Pelt [2].")
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(LINKED)
        options = {"generator": generator, "k": 2, "search_mode": "dense"}
        single = kb.ask(CHAIN_QUESTION, **options)
        linked = kb.ask(CHAIN_QUESTION, hops=3, follow_up="links", **options)
    assert "velm" not in {hit.chunk.doc_id for hit in single.passages}
    assert {"zorblat", "velm"} <= {hit.chunk.doc_id for hit in linked.passages}
    # The second hop searched the question within the named document; the third found no
    # new names and was not run. The generator was asked once, for the answer.
    assert [hop["query"] for hop in linked.hops] == [CHAIN_QUESTION] * 2
    assert linked.hops[1]["documents"] == ["velm"]
    assert len(generator.prompts) == 2  # one answer per ask


def test_documents_named_in_follows_the_knowledge_base(tmp_path: Path) -> None:
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(LINKED[:1])
        text = ["Quintara Velm directed Zorblat."]
        assert kb.documents_named_in(text) == ["zorblat"]
        kb.add(LINKED[1:2])
        assert kb.documents_named_in(text) == ["velm", "zorblat"]
        kb.delete(["zorblat"])
        assert kb.documents_named_in(text) == ["velm"]
        # An empty title falls back to the document id, as passage headers do.
        kb.add([Document("Zorblat", "A film.", {"title": ""})])
        assert kb.documents_named_in(text) == ["velm", "Zorblat"]


def test_links_follow_up_refuses_a_doc_id_filter(kb: KnowledgeBase) -> None:
    from ragline.errors import RaglineError

    with pytest.raises(RaglineError, match="cannot be combined with a doc_id filter"):
        kb.ask(
            "What causes tides?", generator=ScriptedGenerator("x"), hops=2, follow_up="links",
            filters={"doc_id": "tides"},
        )  # fmt: skip


def test_unknown_follow_up_is_refused(kb: KnowledgeBase) -> None:
    from ragline.errors import RaglineError

    with pytest.raises(RaglineError, match="follow-up 'guess': use missing, answer, links"):
        kb.ask("What causes tides?", generator=ScriptedGenerator("x"), hops=2, follow_up="guess")


@pytest.mark.parametrize("mode", ["sequence", "token"])
def test_marginalized_modes_report_the_passage_prior(tmp_path: Path, mode: str) -> None:
    generator = LocalGenerator(str(build_tiny_model(tmp_path / "tiny")))
    config = Config(generate=GenerateConfig(max_new_tokens=4, passages=3, min_score=-1.0))
    with KnowledgeBase.create(tmp_path / "kb", config, encoder=HashEncoder()) as kb:
        kb.add(DOCS)
        answer = kb.ask("capital of France", generator=generator, mode=mode)
    assert answer.mode == mode and len(answer.passages) == 3
    assert sum(answer.passage_probs) == pytest.approx(1.0)
    assert answer.passage_probs[0] == max(answer.passage_probs)  # best-scored passage
    passages = answer.to_dict()["passages"]
    assert [p["n"] for p in passages] == [1, 2, 3] and all("p" in p for p in passages)
    if mode == "token" and not answer.abstained:
        assert answer.token_sources and {s["passage"] for s in answer.token_sources} <= {1, 2, 3}


def test_plain_mode_needs_no_token_probabilities_but_others_do(kb: KnowledgeBase) -> None:
    from ragline.errors import RaglineError

    with pytest.raises(RaglineError, match="needs token probabilities"):
        kb.ask("capital of France", generator=ScriptedGenerator("x"), mode="sequence")


def test_cli_ask_json(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("Tides are caused by the gravity of the Moon and the Sun.\n")
    (docs / "pasta.txt").write_text("Boil pasta in salted water for nine minutes.\n")
    cli = [sys.executable, "-m", "ragline.cli"]
    kb = str(tmp_path / "kb")
    subprocess.run(
        [*cli, "index", str(docs), "--kb", kb, "--embedder", "hash-64"],
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [*cli, "ask", "What causes tides?", "--kb", kb, "--generator", "extractive", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert "Moon" in out["answer"] and not out["abstained"]
    assert out["citations"][0]["doc_id"] == "docs/tides.txt"
    assert set(out["citations"][0]) >= {"n", "chunk_id", "doc_id", "span", "supported"}
    assert out["passages"][0]["n"] == 1 and out["hops"][0]["query"] == "What causes tides?"
