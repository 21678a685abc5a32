"""Hard negatives never include a passage labelled relevant for the query."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.train.negatives import attach_negatives, bm25_negatives, model_negatives
from ragline.train.pairs import TrainingData, TrainingPair, read_beir

SCIFACT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "scifact"


def small_set() -> TrainingData:
    data = TrainingData(
        corpus=[
            "cats purr when content",
            "cats meow loudly at night",
            "kittens purr and sleep",
            "dogs bark at the mailman",
            "dogs wag their tails",
            "fish swim in the sea",
            "birds fly south for winter",
        ]
    )
    data.add_pair(TrainingPair("why do cats purr", "cats purr when content"))
    data.add_pair(TrainingPair("why do cats purr", "kittens purr and sleep"))
    data.add_pair(TrainingPair("why do dogs bark", "dogs bark at the mailman"))
    return data


def test_bm25_negatives_are_lexical_neighbours_never_positives():
    data = small_set()
    mined = bm25_negatives(data, 2)
    assert set(mined) == {"why do cats purr", "why do dogs bark"}
    for query, negatives in mined.items():
        assert negatives and not set(negatives) & data.relevant[query]
    assert mined["why do dogs bark"][0] == "dogs wag their tails"


@pytest.mark.skipif(not SCIFACT.is_dir(), reason=f"SciFact is not at {SCIFACT}")
def test_bm25_negatives_on_scifact_skip_every_labelled_positive():
    data = read_beir(SCIFACT, "train")
    part = data.subset(set(data.queries()[:150]))
    mined = bm25_negatives(part, 5)
    multi = [q for q, ps in part.relevant.items() if len(ps) > 1]
    assert multi, "the sample should hold queries with several positives"
    for query, negatives in mined.items():
        assert len(negatives) == 5
        assert not set(negatives) & part.relevant[query]


@pytest.mark.integration
def test_model_negatives_skip_positives_and_top_ranks():
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    model = SentenceTransformerEncoder("minilm").model
    data = small_set()
    mined = model_negatives(model, data, 2, relative_margin=None, batch_size=8)
    for query, negatives in mined.items():
        assert len(negatives) == 2 and not set(negatives) & data.relevant[query]
    assert mined["why do cats purr"][0].startswith("cats meow")
    skipped = model_negatives(model, data, 2, skip=1, relative_margin=None, batch_size=8)
    assert skipped["why do cats purr"][0] == mined["why do cats purr"][1]


def test_attach_negatives_gives_every_pair_the_same_width_without_positives():
    data = small_set()
    mined = {"why do cats purr": ["cats meow loudly at night"], "why do dogs bark": []}
    pairs = attach_negatives(data, [(mined, 2)], seed=1)
    assert {len(p.negatives) for p in pairs} == {2}
    for pair in pairs:
        assert not set(pair.negatives) & data.relevant[pair.query]
    assert pairs[0].negatives[0] == "cats meow loudly at night"
    assert attach_negatives(data, [], seed=1)[0].negatives == ()
