"""RAG-Token: per-step mixtures checked against separate uncached forwards on tiny models, a
causal LM (Llama) and an encoder-decoder (T5)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from ragline.generate.rag_token import mix_next_token, rag_token, source_spans

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_gen_hf_local import CHATS, WORDS, build_tiny_model, full_logprobs  # noqa: E402
from test_gen_seq2seq import next_logprobs  # noqa: E402

from ragline.generate.hf_local import LocalGenerator  # noqa: E402
from tiny_models import write_tiny_t5  # noqa: E402


def test_mix_next_token_equals_direct_mixture() -> None:
    rng = np.random.default_rng(1)
    k, vocab = 4, 11
    prior = rng.dirichlet(np.ones(k))
    logits = rng.normal(size=(k, vocab)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = mix_next_token(np.log(prior), np.log(probs))
    assert got.shape == (vocab,)
    np.testing.assert_allclose(np.exp(got), prior @ probs, rtol=1e-10)
    assert np.exp(got).sum() == pytest.approx(1.0)


def test_source_spans_collapse_runs() -> None:
    offsets = [(0, 4), (4, 8), (8, 8), (8, 12), (12, 15)]
    spans = source_spans(offsets, [1, 1, 0, 0, 1], [0.8, 0.6, 0.9, 0.7, 0.5])
    assert spans == [
        {"start": 0, "end": 8, "passage": 2, "share": pytest.approx(0.7)},
        {"start": 8, "end": 12, "passage": 1, "share": pytest.approx(0.7)},
        {"start": 12, "end": 15, "passage": 2, "share": 0.5},
    ]
    assert source_spans([], [], []) == []


@pytest.fixture(scope="module", params=["llama", "t5"])
def gen(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LocalGenerator:
    directory = tmp_path_factory.mktemp(f"tiny-{request.param}")
    if request.param == "t5":
        return LocalGenerator(str(write_tiny_t5(directory / "t5", WORDS, seed=3)))
    return LocalGenerator(str(build_tiny_model(directory)))


def next_token_logprobs(gen: LocalGenerator, prompt: list[int], fed: list[int]) -> np.ndarray:
    """log p(next token | prompt, fed) from one uncached forward of the generator's model."""
    if gen._seq2seq:
        return next_logprobs(gen._model, prompt, fed)
    return full_logprobs(gen._model, prompt + fed)[-1]


PRIOR = np.array([0.5, 0.3, 0.2])


def test_each_step_is_the_prior_weighted_mixture(gen: LocalGenerator) -> None:
    result = rag_token(gen, CHATS, PRIOR, max_new_tokens=10, eos=())
    assert len(result.token_ids) == 10 and result.finish == "length"
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    for i, token in enumerate(result.token_ids):
        # p(y_i | q, y_<i) = Σ_z p(z|q) softmax(logits_z), each z by its own uncached forward.
        per_passage = np.stack(
            [np.exp(next_token_logprobs(gen, p, result.token_ids[:i])) for p in prompts]
        )
        mixture = PRIOR @ per_passage
        assert token == int(np.argmax(mixture))
        assert result.token_logprobs[i] == pytest.approx(np.log(mixture[token]), abs=1e-4)
        terms = PRIOR * per_passage[:, token]
        assert result.token_passages[i] == int(np.argmax(terms))
        assert result.token_shares[i] == pytest.approx(terms.max() / mixture[token], abs=1e-4)
    assert result.text == gen.decode(result.token_ids).strip()


class UncachedScorer:
    """The same model, but every step re-runs each prompt alone from scratch (no cache)."""

    def __init__(self, gen: LocalGenerator) -> None:
        self.gen = gen
        self.name = gen.name

    def __getattr__(self, name: str):
        return getattr(self.gen, name)

    def begin(self, prompt_ids: Sequence[list[int]]) -> UncachedSteps:
        return UncachedSteps(self.gen, prompt_ids)


class UncachedSteps:
    def __init__(self, gen: LocalGenerator, prompts: Sequence[list[int]]) -> None:
        self.gen, self.prompts = gen, [list(p) for p in prompts]
        self.fed: list[list[int]] = [[] for _ in prompts]
        self.logprobs = self._compute()

    def _compute(self) -> np.ndarray:
        pairs = zip(self.prompts, self.fed, strict=True)
        return np.stack([next_token_logprobs(self.gen, p, fed) for p, fed in pairs])

    def feed(self, token_ids: int | Sequence[int]) -> np.ndarray:
        column = [token_ids] * len(self.fed) if isinstance(token_ids, int) else token_ids
        for fed, token in zip(self.fed, column, strict=True):
            fed.append(int(token))
        self.logprobs = self._compute()
        return self.logprobs


def test_cached_batched_path_equals_uncached(gen: LocalGenerator) -> None:
    cached = rag_token(gen, CHATS, PRIOR, max_new_tokens=12)
    uncached = rag_token(UncachedScorer(gen), CHATS, PRIOR, max_new_tokens=12)
    assert cached.token_ids == uncached.token_ids
    assert cached.text == uncached.text
    assert cached.token_passages == uncached.token_passages
    np.testing.assert_allclose(cached.token_logprobs, uncached.token_logprobs, atol=1e-4)
    assert cached.sources == [
        {**s, "share": pytest.approx(s["share"], abs=1e-4)} for s in uncached.sources
    ]


def test_one_passage_is_plain_greedy_decoding(gen: LocalGenerator) -> None:
    result = rag_token(gen, CHATS[1:2], [1.0], max_new_tokens=10)
    assert result.text == gen.generate(CHATS[1], max_new_tokens=10).strip()
    assert set(result.token_passages) <= {0}
    assert all(s["passage"] == 1 for s in result.sources)


def test_spans_cover_the_text_and_stop_cuts_it(gen: LocalGenerator) -> None:
    full = rag_token(gen, CHATS, PRIOR, max_new_tokens=12, eos=())
    spans = full.sources
    assert spans[0]["start"] == 0 and spans[-1]["end"] == len(full.text)
    for a, b in itertools.pairwise(spans):
        assert a["end"] == b["start"] and a["passage"] != b["passage"]
    assert all(1 <= s["passage"] <= 3 and 0 < s["share"] <= 1 for s in spans)
    stop = full.text.split()[3]
    cut = rag_token(gen, CHATS, PRIOR, max_new_tokens=12, stop=[stop], eos=())
    assert cut.finish == "stop"
    assert cut.text == full.text[: full.text.index(stop)].strip()
    assert cut.sources[-1]["end"] <= len(cut.text)
