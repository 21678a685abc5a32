from __future__ import annotations

import math

import numpy as np
import pytest

from ragline.evaluate import paired_test


def _scores(values: np.ndarray) -> dict[str, float]:
    return {f"q{i}": float(v) for i, v in enumerate(values)}


def test_identical_systems_give_p_one_and_no_nan() -> None:
    a = _scores(np.random.default_rng(1).random(30))
    result = paired_test(a, dict(a))
    assert result["mean_diff"] == 0.0
    assert result["t_pvalue"] == 1.0
    assert result["perm_pvalue"] == 1.0
    assert result["n"] == 30


def test_clearly_better_system_is_significant() -> None:
    rng = np.random.default_rng(7)
    b = rng.random(50)
    a = np.clip(b + 0.1 + rng.normal(0, 0.05, 50), 0, 1)
    result = paired_test(_scores(a), _scores(b))
    assert result["mean_diff"] > 0.05
    assert result["t_pvalue"] < 0.01
    assert result["perm_pvalue"] < 0.01


def test_tiny_noise_is_not_significant() -> None:
    rng = np.random.default_rng(3)
    b = rng.random(50)
    a = b + rng.normal(0, 0.01, 50)
    result = paired_test(_scores(a), _scores(b))
    assert result["t_pvalue"] > 0.05
    assert result["perm_pvalue"] > 0.05
    # the two tests agree on what they measure
    assert result["perm_pvalue"] == pytest.approx(result["t_pvalue"], abs=0.05)


def test_uses_only_shared_queries_and_reports_means() -> None:
    a = {"q1": 1.0, "q2": 1.0, "only_a": 0.0}
    b = {"q1": 0.0, "q2": 0.5, "only_b": 1.0}
    result = paired_test(a, b)
    assert result["n"] == 2
    assert result["mean_a"] == 1.0
    assert result["mean_b"] == 0.25
    assert result["mean_diff"] == 0.75
    # differences (1, 0.5): of the 4 sign patterns, (+,+) and (-,-) reach |sum| = 1.5 -> p ~ 0.5
    assert result["perm_pvalue"] == pytest.approx(0.5, abs=0.03)


def test_deterministic_and_symmetric() -> None:
    rng = np.random.default_rng(5)
    a, b = _scores(rng.random(20)), _scores(rng.random(20))
    ab, ba = paired_test(a, b), paired_test(b, a)
    assert paired_test(a, b) == ab
    assert ab["perm_pvalue"] == ba["perm_pvalue"]
    assert ab["t_pvalue"] == pytest.approx(ba["t_pvalue"])
    assert ab["mean_diff"] == pytest.approx(-ba["mean_diff"])


def test_degenerate_inputs_give_no_nan() -> None:
    ids = [f"q{i}" for i in range(10)]
    constant_gap = paired_test(dict.fromkeys(ids, 0.5), dict.fromkeys(ids, 0.25))
    one_query = paired_test({"q": 1.0}, {"q": 0.0})
    for result in (constant_gap, one_query):
        assert not any(math.isnan(v) for v in result.values())
    assert constant_gap["perm_pvalue"] < 0.01
    assert one_query["t_pvalue"] == 1.0


def test_no_shared_queries_is_refused() -> None:
    with pytest.raises(ValueError, match="share no query"):
        paired_test({"a": 1.0}, {"b": 1.0})
