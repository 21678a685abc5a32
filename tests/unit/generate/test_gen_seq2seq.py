"""LocalGenerator, answer_token_logprobs and RAG on a tiny random T5 (an encoder-decoder).

The prompt goes to the encoder and the reply comes out of the decoder, so every value is
checked against plain, unpadded forwards with ``labels`` (the model shifts them right
itself) or against ``model.generate`` run directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from test_gen_hf_local import CHATS, WORDS  # noqa: E402

from ragline.generate.hf_local import LocalGenerator  # noqa: E402
from ragline.generate.hf_tensors import is_encoder_decoder  # noqa: E402
from ragline.generate.rag_sequence import rag_sequence  # noqa: E402
from ragline.generate.scoring import TokenScorer, TokenSteps  # noqa: E402
from ragline.generate.token_steps import Seq2SeqTokenSteps  # noqa: E402
from ragline.train.rag_loss import (  # noqa: E402
    answer_token_logprobs,
    lora_task_type,
    rag_token_loss,
)
from tiny_models import write_tiny_t5  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PRIOR = np.array([0.5, 0.3, 0.2])


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_t5(tmp_path_factory.mktemp("tiny-t5") / "t5", WORDS, seed=3)


@pytest.fixture(scope="module")
def gen(t5_dir: Path) -> LocalGenerator:
    return LocalGenerator(str(t5_dir))


def direct_logprobs(model, prompt: list[int], continuation: list[int]) -> np.ndarray:
    """``log p(continuation_i | prompt, continuation_<i)`` from one unpadded forward that
    lets the model build its own decoder inputs from ``labels``: shape (len(continuation),)."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt]), labels=torch.tensor([continuation]))
    logp = torch.log_softmax(logits.logits[0].float(), dim=-1).double()
    return logp[torch.arange(len(continuation)), torch.tensor(continuation)].numpy()


def next_logprobs(model, prompt: list[int], fed: list[int]) -> np.ndarray:
    """The decoder's next-token log-probabilities after ``fed``, with no cache: (vocab,)."""
    start = model.config.decoder_start_token_id
    with torch.no_grad():
        decoder = torch.tensor([[start, *fed]])
        logits = model(input_ids=torch.tensor([prompt]), decoder_input_ids=decoder)
    return torch.log_softmax(logits.logits[0, -1].float(), dim=-1).double().numpy()


def greedy_ids(model, prompt: list[int], n: int) -> list[int]:
    """``n`` greedy tokens, each the argmax of an uncached forward (end of text included)."""
    ids: list[int] = []
    for _ in range(n):
        ids.append(int(np.argmax(next_logprobs(model, prompt, ids))))
    return ids


def test_loads_as_an_encoder_decoder(gen: LocalGenerator) -> None:
    assert isinstance(gen, TokenScorer) and gen._model is None
    assert gen.eos_token_ids() == (1,)
    assert is_encoder_decoder(gen._model)
    assert isinstance(gen._model, transformers.T5ForConditionalGeneration)
    # No chat template: the contents, and the tokenizer's own </s> at the end.
    assert gen.prompt_ids(CHATS[0]) == gen.encode("what color is the sky ?") + [1]
    assert gen.decode(gen.encode("the cat sat")) == "the cat sat"


@pytest.mark.parametrize("chat", [0, 1, 2])
def test_generate_equals_the_models_own_greedy_output(gen: LocalGenerator, chat: int) -> None:
    ids = torch.tensor([gen.prompt_ids(CHATS[chat])])
    with torch.no_grad():
        out = gen._model.generate(ids, max_new_tokens=12, do_sample=False)
    # An encoder-decoder's output is the decoder start token, then the reply.
    assert out[0, 0] == gen._model.config.decoder_start_token_id
    reply = gen._tokenizer.decode(out[0, 1:], skip_special_tokens=True)
    assert reply and gen.generate(CHATS[chat], max_new_tokens=12) == reply


def test_greedy_generate_is_argmax_of_forward_up_to_max_new_tokens(gen: LocalGenerator) -> None:
    ids = greedy_ids(gen._model, gen.prompt_ids(CHATS[0]), 10)
    assert 1 not in ids and len(gen.decode(ids).split()) > 5
    for n in (4, 10):
        assert gen.generate(CHATS[0], max_new_tokens=n) == gen.decode(ids[:n])


def test_seeded_sampling_repeats(gen: LocalGenerator) -> None:
    samples = [
        gen.generate(CHATS[0], max_new_tokens=8, temperature=3.0, seed=seed) for seed in range(4)
    ]
    assert len(set(samples)) > 1  # sampling samples
    assert gen.generate(CHATS[0], max_new_tokens=8, temperature=3.0, seed=2) == samples[2]


def test_stop_string_cuts_the_reply_and_ends_decoding(
    gen: LocalGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = gen._model
    calls: list[int] = []
    forward = model.forward

    def counting(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", counting)
    full = gen.generate(CHATS[0], max_new_tokens=12)
    assert len(calls) == 12
    stop = full.split()[2]
    assert stop not in full.split()[:2]
    # Decoding ends with the token that completes the stop string, not at max_new_tokens.
    ends = greedy_ids(gen._model, gen.prompt_ids(CHATS[0]), 12).index(gen.encode(stop)[0]) + 1
    assert ends < 12
    calls.clear()
    cut = gen.generate(CHATS[0], max_new_tokens=12, stop=["zzz", stop])
    assert cut == full[: full.index(stop)] and stop not in cut
    assert len(calls) == ends


@pytest.mark.parametrize("stop", [(), ("zzz",), ("WORD",)])
def test_stream_joined_equals_generate(gen: LocalGenerator, stop: tuple[str, ...]) -> None:
    if stop == ("WORD",):
        stop = (gen.generate(CHATS[0], max_new_tokens=12).split()[4],)
    pieces = list(gen.stream(CHATS[0], max_new_tokens=12, stop=stop))
    assert len(pieces) > 1
    assert "".join(pieces) == gen.generate(CHATS[0], max_new_tokens=12, stop=stop)


def test_continuations_logprobs_equal_unpadded_forwards(gen: LocalGenerator) -> None:
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    assert len({len(p) for p in prompts}) == len(prompts)  # padding is exercised
    continuations = [
        gen.encode("the sky is blue .") + [gen.eos_token_ids()[0]],
        [],
        gen.encode("paris"),
    ]
    expected = np.array(
        [
            [direct_logprobs(gen._model, p, c).sum() if c else 0.0 for c in continuations]
            for p in prompts
        ]
    )
    batched = gen.continuations_logprobs(prompts, continuations)
    one_by_one = gen.continuations_logprobs(prompts, continuations, batch_size=1)
    assert batched.shape == (3, 3) and batched.dtype == np.float64
    np.testing.assert_allclose(batched, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, expected, atol=1e-5)
    # The prompt matters: the encoder's output reaches the decoder.
    assert np.ptp(batched[:, 0]) > 1e-3
    np.testing.assert_array_equal(gen.continuations_logprobs(prompts, [[]]), np.zeros((3, 1)))


def test_token_steps_equal_uncached_forwards(gen: LocalGenerator) -> None:
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    steps = gen.begin(prompts)
    assert isinstance(steps, TokenSteps) and isinstance(steps, Seq2SeqTokenSteps)
    fed: list[list[int]] = [[], [], []]

    def expected() -> np.ndarray:
        rows = zip(prompts, fed, strict=True)
        return np.stack([next_logprobs(gen._model, p, f) for p, f in rows])

    # The same token for every row, then a different token per row.
    for tokens in ([7], [9], [10, 11, 12], [13]):
        assert steps.logprobs.shape == (3, 3 + len(WORDS))
        np.testing.assert_allclose(steps.logprobs, expected(), atol=1e-5)
        steps.feed(tokens[0] if len(tokens) == 1 else tokens)
        for row in range(3):
            fed[row].append(tokens[0] if len(tokens) == 1 else tokens[row])
    np.testing.assert_allclose(steps.logprobs, expected(), atol=1e-5)
    with pytest.raises(ValueError, match="one token per row"):
        steps.feed([1, 2])


@pytest.fixture
def t5(t5_dir: Path):
    return transformers.T5ForConditionalGeneration.from_pretrained(str(t5_dir)).eval()


PROMPTS = [[5, 6, 7, 1], [8, 9, 1], [10, 11, 12, 13, 14, 1], [3, 1]]
ANSWERS = [[20, 21, 22, 1], [30, 1]]


def test_answer_token_logprobs_match_unpadded_scoring(t5) -> None:
    logprobs, mask = answer_token_logprobs(t5, PROMPTS, ANSWERS, pad_id=0)
    assert logprobs.shape == (2, 2, 4) and mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    for n, prompt in enumerate(PROMPTS):
        b, z = divmod(n, 2)
        expected = direct_logprobs(t5, prompt, ANSWERS[b])
        np.testing.assert_allclose(
            logprobs[b, z, : len(ANSWERS[b])].detach().numpy(), expected, atol=1e-5
        )
    assert logprobs[1, :, 2:].abs().sum() == 0


def test_answer_token_logprobs_backpropagate_into_encoder_and_decoder(t5) -> None:
    model = t5.train()
    model.config.dropout_rate = 0.0
    logprobs, mask = answer_token_logprobs(model, PROMPTS, ANSWERS, pad_id=0)
    rag_token_loss(torch.zeros((2, 2)), logprobs, mask, 1.0).backward()
    for part in (model.encoder, model.decoder):
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0


def test_answer_token_logprobs_through_a_lora_wrapper(t5) -> None:
    peft = pytest.importorskip("peft")
    causal = transformers.LlamaForCausalLM(
        transformers.LlamaConfig(
            vocab_size=16,
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    assert lora_task_type(causal) == "CAUSAL_LM" and not is_encoder_decoder(causal)
    assert lora_task_type(t5) == "SEQ_2_SEQ_LM"
    before, _ = answer_token_logprobs(t5, PROMPTS, ANSWERS, pad_id=0)
    config = peft.LoraConfig(r=2, target_modules="all-linear", task_type=lora_task_type(t5))
    wrapped = peft.get_peft_model(t5, config)
    assert is_encoder_decoder(wrapped) and lora_task_type(wrapped) == "SEQ_2_SEQ_LM"
    logprobs, mask = answer_token_logprobs(wrapped, PROMPTS, ANSWERS, pad_id=0)
    # LoRA starts as the identity (B = 0), so the values are the base model's.
    torch.testing.assert_close(logprobs, before.detach(), atol=1e-5, rtol=0)
    rag_token_loss(torch.zeros((2, 2)), logprobs, mask, 1.0).backward()
    lora = [p.grad for name, p in wrapped.named_parameters() if "lora_B" in name]
    assert lora and sum(float(g.abs().sum()) for g in lora) > 0


def test_a_lora_adapter_on_a_seq2seq_base_is_merged_at_load(
    t5_dir: Path, t5, tmp_path: Path
) -> None:
    peft = pytest.importorskip("peft")
    config = peft.LoraConfig(r=2, target_modules="all-linear", task_type="SEQ_2_SEQ_LM")
    wrapped = peft.get_peft_model(t5, config)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in wrapped.named_parameters():
            if "lora_B" in name:
                p.normal_(std=0.5)
    wrapped.save_pretrained(str(tmp_path / "adapter"))
    record = {"recipe": {"generator": str(t5_dir)}}
    (tmp_path / "ragline-training.json").write_text(json.dumps(record))
    adapted = LocalGenerator(str(tmp_path / "adapter"))
    base = LocalGenerator(str(t5_dir))
    prompts = [base.prompt_ids(chat) for chat in CHATS]
    continuation = base.encode("the sky is blue .")
    merged = wrapped.merge_and_unload().eval()
    expected = [direct_logprobs(merged, p, continuation).sum() for p in prompts]
    got = adapted.continuations_logprobs(prompts, [continuation])[:, 0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.abs(got - base.continuations_logprobs(prompts, [continuation])[:, 0]).max() > 1e-3


def test_rag_sequence_marginal_on_a_seq2seq_model(gen: LocalGenerator) -> None:
    result = rag_sequence(gen, CHATS, PRIOR, max_new_tokens=8)
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    m = len(result.candidates)
    assert m > 1 and result.loglik.shape == (3, m) and result.marginal.shape == (m,)
    greedy = [gen.generate(chat, max_new_tokens=8) for chat in CHATS]
    assert sorted(z for c in result.candidates for z in c.sources) == [0, 1, 2]
    for j, c in enumerate(result.candidates):
        assert all(c.text == greedy[z] for z in c.sources)
        for z, p in enumerate(prompts):
            direct = direct_logprobs(gen._model, p, c.scored_ids).sum()
            assert result.loglik[z, j] == pytest.approx(direct, abs=1e-5)
    direct = np.log((PRIOR[:, None] * np.exp(result.loglik)).sum(axis=0))
    np.testing.assert_allclose(result.marginal, direct, rtol=1e-9)
    assert result.best == int(np.argmax(direct))
    assert result.text == result.candidates[result.best].text.strip()
