"""evaluate/qa_formats: each published format read from a few real records
(tests/data/qa, sources and licences in its README), detected without being named, refused
with a one-line error naming the file and record when it is not what it claims, and
``ragline eval qa`` run on each sample with the extractive generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runs import run_cli
from ragline.errors import RaglineError
from ragline.evaluate.qa_formats import QA_FORMATS, detect, read_format
from ragline.evaluate.qa_formats import load_dataset as load_qa

DATA = Path(__file__).parents[2] / "data" / "qa"
SAMPLES = {
    "hotpotqa": DATA / "hotpotqa_train_sample.json",
    "musique": DATA / "musique_ans_train_sample.jsonl",
    "2wiki": DATA / "2wikimultihopqa_dev_sample.json",
    "open": DATA / "nq_open_sample",
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_sample_is_detected_as_its_format(name: str) -> None:
    assert detect(SAMPLES[name]) == name
    assert set(QA_FORMATS.names()) == set(SAMPLES)


@pytest.mark.parametrize("context", [True, False])
def test_a_hotpotqa_folder_with_its_corpus_is_still_read_as_before(
    tmp_path: Path, context: bool
) -> None:
    """``qa_*.json`` beside ``*corpus*.json`` (ragline's own HotpotQA folder) is not the
    open format's questions beside a corpus, also when its records carry no paragraphs of
    their own (as the title-free and SQuAD-chain sets of ``bench.multihop_sets`` write)."""
    folder = tmp_path / "hotpot"
    folder.mkdir()
    records = json.loads(SAMPLES["hotpotqa"].read_text())
    corpus = {title: sentences for r in records for title, sentences in r["context"]}
    if not context:
        records = [{k: v for k, v in r.items() if k != "context"} for r in records]
    (folder / "qa_dev.json").write_text(json.dumps(records))
    (folder / "dev_corpus.json").write_text(json.dumps(corpus))
    data = load_qa(folder)
    assert [q.id for q in data.questions] == [r["_id"] for r in records]
    assert len(data.documents) == 30


def test_hotpotqa_questions_over_all_their_paragraphs() -> None:
    data = load_qa(SAMPLES["hotpotqa"])
    first = data.questions[0]
    assert (first.id, first.text) == (
        "5a77ec115542992a6e59dff7",
        "If Gallu is a demon Lilu is what?",
    )
    assert first.answers == ["a spirit"] and first.supporting == ["Alû", "Lilu (mythology)"]
    assert len(data.documents) == 30  # ten paragraphs per question, none shared
    lilu = next(d for d in data.documents if d.id == "Lilu (mythology)")
    assert (
        lilu.text
        == "A lilu or lilû is a masculine Akkadian word for a spirit, related to Alû, demon."
    )
    first_only = load_qa(SAMPLES["hotpotqa"], limit=1)
    assert first_only.questions == [first] and first_only.documents == data.documents


def test_musique_aliases_and_supporting_paragraphs() -> None:
    data = load_qa(SAMPLES["musique"])
    first, second = data.questions
    assert first.id == "2hop__150763_14904" and first.answers == ["G. Stanley Hall", "Stanley Hall"]
    assert first.supporting == ["Journal of Psychotherapy Integration", "Adolescence"]
    # a title with a second, different paragraph gets its own document
    assert "Publix (2)" in second.supporting and second.answers == ["35"]
    publix = [d for d in data.documents if d.metadata["title"] == "Publix"]
    assert len(publix) == 2 and publix[0].text != publix[1].text


def test_musique_unanswerable_question_has_no_gold(tmp_path: Path) -> None:
    record = json.loads(SAMPLES["musique"].read_text().splitlines()[0])
    path = tmp_path / "musique_full.jsonl"
    path.write_text(json.dumps({**record, "answerable": False}) + "\n")
    (question,) = load_qa(path).questions
    assert question.answers == [] and question.supporting == []


def test_2wiki_sentences_joined_with_spaces() -> None:
    data = load_qa(SAMPLES["2wiki"])
    first = data.questions[0]
    assert first.answers == ["20 March 851"]
    assert first.supporting == ["Lothair II", "Ermengarde of Tours"]
    lothair = next(d for d in data.documents if d.id == "Lothair II")
    assert "until his death. He was the second son" in lothair.text


def test_open_questions_over_the_corpus_beside_them() -> None:
    for path in (SAMPLES["open"], SAMPLES["open"] / "NQ-open.dev.sample.jsonl"):
        data = load_qa(path)
        assert [q.id for q in data.questions] == [f"NQ-open.dev.sample:{n}" for n in (1, 2, 3)]
        assert data.questions[1].answers == ["Ed Roland"] and data.questions[1].supporting == []
        assert sorted(d.id for d in data.documents) == [
            "Chicago Cubs",
            "Ed Roland",
            "Nature Physics",
            "Pledge of Allegiance",
            "Spice Girls",
        ]


@pytest.mark.parametrize(
    ("path", "name", "reason"),
    [
        (
            "musique_ans_train_sample.jsonl",
            "hotpotqa",
            "musique_ans_train_sample.jsonl:1: no 'context' field",
        ),
        (
            "hotpotqa_train_sample.json",
            "musique",
            "hotpotqa_train_sample.json: record 1: no 'paragraphs' field",
        ),
        ("nq_open_sample/corpus.jsonl", "open", "corpus.jsonl:1: no 'question' field"),
    ],
)
def test_a_file_that_is_not_its_format_is_refused(path: str, name: str, reason: str) -> None:
    with pytest.raises(RaglineError, match=reason) as error:
        read_format(DATA / path, name)
    assert "\n" not in str(error.value)


def test_broken_records_are_named(tmp_path: Path) -> None:
    lines = SAMPLES["musique"].read_text().splitlines()
    broken = tmp_path / "musique.jsonl"
    broken.write_text(lines[0] + "\n{not json\n")
    with pytest.raises(RaglineError, match=r"musique.jsonl:2: invalid JSON"):
        load_qa(broken)
    record = json.loads(lines[0])
    record["paragraphs"][3]["is_supporting"] = "yes"
    broken.write_text(json.dumps(record) + "\n")
    with pytest.raises(RaglineError, match=r":1: paragraphs\[3\]: 'is_supporting' must be bool"):
        load_qa(broken)
    hotpot = json.loads(SAMPLES["hotpotqa"].read_text())
    hotpot[1]["supporting_facts"][0][0] = "Nowhere"
    bad = tmp_path / "hotpot.json"
    bad.write_text(json.dumps(hotpot))
    with pytest.raises(RaglineError, match="record 2: supporting title 'Nowhere' is not in"):
        load_qa(bad)
    with pytest.raises(RaglineError, match="unknown"):
        read_format(bad, "squad-v9")


@pytest.mark.parametrize("name", list(SAMPLES))
def test_eval_qa_runs_on_each_sample(name: str, tmp_path: Path) -> None:
    """Two formats named with --format, two detected."""
    named = ["--format", name] if name in ("hotpotqa", "2wiki") else []
    done = run_cli(
        "eval", "qa", SAMPLES[name], "--generator", "extractive", "--embedder", "hash-64",
        *named, "--json", env={"RAGLINE_CACHE": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    plain = report["results"]["plain"] if "results" in report else report["plain"]
    assert plain["answerable"] == len(load_qa(SAMPLES[name]).questions)
    assert 0 <= plain["f1"] <= 1


def test_training_pairs_from_a_published_format() -> None:
    from ragline.train.pairs import read_training_data

    data = read_training_data(qa=SAMPLES["musique"])
    assert data.read == 2 and len(data.corpus) == 40
    assert [p.query for p in data.pairs].count(load_qa(SAMPLES["musique"]).questions[1].text) == 4
    first = data.pairs[0]
    assert first.query.startswith("Who was the first president of the association")
    assert first.positive.startswith("The Journal of Psychotherapy Integration is a peer-reviewed")
    with pytest.raises(RaglineError, match="no usable training pairs"):
        read_training_data(qa=SAMPLES["open"])  # no paragraph is marked as the answer's
