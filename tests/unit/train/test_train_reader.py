"""The span reader's training: examples, labels, threshold, and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragline.generate.span_reader import ReaderSettings, SpanReader, encode_windows
from ragline.train.reader import (
    ReaderExample,
    ReaderRecipe,
    best_threshold,
    reader_examples,
    train_reader,
    window_labels,
)

PARAGRAPHS = [
    (
        "Quellport is the capital of Zorbia. It has a large harbour.",
        [
            {
                "question": "What is the capital of Zorbia?",
                "answers": [{"text": "Quellport", "answer_start": 0}],
            },
            {"question": "Who founded Zorbia?", "is_impossible": True, "answers": []},
        ],
    ),
    (
        "Mount Eldra rises 4120 metres above the plain of Rufen.",
        [
            {
                "question": "How high is Mount Eldra?",
                "answers": [{"text": "4120 metres", "answer_start": 17}],
            }
        ],
    ),
]


def test_examples_pair_questions_with_their_paragraph_and_a_bm25_negative() -> None:
    examples = reader_examples(PARAGRAPHS, negatives=1)
    capital = [e for e in examples if e.question == "What is the capital of Zorbia?"]
    assert capital[0].answer == "Quellport" and capital[0].answer_start == 0
    assert capital[1].answer_start is None and capital[1].context == PARAGRAPHS[1][0]
    founded = [e for e in examples if e.question == "Who founded Zorbia?"]
    assert len(founded) == 1 and founded[0].answer_start is None  # no negatives for these
    assert len(examples) == 5


def test_window_labels_point_at_the_answer_tokens_or_cls() -> None:
    import transformers

    from ragline.packaged_models import resolve_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(resolve_model("minilm")[0]))
    context = "Mount Eldra rises 4120 metres above the plain of Rufen. " * 6
    examples = [
        ReaderExample("How high is Eldra?", context, context.rindex("4120"), "4120 metres"),
        ReaderExample("Who founded Zorbia?", context),
    ]
    settings = ReaderSettings(max_length=48, stride=16)
    encoded = encode_windows(
        tokenizer, [e.question for e in examples], [e.context for e in examples], settings
    )
    starts, ends = window_labels(encoded, examples)
    labelled = [w for w, s in enumerate(starts) if s]
    assert labelled, "the window holding the last '4120 metres' is labelled"
    for w in labelled:
        ids = encoded["input_ids"][w][starts[w] : ends[w] + 1]
        assert tokenizer.decode(ids) == "4120 metres"
        assert encoded["overflow_to_sample_mapping"][w] == 0
    unanswerable = [w for w, s in enumerate(encoded["overflow_to_sample_mapping"]) if s == 1]
    assert all(starts[w] == ends[w] == 0 for w in unanswerable)


def test_best_threshold_trades_answers_against_abstentions() -> None:
    margins = [5.0, 3.0, 1.0, -1.0]
    scores = [1.0, 1.0, 0.0, 0.0]
    empty = [False, False, True, True]  # two answerable (right), two unanswerable
    threshold, f1 = best_threshold(margins, scores, empty)
    assert 1.0 < threshold <= 3.0 and f1 == 1.0


def tiny_squad(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny random BERT over the words of PARAGRAPHS, and those paragraphs (four times) as
    a SQuAD file: what a reader trains on in seconds."""
    from tiny_models import write_tiny_bert

    words = sorted(
        {
            w.strip(".?").lower()
            for c, qas in PARAGRAPHS
            for w in (c + " " + " ".join(q["question"] for q in qas)).split()
        }
    )
    base = write_tiny_bert(
        tmp_path / "base", ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?", *words]
    )
    squad = tmp_path / "squad.json"
    paragraphs = [
        {"context": c, "qas": [{"id": f"{i}-{j}", **q} for j, q in enumerate(qas)]}
        for i, (c, qas) in enumerate(PARAGRAPHS * 4)
    ]
    squad.write_text(json.dumps({"data": [{"title": "T", "paragraphs": paragraphs}]}))
    return base, squad


def test_tiny_reader_trains_saves_and_reads(tmp_path: Path) -> None:
    base, squad = tiny_squad(tmp_path)
    recipe = ReaderRecipe(
        base=str(base),
        held_out=0,
        dev_fraction=0.25,
        max_length=64,
        stride=16,
        batch_size=4,
        epochs=2,
        learning_rate=1e-2,
    )
    report = train_reader(squad, tmp_path / "reader", recipe)
    assert report["steps"] == 2 * -(-report["examples"] // 4)
    assert report["last_loss"] < report["first_loss"]
    settings = ReaderSettings.read(tmp_path / "reader")
    assert settings.threshold == pytest.approx(report["dev"]["threshold"], abs=1e-3)
    adapter = json.loads((tmp_path / "reader" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(base.resolve())
    assert not (tmp_path / "reader" / "README.md").exists()  # peft's blank model card
    spans = SpanReader(str(tmp_path / "reader")).read(
        "How high is Mount Eldra?", [PARAGRAPHS[1][0]]
    )
    assert spans and all(PARAGRAPHS[1][0][s.start : s.end] == s.text for s in spans)
    with pytest.raises(Exception, match="exists"):
        train_reader(squad, tmp_path / "reader", recipe)


def test_full_fine_tuning_saves_a_whole_model_that_reads(tmp_path: Path) -> None:
    base, squad = tiny_squad(tmp_path)
    recipe = ReaderRecipe(
        base=str(base),
        held_out=0,
        dev_fraction=0.25,
        max_length=64,
        stride=16,
        batch_size=4,
        epochs=2,
        learning_rate=1e-3,
        lora_rank=0,
    )
    report = train_reader(squad, tmp_path / "reader", recipe)
    assert not (tmp_path / "reader" / "adapter_config.json").exists()
    assert report["last_loss"] < report["first_loss"]
    dev = report["dev"]
    assert 0.0 <= dev["gold_paragraph_f1"] <= 1.0 and 0.0 <= dev["separation_auc"] <= 1.0
    spans = SpanReader(str(tmp_path / "reader")).read(
        "How high is Mount Eldra?", [PARAGRAPHS[1][0]]
    )
    assert spans and all(PARAGRAPHS[1][0][s.start : s.end] == s.text for s in spans)
