"""Generators by name: the packaged model, extractive, a local path, or an API URL."""

from __future__ import annotations

from pathlib import Path

from ragline.config import GenerateConfig
from ragline.generate.base import Generator
from ragline.generate.span_reader import READER_FILE


def make_generator(config: GenerateConfig) -> Generator:
    """The generator ``config.generator`` names (constructors are cheap; models load lazily).

    a directory written by ``ragline train reader`` extracts spans;
    ``"extractive"`` needs no language model; ``http(s)://…`` is an OpenAI-compatible API
    (``config.model`` names the remote model); anything else is a local model: the packaged
    ``"smollm2"``, a Hugging Face directory or a GGUF file.
    """
    name = config.generator
    if (Path(name).expanduser() / READER_FILE).is_file():
        from ragline.generate.span_reader import SpanReader

        return SpanReader(name)
    if name == "extractive":
        from ragline.generate.extractive import ExtractiveGenerator

        return ExtractiveGenerator()
    if name.startswith(("http://", "https://")):
        from ragline.generate.openai_http import OpenAIChatGenerator

        return OpenAIChatGenerator(name, config.model or "default", api_key_env=config.api_key_env)
    from ragline.generate.hf_local import LocalGenerator

    return LocalGenerator(name)
