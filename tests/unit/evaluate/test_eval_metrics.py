from __future__ import annotations

from math import log2
from pathlib import Path

import pytest

from ragline.evaluate import (
    evaluate_run,
    per_query,
    read_qrels,
    read_trec_run,
    write_trec_run,
)

pytrec_eval = pytest.importorskip("pytrec_eval")


# graded judgements; relevance <= 0 is not relevant
QRELS = {
    "q1": {"d1": 2, "d2": 1, "d3": 0, "d4": 1},
    "q2": {"d5": 1, "d6": 3},
    "q3": {"d7": 1},
    "q4": {"d8": 1},  # absent from the run -> 0 for every metric
}
RUN = {
    # ranks: d3 (0), d1 (2), dA, d2 (1), dB; d4 never retrieved
    "q1": {"d3": 0.9, "d1": 0.8, "dA": 0.7, "d2": 0.6, "dB": 0.5},
    # tie at 0.5 is broken by doc id descending (trec_eval): dC, d6 (3), d5 (1)
    "q2": {"d5": 0.5, "d6": 0.5, "dC": 0.9},
    # the only relevant doc is at rank 11
    "q3": {**{f"n{i:02d}": 1.0 - i / 100 for i in range(1, 11)}, "d7": 0.5},
    "q_unjudged": {"d1": 1.0},  # not in qrels: ignored
}

# expected values from the trec_eval definitions (gain = rel, discount = log2(rank + 1))
Q1_IDCG = 2 / log2(2) + 1 / log2(3) + 1 / log2(4)
Q1 = {
    "ndcg@10": (2 / log2(3) + 1 / log2(5)) / Q1_IDCG,
    "ndcg@3": (2 / log2(3)) / Q1_IDCG,  # ideal top 3 = all three relevant docs
    "recall@3": 1 / 3,
    "recall@10": 2 / 3,
    "mrr@10": 1 / 2,
    "map@10": (1 / 2 + 2 / 4) / 3,  # precision at each relevant hit / number relevant
    "precision@5": 2 / 5,
}
Q2_IDCG = 3 / log2(2) + 1 / log2(3)
Q2 = {
    "ndcg@10": (3 / log2(3) + 1 / log2(4)) / Q2_IDCG,
    "ndcg@3": (3 / log2(3) + 1 / log2(4)) / Q2_IDCG,
    "recall@3": 1.0,
    "recall@10": 1.0,
    "mrr@10": 1 / 2,
    "map@10": (1 / 2 + 2 / 3) / 2,
    "precision@5": 2 / 5,
}
Q3 = dict.fromkeys(Q1, 0.0)
Q4 = dict.fromkeys(Q1, 0.0)


def test_per_query_matches_hand_computed_trec_eval_definitions() -> None:
    scores = per_query(QRELS, RUN, list(Q1))
    assert set(scores) == {"q1", "q2", "q3", "q4"}
    for qid, expected in {"q1": Q1, "q2": Q2, "q3": Q3, "q4": Q4}.items():
        assert scores[qid] == pytest.approx(expected), qid


def test_evaluate_run_is_the_mean_over_qrels_queries_with_missing_as_zero() -> None:
    means = evaluate_run(QRELS, RUN, list(Q1))
    assert list(means) == list(Q1)
    for name in Q1:
        assert means[name] == pytest.approx((Q1[name] + Q2[name] + 0 + 0) / 4), name


def test_mrr_cut_counts_only_the_top_k() -> None:
    scores = per_query(QRELS, RUN, ["mrr@10", "mrr@11", "mrr@100", "mrr@1"])
    assert scores["q3"] == pytest.approx(
        {"mrr@10": 0.0, "mrr@11": 1 / 11, "mrr@100": 1 / 11, "mrr@1": 0.0}
    )
    assert scores["q1"]["mrr@1"] == 0.0


def test_mrr_cut_uses_trec_eval_tie_order() -> None:
    qrels = {"q": {"x": 1}}
    run = {"q": {"top": 0.9, "x": 0.5, "y": 0.5}}  # trec_eval order: top, y, x
    scores = per_query(qrels, run, ["mrr@2", "mrr@3"])["q"]
    assert scores == {"mrr@2": 0.0, "mrr@3": pytest.approx(1 / 3)}


def test_mrr_with_large_cut_equals_pytrec_eval_recip_rank() -> None:
    reference = pytrec_eval.RelevanceEvaluator(QRELS, {"recip_rank"}).evaluate(RUN)
    ours = per_query(QRELS, RUN, ["mrr@1000"])
    for qid, values in reference.items():
        assert ours[qid]["mrr@1000"] == pytest.approx(values["recip_rank"])


def test_default_metrics_agree_with_pytrec_eval() -> None:
    means = evaluate_run(QRELS, RUN)
    assert set(means) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100"}
    reference = pytrec_eval.RelevanceEvaluator(
        QRELS, {"ndcg_cut.10", "recall.10,100", "map_cut.100"}
    ).evaluate(RUN)
    for ours, theirs in [
        ("ndcg@10", "ndcg_cut_10"),
        ("recall@10", "recall_10"),
        ("recall@100", "recall_100"),
        ("map@100", "map_cut_100"),
    ]:
        expected = sum(v[theirs] for v in reference.values()) / len(QRELS)
        assert means[ours] == pytest.approx(expected), ours


def test_zero_and_negative_relevance_are_not_relevant() -> None:
    qrels = {"q": {"a": 1, "b": -1, "c": 0}}
    run = {"q": {"b": 0.9, "c": 0.8, "a": 0.7}}
    scores = per_query(qrels, run, ["recall@2", "recall@3", "mrr@10"])["q"]
    assert scores == pytest.approx({"recall@2": 0.0, "recall@3": 1.0, "mrr@10": 1 / 3})


def test_metric_names_are_case_insensitive_and_keep_the_callers_spelling() -> None:
    expected = evaluate_run(QRELS, RUN, ["ndcg@10"])["ndcg@10"]
    assert evaluate_run(QRELS, RUN, ["nDCG@10"]) == {"nDCG@10": pytest.approx(expected)}


@pytest.mark.parametrize("name", ["ndcg", "ndcg@0", "hits@10", "mrr@-1", "recall@ten"])
def test_unknown_metric_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate_run(QRELS, RUN, [name])


def test_empty_qrels_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        evaluate_run({}, RUN)


# --- file formats -----------------------------------------------------------------------------


def test_read_qrels_beir_tsv_with_header(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\nq2\td3\t1\n")
    assert read_qrels(path) == {"q1": {"d1": 2, "d2": 0}, "q2": {"d3": 1}}


def test_read_qrels_headerless_and_trec_formats(tmp_path: Path) -> None:
    beir = tmp_path / "plain.tsv"
    beir.write_text("q1\td1\t1\n\nq2\td2\t1.0\n")
    trec = tmp_path / "qrels.txt"
    trec.write_text("q1 0 d1 1\nq2 0 d2 1\n")
    assert read_qrels(beir) == read_qrels(str(trec)) == {"q1": {"d1": 1}, "q2": {"d2": 1}}


@pytest.mark.parametrize(
    ("text", "lineno"),
    [
        ("q1\td1\t1\nq1 d2\n", 2),
        ("q1\td1\t1\nq2\td2\thigh\n", 2),
        ("q1\td1\t0.5\n", 1),
        ("query-id\tcorpus-id\tscore\nq-id\tc-id\tscore\n", 2),
        ("q1 0 d1 1 extra\n", 1),
    ],
)
def test_read_qrels_bad_line_names_file_and_line(tmp_path: Path, text: str, lineno: int) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"bad\.tsv:{lineno}:"):
        read_qrels(path)


def test_trec_run_round_trip_ranks_by_descending_score(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    run = {"q1": {"a": 0.1, "b": 0.7, "c": 0.7, "d": 1 / 3}, "q2": {"x": -2.5}}
    write_trec_run(run, path, tag="bm25")
    lines = path.read_text().splitlines()
    assert lines[0].split() == ["q1", "Q0", "c", "1", "0.7", "bm25"]
    ranked = [line.split()[2:4] for line in lines[:4]]
    assert ranked == [["c", "1"], ["b", "2"], ["d", "3"], ["a", "4"]]
    assert lines[4].split() == ["q2", "Q0", "x", "1", "-2.5", "bm25"]
    back = read_trec_run(path)
    assert back == run  # scores round-trip exactly
    assert evaluate_run(QRELS, back) == evaluate_run(QRELS, run)


@pytest.mark.parametrize("tag", ["", "two words"])
def test_write_trec_run_refuses_bad_tag(tmp_path: Path, tag: str) -> None:
    with pytest.raises(ValueError, match="tag"):
        write_trec_run({"q": {"d": 1.0}}, tmp_path / "run.trec", tag)


def test_trec_run_ids_with_whitespace_round_trip_percent_encoded(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    run = {"q 1": {"Lilu (mythology)": 2.0, "50% off": 1.0, "tab\there": 0.5, "Déjà%20vu": 0.1}}
    write_trec_run(run, path, "t")
    lines = path.read_text().splitlines()
    assert [len(line.split()) for line in lines] == [6, 6, 6, 6]
    assert lines[0] == "q%201 Q0 Lilu%20(mythology) 1 2.0 t"
    assert read_trec_run(path) == run


def test_write_trec_run_refuses_empty_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        write_trec_run({"q": {"": 1.0}}, tmp_path / "run.trec", "t")


@pytest.mark.parametrize(
    ("text", "lineno"),
    [
        ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4\n", 2),
        ("q1 Q0 d1 one 0.5 t\n", 1),
        ("q1 Q0 d1 1 high t\n", 1),
        ("q1 Q0 d1 1 0.5 t\n\nq1 Q0 d1 2 0.4 t\n", 3),
    ],
)
def test_read_trec_run_bad_line_names_file_and_line(tmp_path: Path, text: str, lineno: int) -> None:
    path = tmp_path / "bad.run"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"bad\.run:{lineno}:"):
        read_trec_run(path)
