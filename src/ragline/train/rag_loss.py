"""The marginalized RAG losses of Lewis et al. (2020), in PyTorch, for end-to-end training.

A question ``q`` retrieves ``K`` passages with scores ``s_z``; the retrieval prior is
``p(z|q) = softmax(s / τ)_z`` and the generator scores the gold answer ``y`` given ``q`` and
one passage ``z``. Training on (question, answer) pairs alone maximises the answer's
probability with the passage marginalised out, so gradients reach the retriever through
``p(z|q)`` (passages that help the generator gain weight) and the generator through
``p(y|q,z)``:

- RAG-Sequence, one passage for the whole answer:
  ``loss = −log Σ_z p(z|q) · Π_i p(y_i|q,z,y_<i)``
- RAG-Token, a passage per answer token:
  ``loss = −Σ_i log Σ_z p(z|q) · p(y_i|q,z,y_<i)``

Both are averaged over the batch and computed in log space with ``logsumexp``: sequence
probabilities underflow to 0 in float32 long before an answer ends. The NumPy functions in
:mod:`ragline.generate.scoring` are the inference-time versions of the same sums.

:func:`answer_token_logprobs` produces the ``log p(y_i|q,z,y_<i)`` these losses take, from a
causal language model or an encoder-decoder (T5, BART) in one padded, differentiable forward
pass; :func:`lora_task_type` names the peft task type for LoRA on either kind.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ragline.errors import RaglineError
from ragline.generate.hf_tensors import is_encoder_decoder, pad_rows, shift_right

if TYPE_CHECKING:
    import torch


def _log_prior(query_scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """``log p(z|q)``: a log-softmax of the scores divided by ``temperature``, per row."""
    import torch

    if not temperature > 0:
        raise RaglineError(f"temperature {temperature}: must be > 0")
    if query_scores.ndim != 2 or query_scores.shape[1] == 0:
        raise RaglineError(f"query_scores must have shape (B, K), got {tuple(query_scores.shape)}")
    return torch.log_softmax(query_scores / temperature, dim=-1)


def rag_sequence_loss(
    query_scores: torch.Tensor, answer_logprobs: torch.Tensor, temperature: float
) -> torch.Tensor:
    """RAG-Sequence: ``mean_b −logsumexp_z( log p(z|q_b) + log p(y_b|q_b,z) )``.

    ``query_scores[b, z]`` is the retrieval score of passage ``z`` for question ``b`` (the
    prior is ``softmax(query_scores / temperature)``); ``answer_logprobs[b, z]`` is
    ``Σ_i log p(y_i|q,z,y_<i)``, the gold answer's log-likelihood given passage ``z``.

    >>> import torch
    >>> scores = torch.tensor([[0.0, 0.0]])
    >>> loglik = torch.log(torch.tensor([[0.2, 0.6]]))
    >>> round(float(rag_sequence_loss(scores, loglik, temperature=1.0)), 4)  # −log 0.4
    0.9163
    """
    import torch

    log_prior = _log_prior(query_scores, temperature)
    if answer_logprobs.shape != log_prior.shape:
        raise RaglineError(
            f"answer_logprobs shape {tuple(answer_logprobs.shape)} differs from "
            f"query_scores shape {tuple(log_prior.shape)}"
        )
    return -torch.logsumexp(log_prior + answer_logprobs, dim=-1).mean()


def rag_token_loss(
    query_scores: torch.Tensor,
    token_logprobs: torch.Tensor,
    mask: torch.Tensor,
    temperature: float,
) -> torch.Tensor:
    """RAG-Token: ``mean_b −Σ_i logsumexp_z( log p(z|q_b) + log p(y_i|q_b,z,y_<i) )``.

    ``token_logprobs[b, z, i]`` is ``log p(y_i|q,z,y_<i)``; ``mask[b, i]`` is true for the
    answer's real tokens (padding beyond an answer's end is left out of the sum, whatever
    ``token_logprobs`` holds there).

    >>> import torch
    >>> scores = torch.tensor([[0.0, 0.0]])
    >>> logp = torch.log(torch.tensor([[[0.2, 0.5], [0.6, 0.9]]]))
    >>> mask = torch.tensor([[True, False]])
    >>> round(float(rag_token_loss(scores, logp, mask, temperature=1.0)), 4)  # −log 0.4
    0.9163
    """
    import torch

    log_prior = _log_prior(query_scores, temperature)
    b, k = log_prior.shape
    if token_logprobs.ndim != 3 or token_logprobs.shape[:2] != (b, k):
        raise RaglineError(
            f"token_logprobs must have shape ({b}, {k}, T), got {tuple(token_logprobs.shape)}"
        )
    if mask.shape != (b, token_logprobs.shape[2]):
        raise RaglineError(
            f"mask must have shape ({b}, {token_logprobs.shape[2]}), got {tuple(mask.shape)}"
        )
    keep = mask.bool()
    # Padding may hold -inf; zeroing it first keeps logsumexp's gradient finite there.
    safe = token_logprobs.masked_fill(~keep[:, None, :], 0.0)
    per_token = torch.logsumexp(log_prior[:, :, None] + safe, dim=1)
    return -per_token.masked_fill(~keep, 0.0).sum(dim=-1).mean()


def answer_token_logprobs(
    model: Any,
    prompt_ids: Sequence[Sequence[int]],
    answer_ids: Sequence[Sequence[int]],
    *,
    pad_id: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced ``log p(y_i|prompt, y_<i)`` of each answer under ``K`` prompts each.

    ``answer_ids`` holds ``B`` answers and ``prompt_ids`` ``B·K`` prompts, answer-major: rows
    ``b·K … b·K+K−1`` are the prompts of answer ``b``. All ``B·K`` rows go through ``model``
    (a transformers causal LM or encoder-decoder, or a peft wrapper of one) in one forward.
    A causal LM reads prompts left-padded to a common end and answers right-padded after
    it, with an attention mask and position ids that make padding invisible, and computes
    logits for the answer positions only. An encoder-decoder reads the right-padded prompts
    with its encoder and the answers, shifted right, on its decoder.

    Returns ``(logprobs, mask)``: ``logprobs`` of shape ``(B, K, T)`` (``T`` the longest
    answer; 0 at padding) and ``mask`` ``(B, T)``, true at real answer tokens. Gradients
    flow to the model's trainable weights unless the caller disables them.
    """
    import torch

    b = len(answer_ids)
    if b == 0 or len(prompt_ids) % b or not prompt_ids:
        raise RaglineError(
            f"{len(prompt_ids)} prompts for {b} answers: need K >= 1 prompts per answer"
        )
    if any(len(p) == 0 for p in prompt_ids) or any(len(a) == 0 for a in answer_ids):
        raise RaglineError("answer_token_logprobs needs non-empty prompts and answers")
    k = len(prompt_ids) // b
    device = next(model.parameters()).device
    targets, mask = pad_rows([answer_ids[n // k] for n in range(len(prompt_ids))], pad_id, device)
    t = targets.shape[1]
    if is_encoder_decoder(model):
        ids, attention = pad_rows(prompt_ids, pad_id, device)
        logits = model(
            input_ids=ids,
            attention_mask=attention,
            decoder_input_ids=shift_right(model, targets),
            use_cache=False,
        ).logits
    else:
        # Rows ``pad… prompt answer …pad``: every answer starts in the same column.
        prompts, prompt_mask = pad_rows(prompt_ids, pad_id, device, left=True)
        attention = torch.cat([prompt_mask, mask], dim=1)
        extra = {"logits_to_keep": t + 1} if _keeps_logits(model) else {}
        logits = model(
            input_ids=torch.cat([prompts, targets], dim=1),
            attention_mask=attention,
            position_ids=(attention.cumsum(dim=1) - 1).clamp(min=0),
            use_cache=False,
            **extra,
        ).logits
        # The logit at column c predicts the token at c + 1: the last T + 1 columns without
        # the final one predict the T answer positions.
        logits = logits[:, -(t + 1) : -1, :]
    picked = -torch.nn.functional.cross_entropy(
        logits.float().transpose(1, 2), targets, reduction="none"
    )
    keep = mask.bool()
    picked = picked.masked_fill(~keep, 0.0)
    return picked.view(b, k, t), keep.view(b, k, t)[:, 0, :]


def lora_task_type(model: Any) -> str:
    """The peft ``task_type`` for LoRA on ``model``: ``"SEQ_2_SEQ_LM"`` for an
    encoder-decoder, ``"CAUSAL_LM"`` otherwise (peft wraps each kind in its own class)."""
    return "SEQ_2_SEQ_LM" if is_encoder_decoder(model) else "CAUSAL_LM"


def _keeps_logits(model: Any) -> bool:
    """Whether the model's forward takes ``logits_to_keep`` (a peft wrapper passes it on)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters
