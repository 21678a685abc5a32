"""RAG-Sequence: the marginal over passages, checked directly in NumPy and on a tiny model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ragline.errors import ConfigError, RaglineError
from ragline.generate.rag_sequence import (
    greedy_candidates,
    marginal_loglik,
    passage_prior,
    rag_sequence,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_gen_hf_local import CHATS, build_tiny_model, full_logprobs  # noqa: E402

from ragline.generate.hf_local import LocalGenerator  # noqa: E402


def test_passage_prior_is_a_softmax_with_temperature() -> None:
    scores = np.array([3.0, 1.0, -2.0, 0.5])
    for t in (0.1, 0.5, 1.0, 4.0):
        expected = np.exp(scores / t) / np.exp(scores / t).sum()
        np.testing.assert_allclose(passage_prior(scores, t), expected, rtol=1e-12)
    # Lower temperature sharpens, higher flattens; order is kept.
    assert (
        passage_prior(scores, 0.5)[0] > passage_prior(scores, 1.0)[0] > passage_prior(scores, 4)[0]
    )
    assert list(np.argsort(passage_prior(scores, 2.0))) == list(np.argsort(scores))
    # Numerically stable for large scores.
    big = passage_prior([1000.0, 1001.0], 1.0)
    np.testing.assert_allclose(big, [1 / (1 + np.e), np.e / (1 + np.e)])
    with pytest.raises(ConfigError):
        passage_prior(scores, 0.0)


def test_marginal_loglik_equals_direct_sum() -> None:
    rng = np.random.default_rng(0)
    for k, m in ((1, 1), (3, 4), (5, 2)):
        prior = rng.dirichlet(np.ones(k))
        loglik = rng.normal(-20.0, 5.0, size=(k, m))
        direct = np.log((prior[:, None] * np.exp(loglik)).sum(axis=0))
        got = marginal_loglik(np.log(prior), loglik)
        assert got.shape == (m,)
        np.testing.assert_allclose(got, direct, rtol=1e-10)
    # Log space survives what exp underflows.
    got = marginal_loglik(np.log([0.5, 0.5]), np.array([[-2000.0], [-2000.0 + np.log(3)]]))
    np.testing.assert_allclose(got, [-2000.0 + np.log(2.0)])
    # A passage with zero prior drops out.
    got = marginal_loglik(np.array([0.0, -np.inf]), np.array([[-3.0], [-1.0]]))
    np.testing.assert_allclose(got, [-3.0])


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> LocalGenerator:
    return LocalGenerator(str(build_tiny_model(tmp_path_factory.mktemp("tiny-seq"))))


def test_rag_sequence_on_a_tiny_model(gen: LocalGenerator) -> None:
    prior = np.array([0.5, 0.3, 0.2])
    result = rag_sequence(gen, CHATS, prior, max_new_tokens=8)
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    m = len(result.candidates)
    assert result.loglik.shape == (3, m) and result.marginal.shape == (m,)
    # Every candidate is some passage's greedy answer, as the model's own generate finds it.
    greedy = [gen.generate(chat, max_new_tokens=8) for chat in CHATS]
    assert sorted(z for c in result.candidates for z in c.sources) == [0, 1, 2]
    for c in result.candidates:
        for z in c.sources:
            assert c.text == greedy[z]
    # loglik[z, j] is the teacher-forced log p(y_j | q, z) of a plain forward pass.
    for j, c in enumerate(result.candidates):
        for z, p in enumerate(prompts):
            logp = full_logprobs(gen._model, p + c.scored_ids)
            direct = sum(logp[len(p) - 1 + i, t] for i, t in enumerate(c.scored_ids))
            assert result.loglik[z, j] == pytest.approx(direct, abs=1e-4)
    # The marginal is log Σ_z p(z|q) p(y|q,z), and the answer is its argmax.
    direct = np.log((prior[:, None] * np.exp(result.loglik)).sum(axis=0))
    np.testing.assert_allclose(result.marginal, direct, rtol=1e-9)
    assert result.best == int(np.argmax(direct))
    assert result.text == result.candidates[result.best].text.strip()
    assert result.posterior.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(result.prior, prior)


def test_greedy_candidates_stop_and_length(gen: LocalGenerator) -> None:
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    plain = greedy_candidates(gen, prompts, max_new_tokens=6)
    assert all(c.finish in ("length", "eos") for c in plain)
    assert all(len(c.token_ids) <= 6 for c in plain)
    stop = plain[0].text.split()[2]
    cut = greedy_candidates(gen, prompts, max_new_tokens=6, stop=[stop])
    assert cut[0].finish == "stop"
    assert cut[0].text == plain[0].text[: plain[0].text.index(stop)]
    # The model's own end-of-sequence decision is scored; eos=() forces full length.
    forced = greedy_candidates(gen, prompts, max_new_tokens=3, eos=())
    assert all(len(c.token_ids) == 3 and c.scored_ids == c.token_ids for c in forced)


def test_identical_candidates_are_merged(gen: LocalGenerator) -> None:
    result = rag_sequence(gen, [CHATS[0], CHATS[0]], [0.4, 0.6], max_new_tokens=5)
    assert len(result.candidates) == 1
    assert result.candidates[0].sources == [0, 1]
    np.testing.assert_allclose(result.marginal, result.loglik[0], atol=1e-4)


def test_bad_prior_is_refused(gen: LocalGenerator, tmp_path: Path) -> None:
    with pytest.raises(RaglineError):
        rag_sequence(gen, CHATS, [0.5, 0.5], max_new_tokens=2)
    with pytest.raises(RaglineError):
        rag_sequence(gen, CHATS, [0.5, -0.1, 0.6], max_new_tokens=2)
    with pytest.raises(RaglineError):
        rag_sequence(gen, [], [], max_new_tokens=2)
