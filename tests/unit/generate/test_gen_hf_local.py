"""LocalGenerator on a tiny random Llama: scoring and decoding checked against plain forwards.

The model (2 layers, hidden size 32) and a word-level tokenizer with a chat template are
built in the test and saved to a temporary directory, so LocalGenerator loads them the way
it loads any Hugging Face directory. One slow test runs the real packaged SmolLM2.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from ragline.errors import RaglineError  # noqa: E402
from ragline.generate.base import Completer, Completion, Generator, complete  # noqa: E402
from ragline.generate.gguf import converted_gguf_dir  # noqa: E402
from ragline.generate.hf_local import LocalGenerator  # noqa: E402
from ragline.generate.scoring import TokenScorer, TokenSteps  # noqa: E402
from tiny_models import word_tokenizer  # noqa: E402

SPECIAL = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
WORDS = [
    *("system", "user", "assistant", "the", "a", "cat", "dog", "sat", "on", "mat", "is"),
    *("red", "blue", "what", "color", "sky", "grass", "green", "answer", "question"),
    *("passage", "paris", "france", "capital", "of", "city", "river"),
    *(".", ",", "?", ":", "[", "]", "1", "2", "3"),
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|>"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant {% endif %}"
)


def build_tiny_model(directory: Path, seed: int = 0) -> Path:
    """Save a random 2-layer Llama and a word-level chat tokenizer to ``directory``."""
    tokenizer = word_tokenizer(SPECIAL, WORDS, unk="<unk>", pad="<pad>", eos="<|im_end|>")
    vocab = tokenizer.get_vocab()
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        eos_token_id=vocab["<|im_end|>"],
        pad_token_id=vocab["<pad>"],
        bos_token_id=None,
        # Wide initial weights give peaked next-token distributions, so greedy choices
        # are not decided by float rounding.
        initializer_range=0.3,
        tie_word_embeddings=False,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(str(directory))
    return directory


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


CHATS = [
    user("what color is the sky ?"),
    user("passage [ 1 ] : the cat sat on the mat . question : what sat on the mat ?"),
    user("paris is the capital of france . what city ?"),
]


def full_logprobs(model, ids: list[int]) -> np.ndarray:
    """log-softmax of a plain, unbatched, uncached forward pass: (len(ids), vocab)."""
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    return torch.log_softmax(logits, dim=-1).double().numpy()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def gen(tiny_dir: Path) -> LocalGenerator:
    return LocalGenerator(str(tiny_dir))


def test_constructor_is_cheap_and_protocols_hold(tiny_dir: Path) -> None:
    g = LocalGenerator(str(tiny_dir))
    assert g.name == tiny_dir.name
    assert isinstance(g, Generator)
    assert isinstance(g, TokenScorer)
    assert isinstance(g, Completer)
    assert g._model is None  # isinstance checks must not load the model
    assert LocalGenerator("smollm2").name == "SmolLM2-135M-Instruct.Q4_1"


def test_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RaglineError, match="not a model"):
        LocalGenerator(str(tmp_path)).generate(user("hi"))


def test_converted_gguf_is_reused_from_cache(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"not really a gguf")
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()[:16]
    target = tmp_path / "cache" / "models" / f"m-{digest}"
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    assert converted_gguf_dir(gguf, tmp_path / "cache") == target


def test_prompt_ids_use_the_chat_template(gen: LocalGenerator, tiny_dir: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_dir))
    text = tokenizer.apply_chat_template(CHATS[0], add_generation_prompt=True, tokenize=False)
    assert text.endswith("<|im_start|>assistant ")
    assert gen.prompt_ids(CHATS[0]) == tokenizer(text, add_special_tokens=False)["input_ids"]
    assert gen.eos_token_ids() == (tokenizer.convert_tokens_to_ids("<|im_end|>"),)
    assert gen.decode(gen.encode("the cat sat")) == "the cat sat"


def test_continuations_logprobs_equal_unbatched_forward(gen: LocalGenerator) -> None:
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    assert len({len(p) for p in prompts}) == len(prompts)  # padding is exercised
    eos = gen.eos_token_ids()[0]
    continuations = [
        gen.encode("the sky is blue .") + [eos],
        [],
        gen.encode("paris"),
        gen.encode("the grass is green"),
    ]
    expected = np.zeros((len(prompts), len(continuations)))
    for i, p in enumerate(prompts):
        for j, c in enumerate(continuations):
            logp = full_logprobs(gen._model, p + c)
            expected[i, j] = sum(logp[len(p) - 1 + s, t] for s, t in enumerate(c))
    batched = gen.continuations_logprobs(prompts, continuations)
    one_by_one = gen.continuations_logprobs(prompts, continuations, batch_size=1)
    assert batched.shape == (3, 4) and batched.dtype == np.float64
    np.testing.assert_allclose(batched, expected, atol=1e-4)
    np.testing.assert_allclose(one_by_one, expected, atol=1e-4)
    assert np.all(expected[:, [0, 2, 3]] < -1e-3) and np.ptp(expected[:, 0]) > 1e-3
    np.testing.assert_array_equal(gen.continuations_logprobs(prompts, [[]]), np.zeros((3, 1)))


def test_token_steps_equal_uncached_forward(gen: LocalGenerator) -> None:
    prompts = [gen.prompt_ids(chat) for chat in CHATS]
    steps = gen.begin(prompts)
    assert isinstance(steps, TokenSteps)
    fed: list[list[int]] = [[], [], []]
    # Same token for every row, then a different token per row.
    for tokens in ([7], [9], [10, 11, 12], [13]):
        expected = np.stack(
            [full_logprobs(gen._model, p + f)[-1] for p, f in zip(prompts, fed, strict=True)]
        )
        assert steps.logprobs.shape == expected.shape == (3, len(SPECIAL) + len(WORDS))
        np.testing.assert_allclose(steps.logprobs, expected, atol=1e-4)
        steps.feed(tokens[0] if len(tokens) == 1 else tokens)
        for row in range(3):
            fed[row].append(tokens[0] if len(tokens) == 1 else tokens[row])
    expected = np.stack(
        [full_logprobs(gen._model, p + f)[-1] for p, f in zip(prompts, fed, strict=True)]
    )
    np.testing.assert_allclose(steps.logprobs, expected, atol=1e-4)


def test_greedy_generate_is_argmax_of_forward(gen: LocalGenerator) -> None:
    prompt = gen.prompt_ids(CHATS[1])
    ids: list[int] = []
    eos = set(gen.eos_token_ids())
    for _ in range(10):
        token = int(np.argmax(full_logprobs(gen._model, prompt + ids)[-1]))
        if token in eos:
            break
        ids.append(token)
    assert gen.generate(CHATS[1], max_new_tokens=10) == gen.decode(ids)


SYSTEM = "answer the question . the answer is a city , a river or a color of the passage ."


@pytest.mark.parametrize("streamed", [False, True])
def test_system_message_is_read_once_and_replies_are_unchanged(
    tiny_dir: Path, streamed: bool
) -> None:
    g = LocalGenerator(str(tiny_dir))
    eos = set(g.eos_token_ids())
    for chat in CHATS:
        messages = [{"role": "system", "content": SYSTEM}, *chat]
        prompt, ids = g.prompt_ids(messages), []
        for _ in range(8):
            token = int(np.argmax(full_logprobs(g._model, prompt + ids)[-1]))
            if token in eos:
                break
            ids.append(token)
        on_token = (lambda piece: None) if streamed else None
        assert g.complete(messages, max_new_tokens=8, on_token=on_token).text == g.decode(ids)
    assert len(g._prefixes._caches) == 1  # the three prompts shared one system-message cache
    (prefix,) = g._prefixes._caches
    assert len(prefix) >= 16 and list(prefix) == prompt[: len(prefix)]


def test_max_new_tokens_and_seeded_sampling(gen: LocalGenerator) -> None:
    assert len(gen.encode(gen.generate(CHATS[0], max_new_tokens=4))) <= 4
    a = gen.generate(CHATS[0], max_new_tokens=12, temperature=1.0, seed=3)
    b = gen.generate(CHATS[0], max_new_tokens=12, temperature=1.0, seed=3)
    assert a == b


def test_stop_sequences_cut_output(gen: LocalGenerator) -> None:
    full = gen.generate(CHATS[0], max_new_tokens=20)
    words = full.split()
    assert len(words) >= 4
    stop = words[3]
    cut = gen.generate(CHATS[0], max_new_tokens=20, stop=["zzz", stop])
    assert cut == full[: full.index(stop)]
    assert stop not in cut


@pytest.mark.parametrize("stop", [(), ("zzz",), ("WORD",)])
def test_stream_yields_the_generated_text(gen: LocalGenerator, stop: tuple[str, ...]) -> None:
    if stop == ("WORD",):
        stop = (gen.generate(CHATS[2], max_new_tokens=16).split()[4],)
    pieces = list(gen.stream(CHATS[2], max_new_tokens=16, stop=stop))
    assert len(pieces) > 1
    assert "".join(pieces) == gen.generate(CHATS[2], max_new_tokens=16, stop=stop)


def test_stream_can_be_abandoned(gen: LocalGenerator) -> None:
    stream = gen.stream(CHATS[0], max_new_tokens=200)
    next(stream)
    stream.close()  # joins the decoding thread after cancelling it
    assert gen.generate(CHATS[0], max_new_tokens=3)


def greedy_reply(gen: LocalGenerator, chat: list[dict[str, str]], limit: int) -> list[int]:
    """The greedy reply's ids by plain forwards, up to and including the end-of-turn token."""
    prompt = gen.prompt_ids(chat)
    ids: list[int] = []
    while len(ids) < limit and (not ids or ids[-1] not in gen.eos_token_ids()):
        ids.append(int(np.argmax(full_logprobs(gen._model, prompt + ids)[-1])))
    return ids


@pytest.mark.parametrize("streamed", [False, True])
def test_complete_tells_an_ended_turn_from_a_cut_one(gen: LocalGenerator, streamed: bool) -> None:
    ids = greedy_reply(gen, CHATS[1], 40)
    assert ids[-1] in gen.eos_token_ids() and len(ids) > 3  # this chat's reply ends by itself
    pieces: list[str] = []
    on_token = pieces.append if streamed else None
    whole = complete(gen, CHATS[1], max_new_tokens=len(ids), on_token=on_token)
    assert whole == Completion(gen.decode(ids), "stop")  # the limit reached by end-of-turn
    cut = gen.complete(CHATS[1], max_new_tokens=len(ids) - 2, on_token=on_token)
    assert cut == Completion(gen.decode(ids[:-2]), "length")
    if streamed:
        assert "".join(pieces) == whole.text + cut.text
    stop = whole.text.split()[2]
    assert gen.complete(CHATS[1], max_new_tokens=len(ids) - 2, stop=[stop]) == Completion(
        whole.text[: whole.text.index(stop)], "stop"
    )


@pytest.mark.parametrize("streamed", [False, True])
def test_complete_reports_first_token_and_decoding_speed(
    gen: LocalGenerator, streamed: bool
) -> None:
    ids = greedy_reply(gen, CHATS[1], 40)
    pieces: list[str] = []
    done = gen.complete(CHATS[1], max_new_tokens=8, on_token=pieces.append if streamed else None)
    assert done.tokens == min(len(ids), 8)
    assert 0 < done.first_token_s < done.seconds
    assert done.decode_tokens_per_s() == pytest.approx(
        (done.tokens - 1) / (done.seconds - done.first_token_s)
    )


def test_int8_weights_replace_every_linear_layer_and_keep_the_reply(tiny_dir: Path) -> None:
    fp32, int8 = LocalGenerator(str(tiny_dir)), LocalGenerator(str(tiny_dir), weights="int8")
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    linear = [n for n, m in fp32._load()[0].named_modules() if isinstance(m, torch.nn.Linear)]
    quantized = [n for n, m in int8._load()[0].named_modules() if type(m) is DynamicInt8Linear]
    assert int8.int8 and not fp32.int8
    assert "lm_head" in linear and quantized == linear
    for chat in CHATS:
        reply = int8.generate(chat, max_new_tokens=6)
        assert reply and set(reply.split()) <= set(WORDS)
        assert reply.split()[0] == fp32.generate(chat, max_new_tokens=6).split()[0]


def test_weights_are_checked(tiny_dir: Path) -> None:
    with pytest.raises(RaglineError, match="generator weights 'int4'"):
        LocalGenerator(str(tiny_dir), weights="int4")
    with pytest.raises(RaglineError, match="CPU only"):
        LocalGenerator(str(tiny_dir), weights="int8", device="cuda")


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["fp32", "int8"])
def test_packaged_smollm2_answers_a_grounded_question(weights: str) -> None:
    started = time.perf_counter()
    g = LocalGenerator("smollm2", weights=weights)
    g.eos_token_ids()
    loaded = time.perf_counter() - started
    chat = [
        {"role": "system", "content": "Answer briefly, using only the passage."},
        {
            "role": "user",
            "content": "Passage [1]: The Eiffel Tower is in Paris, the capital of France.\n\n"
            "Question: In which city is the Eiffel Tower?",
        },
    ]
    started = time.perf_counter()
    answer = g.generate(chat, max_new_tokens=64)
    seconds = time.perf_counter() - started
    print(f"load {loaded:.1f} s; {len(g.encode(answer))} tokens in {seconds:.1f} s: {answer!r}")
    assert "Paris" in answer
    assert "".join(g.stream(chat, max_new_tokens=24)) == g.generate(chat, max_new_tokens=24)
    done = g.complete(chat, max_new_tokens=24)
    assert done.first_token_s is not None and (done.decode_tokens_per_s() or 0) > 0
    print(f"{weights}: first token {done.first_token_s:.2f} s, {done.decode_tokens_per_s():.1f}/s")


def test_bench_generate_times_first_token_and_the_marginalized_modes(
    tiny_dir: Path, docs_kb
) -> None:
    from ragline.bench.generate import bench_generate

    questions = ["what sat on the mat ?", "what color is the sky ?"]
    result = bench_generate(
        docs_kb, questions, generator=str(tiny_dir), k=2, max_new_tokens=6, weights=["fp32"]
    )
    assert result["questions"] == 2 and result["k"] == 2
    fp32 = result["weights"]["fp32"]
    assert fp32["load_seconds"] > 0 and 0 < fp32["ttft_p50_s"] <= fp32["ttft_p95_s"]
    rates = (fp32["plain_tokens_per_s"], fp32["rag_token_tokens_per_s"])
    assert all(rate is None or rate > 0 for rate in rates)
    assert fp32["rag_sequence_cost_per_answer"] > 0
    assert fp32["same_answer_as_baseline"] == 1.0
