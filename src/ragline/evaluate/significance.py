"""Paired significance tests between two systems' per-query scores."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

# sign-flip rows per block, bounded so memory stays ~8 MB whatever the number of queries
_BLOCK_CELLS = 1 << 20


def paired_test(
    a: Mapping[str, float],
    b: Mapping[str, float],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> dict[str, float]:
    """Compare systems ``a`` and ``b`` on the queries both were scored on.

    Tells whether a difference in a mean metric is more than query-sampling noise. Returns
    ``n`` (shared queries), ``mean_a``, ``mean_b``, ``mean_diff`` (a - b), ``t_pvalue``
    (paired t-test) and ``perm_pvalue`` (two-sided paired randomization test with
    ``n_resamples`` seeded sign flips, estimated as (hits + 1) / (n_resamples + 1)). Both
    p-values are 1.0 when the systems never differ; the t-test's is 1.0 below 2 queries and
    0.0 when every query differs by the same amount.

    >>> r = paired_test({"q1": 0.5, "q2": 1.0}, {"q1": 0.5, "q2": 1.0})
    >>> r["mean_diff"], r["t_pvalue"], r["perm_pvalue"]
    (0.0, 1.0, 1.0)
    """
    shared = sorted(a.keys() & b.keys())
    if not shared:
        raise ValueError("the two systems share no query ids")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    x = np.array([float(a[q]) for q in shared])
    y = np.array([float(b[q]) for q in shared])
    diff = x - y
    n = len(shared)
    identical = not np.any(diff)

    if identical or n < 2:
        t_pvalue = 1.0
    elif np.all(diff == diff[0]):
        t_pvalue = 0.0  # a constant non-zero difference: t is infinite (scipy warns, then says so)
    else:
        from scipy import stats

        t_pvalue = float(stats.ttest_rel(x, y).pvalue)
        if math.isnan(t_pvalue):
            t_pvalue = 1.0

    if identical:
        perm_pvalue = 1.0
    else:
        observed = abs(diff.sum())
        tolerance = 1e-9 * np.abs(diff).sum()  # flips equal to the observed up to rounding count
        rng = np.random.default_rng(seed)
        rows = max(1, _BLOCK_CELLS // n)
        hits = 0
        for start in range(0, n_resamples, rows):
            size = min(rows, n_resamples - start)
            signs = rng.integers(0, 2, size=(size, n), dtype=np.int8) * 2 - 1
            flipped = np.abs(signs @ diff)
            hits += int(np.count_nonzero(flipped >= observed - tolerance))
        perm_pvalue = (hits + 1) / (n_resamples + 1)

    return {
        "n": n,
        "mean_a": float(x.mean()),
        "mean_b": float(y.mean()),
        "mean_diff": float(diff.mean()),
        "t_pvalue": t_pvalue,
        "perm_pvalue": perm_pvalue,
    }
