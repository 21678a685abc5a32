"""Citation markers: parsing every form, mapping to passages, and checking support."""

from __future__ import annotations

import pytest

from ragline.documents import Chunk, Hit
from ragline.generate.citations import (
    ClaimSupport,
    EmbeddingSupport,
    ExplainsSupport,
    LexicalSupport,
    SupportChecker,
    attribute,
    cited_numbers,
    is_abstention_text,
    parse_citations,
    resolve_citations,
    sentence_spans,
    split_sentences,
    strip_citations,
)
from ragline.generate.prompt import ABSTAIN_TEXT

MOON = "Tides are driven by the gravity of the moon pulling on seawater."
LAVA = "Basalt forms when lava cools quickly near the surface of a volcano."
TRAIN = "Steam locomotives stopped at depots for coal and boiler water."


def hit(doc: str, text: str, rank: int, *, start: int = 0, page: int | None = None) -> Hit:
    metadata = {"page": page} if page is not None else {}
    chunk = Chunk(f"{doc}#{rank}", doc, text, start, start + len(text), metadata)
    return Hit(chunk, 1.0, rank, "hybrid")


PASSAGES = [
    hit("oceans", MOON, 1, start=40, page=2),
    hit("volcanoes", LAVA, 2, start=0),
    hit("trains", TRAIN, 3, start=7, page=5),
]


def test_every_marker_form_is_parsed_per_sentence() -> None:
    answer = (
        "Tides follow the moon [1]. Basalt comes from lava [1, 2]! "
        "Coal fed the locomotives [3][1]. All three [1-3]? Two again [2; 3].\n"
        "- A bulleted claim [2]"
    )
    assert parse_citations(answer) == [
        (1, "Tides follow the moon."),
        (1, "Basalt comes from lava!"),
        (2, "Basalt comes from lava!"),
        (3, "Coal fed the locomotives."),
        (1, "Coal fed the locomotives."),
        (1, "All three?"),
        (2, "All three?"),
        (3, "All three?"),
        (2, "Two again."),
        (3, "Two again."),
        (2, "A bulleted claim"),
    ]


def test_markers_after_the_full_stop_stay_with_their_sentence() -> None:
    answer = "Tides follow the moon. [1] Basalt comes from lava.[2][2]\nNo citation here."
    assert split_sentences(answer) == [
        "Tides follow the moon. [1]",
        "Basalt comes from lava.[2][2]",
        "No citation here.",
    ]
    assert parse_citations(answer) == [
        (1, "Tides follow the moon."),
        (2, "Basalt comes from lava."),
    ]


def test_decimals_and_abbreviation_like_text_do_not_split_sentences() -> None:
    assert split_sentences("It rose 3.5 m in 2020. then fell [1].") == [
        "It rose 3.5 m in 2020. then fell [1]."
    ]


def test_strip_and_list_numbers() -> None:
    assert strip_citations("Tides [1] follow the moon [1, 2].\n[3] Coal.") == (
        "Tides follow the moon.\nCoal."
    )
    assert strip_citations("no markers [here]") == "no markers [here]"
    assert cited_numbers("a [3] b [1-2] c [3, 4] d [5-1]") == [3, 1, 2, 4, 5]
    assert cited_numbers("[1-100000]") == [1, 100000]  # a typo, not 100000 citations


def test_citations_map_to_chunk_doc_span_and_page() -> None:
    answer = "Tides are driven by the moon's gravity [1]. Lava cools into basalt [2][3]."
    citations, invalid = resolve_citations(answer, PASSAGES)
    assert invalid == []
    got = [(c.n, c.chunk_id, c.doc_id, c.span, c.page) for c in citations]
    assert got == [
        (1, "oceans#1", "oceans", (40, 40 + len(MOON)), 2),
        (2, "volcanoes#2", "volcanoes", (0, len(LAVA)), None),
        (3, "trains#3", "trains", (7, 7 + len(TRAIN)), 5),
    ]
    assert citations[0].sentence == "Tides are driven by the moon's gravity."
    # the lava sentence is backed by passage 2, not by the train passage it also cites
    assert [c.supported for c in citations] == [True, True, False]
    assert citations[2].support < 0.5 <= citations[1].support
    assert citations[2].missing == ["Lava", "cools", "basalt"]  # a first word may be a name
    assert citations[1].missing == []
    assert citations[0].to_dict()["span"] == [40, 40 + len(MOON)]
    assert citations[2].to_dict()["missing"] == citations[2].missing


def test_out_of_range_numbers_are_dropped_and_reported() -> None:
    citations, invalid = resolve_citations("Moon [1][0]. Lava [4][2]. Again [4].", PASSAGES)
    assert [c.n for c in citations] == [1, 2]
    assert invalid == [0, 4]


def test_lexical_support_accepts_supported_and_flags_unsupported() -> None:
    check = LexicalSupport()
    assert isinstance(check, SupportChecker) and check.threshold == 0.5
    supported = check.support("Tides are driven by the moon's gravity [1].", MOON)
    unsupported = check.support("Tides are caused by wind blowing over warm oceans.", MOON)
    assert supported == 1.0  # tide, driven, moon, gravity: all found
    assert unsupported < check.threshold
    assert check.support("It is so.", MOON) == 1.0  # nothing to check
    strict = LexicalSupport(threshold=0.9)
    cites, _ = resolve_citations("The moon pulls seawater and wind [1].", PASSAGES, checker=strict)
    assert not cites[0].supported and cites[0].support == pytest.approx(0.75)


def test_any_object_with_support_and_threshold_plugs_in() -> None:
    class Always:
        threshold = 0.3

        def support(
            self, sentence: str, passage_text: str, *, question: str | None = None
        ) -> float:
            return 0.25 if question is None else 0.5

    always = Always()
    assert isinstance(always, SupportChecker) and not isinstance(always, ExplainsSupport)
    cites, _ = resolve_citations("Anything [1].", PASSAGES, checker=always)
    assert cites[0].support == 0.25 and not cites[0].supported and cites[0].missing == []
    cites, _ = resolve_citations("Anything [1].", PASSAGES, checker=always, question="Why?")
    assert cites[0].support == 0.5 and cites[0].supported


ZORBIA = "Quellport is the capital of the island nation of Zorbia."
ELDRA = "Eldra is the highest mountain of Rufen, 2,400 m above the sea."
SARN = "The Sarn river rises in the Tesk hills and flows into Lake Kafen."
DOVUL = "The Dovul river rises in the Eldra hills and flows into Lake Kafen."
GRALIR = "Gralir, a provincial capital of forty thousand people, lies on the Tesk river."


@pytest.mark.parametrize(
    ("sentence", "passage", "question", "missing"),
    [
        ("The Dovul river flows into Lake Kafen.", SARN, None, ["Dovul"]),
        ("The capital of Rufen is Gralir.", GRALIR, None, ["Rufen"]),
        ("The capital of Zorbia is Eldra.", ZORBIA, "What is the capital of Zorbia?", ["Eldra"]),
        ("The capital of Zorbia is Eldra.", ELDRA, "What is the capital of Zorbia?", ["Zorbia"]),
        ("It is Gralir.", GRALIR, "What is the capital of Rufen?", ["Rufen"]),
        ("The Dovul river flows 1,500 km into Lake Kafen.", DOVUL, None, ["1,500 km"]),
    ],
)
def test_claim_support_flags_what_the_issue_reported(
    sentence: str, passage: str, question: str | None, missing: list[str]
) -> None:
    """Each of these was marked supported by word overlap; a name, number or the question's
    subject that the passage lacks now makes the sentence unsupported."""
    check = ClaimSupport()
    assert check.support(sentence, passage, question=question) == 0.0
    assert check.missing(sentence, passage, question=question) == missing
    assert LexicalSupport().support(sentence, passage) >= 0.5 or question is not None


@pytest.mark.parametrize(
    ("sentence", "passage", "question"),
    [
        ("The Dovul river flows into Lake Kafen.", DOVUL, None),
        (
            "The capital of Rufen is Gralir.",
            f"Gralir, the capital of Rufen, is old. {GRALIR}",
            None,
        ),
        ("The capital of Zorbia is Quellport.", ZORBIA, "What is the capital of Zorbia?"),
        ("Eldra is 2400 metres above the sea.", ELDRA, "How high is Eldra?"),
    ],
)
def test_claim_support_passes_the_true_versions(
    sentence: str, passage: str, question: str | None
) -> None:
    check = ClaimSupport()
    assert check.support(sentence, passage, question=question) >= check.threshold
    assert check.missing(sentence, passage, question=question) == []


def test_words_the_question_supplies_may_be_missing_others_may_not() -> None:
    check = ClaimSupport()
    passage = "The Normans gave their name to Normandy, a region in France."
    question = "In what country is Normandy located?"
    assert check.missing("Normandy is located in France.", passage, question=question) == []
    assert check.missing("Normandy is located in France.", passage) == ["located"]
    assert check.missing("Normandy is a province of France.", passage, question=question) == [
        "province"
    ]
    # then the score is the word overlap, which still has to reach the threshold
    assert check.support("Normandy is located in France.", passage, question=question) == 2 / 3


def test_checkers_follow_the_protocols() -> None:
    for checker in (ClaimSupport(), LexicalSupport()):
        assert isinstance(checker, SupportChecker) and isinstance(checker, ExplainsSupport)
        assert checker.threshold == 0.5
    assert ClaimSupport(0.8).lexical.threshold == 0.8
    # a sentence of stopwords alone states nothing a passage could back: never supported
    assert ClaimSupport().check("It is so.", MOON) == (0.0, ["(nothing to check)"])
    assert ClaimSupport().support("No.", MOON, question="Do tides follow the moon?") == 0.0


def test_resolve_citations_checks_with_the_question() -> None:
    passages = [hit("zorbia", ZORBIA, 1), hit("eldra", ELDRA, 2)]
    question = "What is the capital of Zorbia?"
    text = "The capital of Zorbia is Eldra [1][2]. Its capital is Quellport [1]."
    citations, _ = resolve_citations(text, passages, question=question)
    got = [(c.n, c.supported, c.missing) for c in citations]
    # "capital" the question supplies: only the terms count against the Eldra passage
    assert got == [(1, False, ["Eldra"]), (2, False, ["Zorbia"]), (1, True, [])]
    # without the question, "Its capital is Quellport" still passes: all of it is there
    unasked, _ = resolve_citations("Its capital is Quellport [2].", passages)
    assert not unasked[0].supported and unasked[0].missing == ["Quellport", "capital"]


def test_attribution_attaches_only_a_passage_that_passes_the_check() -> None:
    passages = [hit("eldra", ELDRA, 1), hit("zorbia", ZORBIA, 2), hit("oceans", MOON, 3)]
    question = "What is the capital of Zorbia?"
    text = "The capital of Zorbia is Quellport. The capital of Zorbia is Eldra."
    citations = attribute(text, passages, question=question)
    assert [(c.n, c.doc_id, c.origin, c.supported) for c in citations] == [
        (2, "zorbia", "attributed", True)
    ]
    assert citations[0].sentence == "The capital of Zorbia is Quellport."
    # the old default would have attached the Eldra sentence to the Zorbia passage
    lexical = attribute("The capital of Zorbia is Eldra.", passages, LexicalSupport())
    assert [c.doc_id for c in lexical] == ["zorbia"]
    assert attribute(text, [], question=question) == []


def test_sentence_spans_cut_text_into_consecutive_sentences() -> None:
    text = "Rollo led the Normans. They reached Paris in 911. It is 3.5 km [2]."
    spans = sentence_spans(text)
    assert [text[s:e].strip() for s, e in spans] == [
        "Rollo led the Normans.",
        "They reached Paris in 911.",
        "It is 3.5 km [2].",
    ]
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.fixture(scope="module")
def minilm():
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder()


def test_embedding_support_with_minilm(minilm) -> None:
    check = EmbeddingSupport(minilm)
    assert isinstance(check, SupportChecker) and check.threshold == 0.5
    passage = f"{TRAIN} {MOON} Coral reefs shelter clownfish."
    paraphrase = check.support("The moon's gravitational pull causes the tides [1].", passage)
    unrelated = check.support("Sourdough bread needs a lively starter.", passage)
    assert paraphrase >= 0.5 > unrelated
    cites, _ = resolve_citations(
        "The moon's pull on seawater makes tides [1]. Sourdough needs a starter [1].",
        [hit("oceans", passage, 1)],
        checker=check,
    )
    assert [c.supported for c in cites] == [True, False]


def test_abstention_text() -> None:
    assert is_abstention_text(ABSTAIN_TEXT)
    assert is_abstention_text("  the knowledge base doesn't say [1]. ")
    assert not is_abstention_text("Tides follow the moon [1].")


# Two hops: Vellmark's passage names the river; the river's passage names the answer.
BRIDGE = [
    hit("vellmark", "Vellmark is a town on the Ossiver river in the Durnholt province.", 1),
    hit("ossiver", "The Ossiver river was first mapped by Tamsin Rook in 1791.", 2),
    hit("quarry", "The Durnholt quarry was opened by Hollis Brant.", 3),
]
ASKED = "Who first mapped the river that flows through Vellmark?"


@pytest.mark.parametrize("cited", ["Tamsin Rook [2].", "Tamsin Rook first mapped it [2]."])
def test_a_two_hop_answer_is_supported_through_the_entity_joining_its_passages(cited: str):
    strict, _ = resolve_citations(cited, BRIDGE, question=ASKED)
    assert [c.supported for c in strict] == [False]  # passage 2 never names Vellmark
    joined, _ = resolve_citations(cited, BRIDGE, checker=ClaimSupport(bridges=True), question=ASKED)
    assert [(c.n, c.supported, c.origin) for c in joined] == [
        (2, True, "model"),
        (1, True, "bridge"),  # Vellmark's passage, joined to the answer's by "Ossiver"
    ]
    uncited = attribute(strip_citations(cited), BRIDGE, ClaimSupport(bridges=True), ASKED)
    assert [(c.n, c.origin) for c in uncited] == [(2, "attributed"), (1, "bridge")]


@pytest.mark.parametrize(
    "wrong",
    [
        "Hollis Brant [3].",  # shares only the question's own words with Vellmark's passage
        "Tamsin Rook mapped it in 1805 [2].",  # a date the answer's passage does not state
        "Hollis Brant mapped the Ossiver [2].",  # a name the cited passage lacks
    ],
)
def test_a_wrong_answer_finds_no_bridge(wrong: str):
    joined, _ = resolve_citations(wrong, BRIDGE, checker=ClaimSupport(bridges=True), question=ASKED)
    assert not any(c.supported for c in joined)
    assert attribute(strip_citations(wrong), BRIDGE, ClaimSupport(bridges=True), ASKED) == []


@pytest.mark.parametrize(
    ("answer_passage", "bridged"),
    [
        ("The Ossiver was first mapped by Edda Marl.", True),
        ("The Ossiver floods each spring. The Kell river was first mapped by Edda Marl.", False),
    ],
)
def test_the_bridge_must_stand_beside_the_answer(answer_passage: str, bridged: bool):
    passages = [BRIDGE[0], hit("rivers", answer_passage, 2), BRIDGE[2]]
    joined, _ = resolve_citations(
        "Edda Marl [2].", passages, checker=ClaimSupport(bridges=True), question=ASKED
    )
    assert any(c.supported for c in joined) is bridged


def test_a_bridge_the_model_cited_itself_is_cited_once():
    joined, _ = resolve_citations(
        "Tamsin Rook [2][1].", BRIDGE, checker=ClaimSupport(bridges=True), question=ASKED
    )
    assert [(c.n, c.supported, c.origin) for c in joined] == [
        (2, True, "model"),
        (1, True, "model"),
    ]
