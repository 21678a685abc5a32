"""Asking: a question in, a checked and cited answer out, over any search function.

Retrieves the passages (in several hops when the configuration asks for them, see
:mod:`ragline.generate.multihop`), then writes the answer (:mod:`ragline.generate.answer`).
Generators named in a question are made once and kept, since loading a model is slow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from ragline.config import GenerateConfig
from ragline.documents import Answer, Hit
from ragline.errors import RaglineError
from ragline.filters import Filters
from ragline.generate.answer import answer, with_generation_overrides
from ragline.generate.base import Generator
from ragline.generate.citations import ClaimSupport
from ragline.generate.follow_up import ContextBudget
from ragline.generate.multihop import multihop_retrieve, scoped_search
from ragline.generate.registry import make_generator

if TYPE_CHECKING:
    from ragline.embed.base import Encoder


class SearchPassages(Protocol):
    """The top ``k`` hits for ``query`` that match ``filters``."""

    def __call__(self, query: str, *, k: int, filters: Filters | None) -> list[Hit]: ...


class AnswerPipeline:
    """Answers questions from what a search function finds; ``named_documents`` finds the
    documents that texts name by title (for the ``links`` follow-up, and ``auto`` unless a
    ``doc_id`` filter applies)."""

    def __init__(
        self,
        named_documents: Callable[[Sequence[str]], list[str]],
        encoder: Encoder | None = None,
    ) -> None:
        self.named_documents = named_documents
        self.encoder = encoder
        self._generators: dict[str, Generator] = {}

    def generator(self, generator: Generator | str | None, config: GenerateConfig) -> Generator:
        """A Generator object as given, or one made (and kept) for a name or the configured one."""
        if generator is not None and not isinstance(generator, str):
            return generator
        name = generator or config.generator
        made = self._generators.get(name)
        if made is None:
            made = make_generator(replace(config, generator=name), encoder=self.encoder)
            self._generators[name] = made
        return made

    def ask(
        self,
        question: str,
        defaults: GenerateConfig,
        search_passages: SearchPassages,
        *,
        generator: Generator | str | None = None,
        filters: Filters | None = None,
        on_token: Callable[[str], None] | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer ``question`` from what ``search_passages`` finds (``passages`` hits per
        search, within ``filters``), by ``defaults`` with the non-None ``overrides``."""
        config = with_generation_overrides(defaults, **overrides)
        model = self.generator(generator, config)
        scoped_by_id = bool(filters and "doc_id" in filters)
        if config.hops > 1 and config.follow_up == "links" and scoped_by_id:
            raise RaglineError("follow-up 'links' cannot be combined with a doc_id filter")
        search = scoped_search(search_passages, k=config.passages, filters=filters)

        encode = getattr(model, "encode", None)
        count_tokens = (lambda text: len(encode(text))) if callable(encode) else None
        started = time.perf_counter()
        if config.hops > 1:
            passages, hops = multihop_retrieve(
                question,
                search,
                model,
                hops=config.hops,
                passages=config.passages,
                follow_up=config.follow_up,
                budget=ContextBudget(config.context_tokens, count_tokens, config.answer_style),
                named_documents=None if scoped_by_id else self.named_documents,
            )
        else:
            passages = search(question)
            hops = [{"query": question, "chunk_ids": [hit.chunk.id for hit in passages]}]
        retrieval_s = time.perf_counter() - started
        # Across hops an answer may rest on two passages joined by a named entity.
        checker = ClaimSupport(bridges=True) if config.hops > 1 else None
        result = answer(
            question,
            passages,
            model,
            config,
            checker=checker,
            count_tokens=count_tokens,
            on_token=on_token,
        )
        result.hops = hops
        result.timings = {"retrieval_s": retrieval_s, **result.timings}
        return result
