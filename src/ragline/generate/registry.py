"""Generators by name: the packaged model, extractive, a span reader, a local path, or an API URL.

``GENERATORS`` maps each kind to its class, which builds itself from a ``GenerateConfig``
(``from_config``). :func:`generator_kind` says which kind a name is: a URL is an
OpenAI-compatible API, a directory written by ``ragline train reader`` a span reader,
``span-rules:DIR`` that span reader checked by the extractive reader's rules, a
registered kind itself, and anything else a local model (the packaged ``"smollm2"``, a
Hugging Face directory or a GGUF file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline.config import GenerateConfig
from ragline.generate.base import Generator
from ragline.generate.span_reader import READER_FILE
from ragline.registry import Registry

if TYPE_CHECKING:
    from ragline.embed.base import Encoder

SPAN_RULES_PREFIX = "span-rules:"
"""How a generator name asks for a span reader checked by the rules: ``span-rules:DIR``."""

GENERATORS = Registry(
    "generator",
    {
        "extractive": "ragline.generate.extractive:ExtractiveGenerator",
        "local": "ragline.generate.hf_local:LocalGenerator",
        "llama-cpp": "ragline.generate.llama_cpp:LlamaCppGenerator",
        "openai-http": "ragline.generate.openai_http:OpenAIChatGenerator",
        "span-reader": "ragline.generate.span_reader:SpanReader",
        "span-rules": "ragline.generate.span_rules:SpanRulesReader",
    },
)


def generator_kind(name: str) -> str:
    """The ``GENERATORS`` entry that runs the generator called ``name``."""
    if (Path(name).expanduser() / READER_FILE).is_file():
        return "span-reader"
    if name.startswith(SPAN_RULES_PREFIX):
        return "span-rules"
    if name in GENERATORS:
        return name
    if name.startswith(("http://", "https://")):
        return "openai-http"
    return "local"


def make_generator(config: GenerateConfig, *, encoder: Encoder | None = None) -> Generator:
    """The generator ``config.generator`` names (constructors are cheap; models load lazily):
    a local model with ``weights`` ``gguf`` or ``gguf-f16`` runs on llama.cpp. ``encoder``,
    the knowledge base's embedder, is lent to a reader that embeds sentences
    (``embeds_sentences``), so that a process holds one copy of the model, not two."""
    kind = generator_kind(config.generator)
    if kind == "local" and config.weights in ("gguf", "gguf-f16"):
        kind = "llama-cpp"
    made = GENERATORS.load(kind)
    if encoder is not None and getattr(made, "embeds_sentences", False):
        generator: Generator = made.from_config(config, encoder=encoder)
    else:
        generator = made.from_config(config)
    return generator


def local_generator(path: str, weights: str) -> Any:
    """The local model ``path`` with its weights held as ``weights``: ``fp32`` or ``int8``
    (transformers), ``gguf`` or ``gguf-f16`` (llama.cpp on the file's own weights or on a
    float16 copy)."""
    from ragline.config import GenerateConfig

    return make_generator(GenerateConfig(generator=path, weights=weights))  # type: ignore[arg-type]
