"""A GGUF model run by llama.cpp (``[generate] weights = "gguf"`` or ``"gguf-f16"``).

transformers runs a GGUF file by dequantizing it to float32 (:mod:`ragline.generate.gguf`),
so every decoding step reads four times the bytes the file holds. llama.cpp runs the file
as it is (``gguf``: the quantized blocks, with activations quantized to 8 bits for their
products) or a float16 copy of it (``gguf-f16``: made once by llama.cpp's own quantizer
and cached beside the converted models). On the packaged SmolLM2-135M the float16 copy
gives the float32 model's logits within 0.1 and decodes faster than the 4-bit file here;
the 4-bit file flips near-tied tokens (README, "Generation speed"). It gives no gradients
and ragline does not take its logits, so it is a plain ``Generator`` and ``Completer``:
RAG-Sequence, RAG-Token and training keep the transformers path.

The prompt is built by the model's own chat template through the Hugging Face tokenizer
read from the GGUF file, the same token ids the transformers path reads, and the reply is
decoded by that tokenizer too. ``llama-cpp-python`` only exists as a source distribution
(it compiled in 9 min on two cores here), so it is an extra of its own
(``pip install 'ragline[llama]'``), outside ``all``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline._optional import quiet_transformers, require
from ragline.cache import default_cache_dir
from ragline.errors import RaglineError
from ragline.generate.base import Completion, Message
from ragline.generate.gguf import PACKAGED, file_sha256, packaged_gguf
from ragline.generate.hf_local import chat_prompt_ids, end_of_turn_ids
from ragline.generate.scoring import StopHold

if TYPE_CHECKING:
    from ragline.config import GenerateConfig

log = logging.getLogger(__name__)

FTYPE_F16 = 1
"""llama.cpp's file type for float16 weights (``LLAMA_FTYPE_MOSTLY_F16``)."""
MAX_CONTEXT = 8192
"""The context llama.cpp allocates (its key/value cache is sized for it up front); prompts
are held to the model's own context where that is shorter."""


class LlamaCppGenerator:
    """A GGUF model (``"smollm2"``, the packaged one, or a ``.gguf`` file) run by llama.cpp,
    on the file's own weights or, with ``float16``, on a float16 copy of them
    (:func:`float16_gguf`). ``threads`` defaults to the cores this process may use. The
    model loads on first use.

    >>> LlamaCppGenerator("smollm2").name
    'SmolLM2-135M-Instruct.Q4_1'
    """

    def __init__(
        self,
        path: str = "smollm2",
        *,
        float16: bool = False,
        threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.path = path
        self.file = packaged_gguf(path) if path in PACKAGED else Path(path).expanduser()
        self.name = self.file.stem
        self.float16 = float16
        self.threads = threads or len(os.sched_getaffinity(0))
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    @classmethod
    def from_config(cls, config: GenerateConfig) -> LlamaCppGenerator:
        """The GGUF model ``config.generator`` names, its weights as ``config.weights`` says."""
        return cls(config.generator, float16=config.weights == "gguf-f16")

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                if self.file.suffix != ".gguf" or not self.file.is_file():
                    raise RaglineError(
                        f"{self.path}: llama.cpp runs GGUF files; give 'smollm2' or a .gguf file"
                    )
                llama_cpp = require("llama_cpp", "llama")
                transformers = require("transformers", "generate")
                quiet_transformers()
                started = time.perf_counter()
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    str(self.file.parent), gguf_file=self.file.name, local_files_only=True
                )
                weights = float16_gguf(self.file, self.cache_dir) if self.float16 else self.file
                model = llama_cpp.Llama(
                    str(weights),
                    n_ctx=MAX_CONTEXT,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    verbose=False,
                )
                self._tokenizer, self._model = tokenizer, model
                seconds = time.perf_counter() - started
                log.info("loaded %s with llama.cpp in %.1f s", self.file, seconds)
        return self._model, self._tokenizer

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        """``messages`` through the model's chat template, generation prompt added."""
        _, tokenizer = self._load()
        return chat_prompt_ids(tokenizer, messages)

    def encode(self, text: str) -> list[int]:
        _, tokenizer = self._load()
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

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
        options = {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed}
        return self.complete(messages, stop=stop, **options).text

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Iterator[str]:
        """The reply piece by piece; joined, it equals ``generate``'s text."""
        yield from self._pieces(messages, max_new_tokens, stop, temperature, seed, {})

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
        """The reply (streamed to ``on_token`` when given), why it ended and its timings."""
        record: dict[str, Any] = {}
        pieces = []
        with closing(self._pieces(messages, max_new_tokens, stop, temperature, seed, record)) as it:
            for piece in it:
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)
        return Completion(
            "".join(pieces),
            record["finish"],
            first_token_s=record.get("first_token_s"),
            seconds=record["seconds"],
            tokens=record["tokens"],
        )

    def _pieces(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        stop: Sequence[str],
        temperature: float,
        seed: int | None,
        record: dict[str, Any],
    ) -> Iterator[str]:
        """Decode, yielding the reply as it grows (text that may begin a stop string held
        back); ``record`` receives ``finish``, ``tokens``, ``first_token_s`` and
        ``seconds`` once decoding has ended."""
        if temperature < 0:
            raise RaglineError(f"temperature must be >= 0, got {temperature}")
        started = time.perf_counter()
        model, tokenizer = self._load()
        prompt = self.prompt_ids(messages)
        context = min(model.n_ctx(), model._model.n_ctx_train())
        if len(prompt) + max_new_tokens > context:
            raise RaglineError(
                f"{self.name}: a prompt of {len(prompt)} tokens and {max_new_tokens} new ones "
                f"exceed its context of {context}"
            )
        if seed is not None:
            model.set_seed(seed)
        eos = {model.token_eos(), *end_of_turn_ids(tokenizer)}
        sampling = {"temp": temperature, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
        held = StopHold(stop)
        new: list[int] = []
        finish = "length"
        with self._lock:  # one llama.cpp context: one decoding at a time
            for token in model.generate(prompt, repeat_penalty=1.0, **sampling):
                if not new:
                    record["first_token_s"] = time.perf_counter() - started
                if token in eos:
                    finish = "stop"
                    break
                new.append(token)
                text = tokenizer.decode(new, skip_special_tokens=True)
                if not text.endswith("\ufffd"):  # a character split across tokens: wait
                    piece = held.update(text)
                    if piece:
                        yield piece
                if held.stopped:
                    finish = "stop"
                    break
                if len(new) >= max_new_tokens:
                    break
        rest = held.finish(tokenizer.decode(new, skip_special_tokens=True))
        if rest:
            yield rest
        record.update(finish=finish, tokens=len(new), seconds=time.perf_counter() - started)


def float16_gguf(gguf: Path, cache_dir: Path | None = None) -> Path:
    """``gguf`` with its weights dequantized to float16, as a GGUF file of its own made once
    by llama.cpp's quantizer and cached (``<cache>/models/<name>-<sha256 prefix>-f16.gguf``);
    written under a temporary name and renamed into place."""
    target = (cache_dir or default_cache_dir()) / "models"
    target = target / f"{gguf.stem}-{file_sha256(gguf)[:16]}-f16.gguf"
    if target.is_file():
        return target
    llama_cpp = require("llama_cpp", "llama")
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("writing a float16 copy of %s once into %s", gguf, target)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = FTYPE_F16
        params.allow_requantize = True
        failed = llama_cpp.llama_model_quantize(
            str(gguf).encode(), tmp.encode(), ctypes.byref(params)
        )
        if failed:
            raise RaglineError(f"{gguf}: llama.cpp could not write a float16 copy")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target
