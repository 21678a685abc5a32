"""rag_loss: both marginalized losses equal a direct NumPy −log Σ_z p(z|q)·p(y|q,z), their
gradients reach the scores and the log-probabilities, they stay finite for very unlikely
answers, and answer_token_logprobs teacher-forces through padding exactly."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from ragline.errors import RaglineError  # noqa: E402
from ragline.train.rag_loss import (  # noqa: E402
    answer_token_logprobs,
    rag_sequence_loss,
    rag_token_loss,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _random_case(seed: int = 0, b: int = 3, k: int = 4, t: int = 5):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(b, k))
    token_logprobs = np.log(rng.uniform(0.05, 0.95, size=(b, k, t)))
    lengths = rng.integers(1, t + 1, size=b)
    mask = np.arange(t)[None, :] < lengths[:, None]
    return scores, token_logprobs, mask


def test_sequence_loss_matches_direct_marginal() -> None:
    scores, token_logprobs, _ = _random_case()
    answer = token_logprobs.sum(axis=-1)
    for temperature in (0.1, 1.0, 3.0):
        prior = _softmax(scores / temperature)
        expected = -np.log((prior * np.exp(answer)).sum(axis=1)).mean()
        got = rag_sequence_loss(torch.tensor(scores), torch.tensor(answer), temperature=temperature)
        assert float(got) == pytest.approx(expected, rel=1e-10)


def test_token_loss_matches_direct_per_token_marginal() -> None:
    scores, token_logprobs, mask = _random_case(seed=1)
    prior = _softmax(scores / 0.5)
    per_token = np.log((prior[:, :, None] * np.exp(token_logprobs)).sum(axis=1))
    expected = -(per_token * mask).sum(axis=1).mean()
    got = rag_token_loss(
        torch.tensor(scores), torch.tensor(token_logprobs), torch.tensor(mask), temperature=0.5
    )
    assert float(got) == pytest.approx(expected, rel=1e-10)


def test_token_loss_ignores_whatever_padding_holds() -> None:
    scores, token_logprobs, mask = _random_case(seed=2)
    dirty = token_logprobs.copy()
    dirty[~np.broadcast_to(mask[:, None, :], dirty.shape)] = -np.inf
    args = (torch.tensor(scores), torch.tensor(mask))
    clean = rag_token_loss(args[0], torch.tensor(token_logprobs), args[1], 1.0)
    poked = torch.tensor(dirty, requires_grad=True)
    loss = rag_token_loss(args[0], poked, args[1], 1.0)
    loss.backward()
    assert loss.item() == pytest.approx(clean.item())
    assert torch.isfinite(poked.grad).all()


def test_one_token_answers_make_both_losses_agree() -> None:
    scores, token_logprobs, _ = _random_case(seed=3, t=1)
    mask = np.ones((3, 1), dtype=bool)
    sequence = rag_sequence_loss(torch.tensor(scores), torch.tensor(token_logprobs[..., 0]), 0.7)
    token = rag_token_loss(
        torch.tensor(scores), torch.tensor(token_logprobs), torch.tensor(mask), 0.7
    )
    assert float(sequence) == pytest.approx(float(token))


@pytest.mark.parametrize("kind", ["sequence", "token"])
def test_gradients_reach_scores_and_logprobs(kind: str) -> None:
    scores_np, token_np, mask_np = _random_case(seed=4)
    scores = torch.tensor(scores_np, requires_grad=True)
    logprobs = torch.tensor(token_np, requires_grad=True)
    if kind == "sequence":
        loss = rag_sequence_loss(scores, logprobs.sum(dim=-1), 1.0)
    else:
        loss = rag_token_loss(scores, logprobs, torch.tensor(mask_np), 1.0)
    loss.backward()
    assert scores.grad.abs().sum() > 0 and logprobs.grad.abs().sum() > 0
    # Raising a passage's answer likelihood lowers the loss and pulls its prior up.
    assert (logprobs.grad <= 0).all()


@pytest.mark.parametrize("kind", ["sequence", "token"])
def test_stable_with_very_negative_logprobs(kind: str) -> None:
    scores = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    logprobs = torch.tensor([[[-1000.0, -900.0], [-1200.0, -1100.0], [-3000.0, -1.0]]])
    logprobs.requires_grad_(True)
    mask = torch.ones((1, 2), dtype=torch.bool)
    if kind == "sequence":
        loss = rag_sequence_loss(scores, logprobs.sum(dim=-1), 0.1)
        prior = _softmax(np.array([20.0, 0.0, -10.0]))
        joint = np.log(prior) + np.array([-1900.0, -2300.0, -3001.0])
        expected = -(joint.max() + np.log(np.exp(joint - joint.max()).sum()))
    else:
        loss = rag_token_loss(scores, logprobs, mask, 0.1)
        log_prior = np.log(_softmax(np.array([20.0, 0.0, -10.0])))
        expected = 0.0
        for column in ([-1000.0, -1200.0, -3000.0], [-900.0, -1100.0, -1.0]):
            joint = log_prior + np.array(column)
            expected -= joint.max() + np.log(np.exp(joint - joint.max()).sum())
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(expected, rel=1e-6)
    assert torch.isfinite(scores.grad).all() and torch.isfinite(logprobs.grad).all()
    assert scores.grad.abs().sum() > 0


def test_shape_and_temperature_errors_name_the_input() -> None:
    scores = torch.zeros((2, 3))
    with pytest.raises(RaglineError, match="temperature 0"):
        rag_sequence_loss(scores, torch.zeros((2, 3)), 0)
    with pytest.raises(RaglineError, match="answer_logprobs shape"):
        rag_sequence_loss(scores, torch.zeros((2, 4)), 1.0)
    with pytest.raises(RaglineError, match="mask must have shape"):
        rag_token_loss(scores, torch.zeros((2, 3, 5)), torch.ones((2, 4)), 1.0)


@pytest.fixture(scope="module")
def tiny_lm():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=50,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
    )
    return transformers.LlamaForCausalLM(config).eval()


def _one_by_one(model, prompt: list[int], answer: list[int]) -> list[float]:
    ids = torch.tensor([prompt + answer])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
    return [float(logp[len(prompt) - 1 + i, token]) for i, token in enumerate(answer)]


def test_answer_token_logprobs_match_unpadded_scoring(tiny_lm) -> None:
    prompts = [[5, 6, 7], [8, 9], [10, 11, 12, 13], [3]]
    answers = [[20, 21, 22], [30]]
    logprobs, mask = answer_token_logprobs(tiny_lm, prompts, answers, pad_id=0)
    assert logprobs.shape == (2, 2, 3) and mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    for n, prompt in enumerate(prompts):
        b, z = divmod(n, 2)
        expected = _one_by_one(tiny_lm, prompt, answers[b])
        got = logprobs[b, z, : len(answers[b])].tolist()
        assert got == pytest.approx(expected, abs=1e-5)
    assert logprobs[1, :, 1:].abs().sum() == 0


def test_answer_token_logprobs_are_differentiable(tiny_lm) -> None:
    model = tiny_lm.train()
    logprobs, mask = answer_token_logprobs(model, [[5, 6], [7, 8, 9]], [[20, 21]], pad_id=0)
    loss = rag_token_loss(torch.zeros((1, 2), requires_grad=True), logprobs, mask, 1.0)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    model.zero_grad(set_to_none=True)
    model.eval()


def test_answer_token_logprobs_refuses_ragged_prompt_counts(tiny_lm) -> None:
    with pytest.raises(RaglineError, match="3 prompts for 2 answers"):
        answer_token_logprobs(tiny_lm, [[1], [2], [3]], [[4], [5]], pad_id=0)
