"""Grounded prompts: numbering, rank order, token budget, one-passage prompts, parsing back."""

from __future__ import annotations

import pytest

from ragline.documents import Chunk, Hit
from ragline.errors import RaglineError
from ragline.generate.prompt import (
    ABSTAIN_TEXT,
    ANSWER_STYLES,
    SYSTEM_PROMPT,
    approx_tokens,
    build_messages,
    format_passage,
    parse_user_message,
    passage_messages,
    system_prompt,
)


def hit(doc: str, text: str, rank: int, title: str | None = None, start: int = 0) -> Hit:
    metadata = {"title": title} if title else {}
    chunk = Chunk(f"{doc}#0", doc, text, start, start + len(text), metadata)
    return Hit(chunk, 1.0 / rank, rank, "hybrid")


def words(text: str) -> int:
    return len(text.split())


def test_system_prompt_asks_for_citations_brevity_and_exact_abstention() -> None:
    assert ABSTAIN_TEXT == "The knowledge base does not say."
    assert ABSTAIN_TEXT in SYSTEM_PROMPT
    assert "[2]" in SYSTEM_PROMPT and "[1][3]" in SYSTEM_PROMPT
    assert "only" in SYSTEM_PROMPT and "briefly" in SYSTEM_PROMPT


def test_short_answer_style_changes_only_the_length_instruction() -> None:
    sentence, short = system_prompt("sentence"), system_prompt("short")
    assert sentence == SYSTEM_PROMPT
    changed = set(sentence.splitlines()) ^ set(short.splitlines())
    assert changed == {ANSWER_STYLES["sentence"], ANSWER_STYLES["short"]}
    hits = [hit("a", "Alpha text.", 1, "Alpha")]
    messages, _ = build_messages("Which one?", hits, answer_style="short")
    assert messages[0]["content"] == short
    assert passage_messages("Which one?", hits[0], answer_style="short") == messages
    with pytest.raises(RaglineError, match="answer style 'essay': use sentence, short"):
        build_messages("Which one?", hits, answer_style="essay")


def test_passages_are_numbered_in_rank_order_with_titles() -> None:
    hits = [hit("a", "Alpha text.", 1, "Alpha"), hit("b", "Beta text.", 2), hit("c", "Gamma.", 3)]
    messages, used = build_messages("Which one?", hits)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == SYSTEM_PROMPT
    user = messages[1]["content"]
    assert used == hits
    # the title falls back to the document id
    blocks = ["[1] Title: Alpha\nAlpha text.", "[2] Title: b\nBeta text.", "[3] Title: c\nGamma."]
    positions = [user.index(block) for block in blocks]
    assert positions == sorted(positions)
    assert user.rstrip().endswith("Question: Which one?")


def test_packing_stops_at_first_passage_that_does_not_fit() -> None:
    hits = [
        hit("a", "one two three four five six", 1),  # block: 3 + 6 = 9 words
        hit("b", "seven eight nine ten", 2),  # 7 words
        hit("c", " ".join(["long"] * 30), 3),  # 33 words: does not fit
        hit("d", "tiny", 4),  # 4 words: would fit, but comes after a passage that did not
    ]
    messages, used = build_messages("q?", hits, count_tokens=words, context_tokens=20)
    assert [h.chunk.doc_id for h in used] == ["a", "b"]
    assert sum(words(format_passage(n, h)) for n, h in enumerate(used, 1)) <= 20
    user = messages[1]["content"]
    assert "[3]" not in user and "tiny" not in user and "long" not in user

    _, all_used = build_messages("q?", hits, count_tokens=words, context_tokens=1000)
    assert all_used == hits


def test_first_passage_is_always_kept_and_cut_to_the_budget() -> None:
    text = " ".join(f"w{i}" for i in range(50))
    first = hit("a", text, 1, "T", start=100)
    messages, used = build_messages(
        "q?", [first, hit("b", "short", 2)], count_tokens=words, context_tokens=10
    )
    assert len(used) == 1
    cut = used[0].chunk
    assert words(format_passage(1, used[0])) == 10  # "[1] Title: T" is 3 words, 7 kept
    assert text.startswith(cut.text) and cut.text == "w0 w1 w2 w3 w4 w5 w6"
    assert (cut.start, cut.end) == (100, 100 + len(cut.text))
    assert cut.id == "a#0" and first.chunk.text == text  # the input is untouched
    assert "w6" in messages[1]["content"] and "w7" not in messages[1]["content"]


def test_default_counter_is_an_estimate_that_grows_with_text() -> None:
    assert approx_tokens("") == 0
    assert approx_tokens("a b c") == 3
    assert approx_tokens("x" * 400) == 100
    hits = [hit(str(i), "word " * 100, i) for i in range(1, 6)]
    _, used = build_messages("q?", hits, context_tokens=300)
    assert len(used) == 2


def test_no_passages_still_makes_a_prompt() -> None:
    messages, used = build_messages("q?", [])
    assert used == []
    assert parse_user_message(messages[1]["content"]) == ("q?", [])


def test_passage_messages_number_one_passage_as_1() -> None:
    messages = passage_messages("Who?", hit("z", "Zed did it.", 7, "Zed"))
    assert messages[0]["content"] == SYSTEM_PROMPT
    assert "[1] Title: Zed\nZed did it." in messages[1]["content"]
    assert "[2]" not in messages[1]["content"]


def test_user_message_parses_back_into_question_and_passages() -> None:
    tricky = "First paragraph.\n\n[9] Title: not a header\nstill passage one."
    hits = [hit("a", tricky, 1, "A\ntitle"), hit("b", "Second.", 2, "B")]
    messages, _ = build_messages("What\nhappened?", hits)
    question, passages = parse_user_message(messages[1]["content"])
    assert question == "What\nhappened?"
    assert passages == [("A title", tricky), ("B", "Second.")]
    assert parse_user_message("just a question") == ("just a question", [])
