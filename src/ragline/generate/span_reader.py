"""An extractive reader: the answer is a span of a passage, found by a trained model.

A small encoder reads the question together with each passage and scores every span of the
passage as the answer's start and end, against a no-answer score read at ``[CLS]`` (the
SQuAD 2.0 formulation). The answer can only be words the passage holds, so the reader
cannot invent an entity; its margin over no-answer says how sure it is, and below the
threshold the reader's dev set chose, it abstains.

A reader directory is what ``ragline train reader`` writes: the packaged MiniLM's LoRA
adapter and start/end head (a few megabytes) and ``reader.json``. One ships inside ragline
(:func:`ragline.packaged_models.packaged_reader`), the reader of the default generator.

>>> Span(n=2, start=0, end=9, text="Quellport", score=4.5).cited("short")
'Quellport [2]'
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragline.errors import RaglineError
from ragline.generate.prompt import ABSTAIN_TEXT
from ragline.generate.prompt_reader import PromptReader

if TYPE_CHECKING:
    from ragline.config import GenerateConfig
    from ragline.documents import Hit

READER_FILE = "reader.json"
"""The reader's settings beside its adapter: base model, lengths and abstention threshold."""


@dataclass(frozen=True)
class ReaderSettings:
    """How a reader directory was trained and must be read: ``base`` (an embedder name or
    directory), the window ``max_length`` and ``stride`` in tokens, the longest answer in
    tokens, and ``threshold``, the margin over no-answer below which it abstains."""

    base: str = "minilm"
    max_length: int = 256
    stride: int = 64
    max_answer_tokens: int = 30
    threshold: float = 0.0

    @classmethod
    def read(cls, directory: Path) -> ReaderSettings:
        path = directory / READER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RaglineError(f"{directory}: not a reader directory ({READER_FILE}: {e})") from e
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Span:
    """A candidate answer: characters ``start:end`` of passage ``n`` (1-based), its text and
    its margin over the no-answer score."""

    n: int
    start: int
    end: int
    text: str
    score: float

    def cited(self, answer_style: str, passage_text: str = "") -> str:
        """The answer as shown: the span (``short``) or the passage sentence holding it
        (``sentence``), ending with the ``[n]`` citation."""
        body = self.text if answer_style == "short" else sentence_around(passage_text, self)
        body = body.strip()
        if body[-1:] in (".", "!", "?"):
            return f"{body[:-1]} [{self.n}]{body[-1]}"
        return f"{body} [{self.n}]"


def sentence_around(passage_text: str, span: Span) -> str:
    """The sentence of ``passage_text`` that holds ``span`` (the span itself when the
    passage gives no sentence around it).

    >>> text = "Zorbia is an island. Quellport is its capital. It rains."
    >>> sentence_around(text, Span(1, 21, 30, "Quellport", 1.0))
    'Quellport is its capital.'
    """
    from ragline.generate.citations import split_sentences

    offset = 0
    for sentence in split_sentences(passage_text):
        start = passage_text.find(sentence, offset)
        if start < 0:
            continue
        end = start + len(sentence)
        if start <= span.start and span.end <= end:
            return sentence
        offset = end
    return span.text


def resolve_reader(name: str) -> Path:
    """The reader directory ``name``, checked."""
    path = Path(name).expanduser()
    if not (path / READER_FILE).is_file():
        raise RaglineError(f"reader {name!r}: no {READER_FILE} in that directory")
    return path.resolve()


def encode_windows(
    tokenizer: Any, questions: Sequence[str], contexts: Sequence[str], settings: ReaderSettings
) -> Any:
    """Question/context windows as the reader reads them: the context cut into overlapping
    windows of ``max_length`` tokens, with character offsets to map spans back."""
    return tokenizer(
        list(questions),
        list(contexts),
        truncation="only_second",
        max_length=settings.max_length,
        stride=settings.stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
    )


def window_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    sequence_ids: Sequence[int | None],
    max_answer_tokens: int,
    top: int = 20,
) -> list[tuple[float, int, int]]:
    """The best ``(margin, char_start, char_end)`` spans of one window, best first: start
    and end tokens inside the context, in order, at most ``max_answer_tokens`` apart; the
    margin is start + end logit minus the no-answer (``[CLS]``) score."""
    null = float(start_logits[0] + end_logits[0])
    context = np.array([sid == 1 for sid in sequence_ids])
    starts = np.where(context, start_logits, -np.inf)
    ends = np.where(context, end_logits, -np.inf)
    best_starts = np.argsort(-starts)[:top]
    best_ends = np.argsort(-ends)[:top]
    spans: list[tuple[float, int, int]] = []
    for i in best_starts:
        if not context[i]:
            continue
        for j in best_ends:
            if context[j] and i <= j < i + max_answer_tokens:
                score = float(starts[i] + ends[j]) - null
                spans.append((score, offsets[i][0], offsets[j][1]))
    spans.sort(key=lambda s: -s[0])
    return spans


class SpanReader(PromptReader):
    """Reads answers out of passages: :meth:`read` gives candidate spans, best first.

    ``path`` is a reader directory; the model loads on first use. ``threshold`` overrides
    the trained abstention margin.
    """

    name = "reader"

    def __init__(
        self, path: str, *, threshold: float | None = None, precision: str = "auto"
    ) -> None:
        self.path = path
        self.precision = precision
        self._threshold = threshold
        self._settings: ReaderSettings | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: GenerateConfig) -> SpanReader:
        """The reader in directory ``config.generator``."""
        return cls(config.generator)

    @property
    def settings(self) -> ReaderSettings:
        if self._settings is None:
            self._settings = ReaderSettings.read(resolve_reader(self.path))
        return self._settings

    @property
    def threshold(self) -> float:
        """The margin over no-answer an answer needs (trained value unless overridden)."""
        return self.settings.threshold if self._threshold is None else self._threshold

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                self._tokenizer, self._model = load_reader_model(resolve_reader(self.path))
        return self._tokenizer, self._model

    def read(self, question: str, passages: Sequence[str], *, per_passage: int = 3) -> list[Span]:
        """Candidate answers to ``question`` from ``passages`` (passage ``n`` is
        ``passages[n - 1]``): up to ``per_passage`` distinct spans each, best margin first."""
        texts = [str(p) for p in passages]
        if not texts:
            return []
        import torch

        from ragline.precision import autocast

        tokenizer, model = self._load()
        settings = self.settings
        encoded = encode_windows(tokenizer, [question] * len(texts), texts, settings)
        inputs = {
            key: torch.tensor(encoded[key])
            for key in ("input_ids", "attention_mask", "token_type_ids")
            if key in encoded
        }
        with torch.inference_mode(), autocast(self.precision):
            out = model(**inputs)
        starts = out.start_logits.float().numpy()
        ends = out.end_logits.float().numpy()
        best: dict[tuple[int, int, int], Span] = {}
        for w, passage in enumerate(encoded["overflow_to_sample_mapping"]):
            for score, start, end in window_spans(
                starts[w],
                ends[w],
                encoded["offset_mapping"][w],
                encoded.sequence_ids(w),
                settings.max_answer_tokens,
            ):
                key = (passage, start, end)
                if key not in best or best[key].score < score:
                    text = texts[passage][start:end]
                    best[key] = Span(passage + 1, start, end, text, score)
        chosen: list[Span] = []
        taken: dict[int, list[Span]] = {}
        for span in sorted(best.values(), key=lambda s: -s.score):
            mine = taken.setdefault(span.n, [])
            if len(mine) >= per_passage or any(_overlap(span, other) for other in mine):
                continue
            mine.append(span)
            chosen.append(span)
        return chosen

    def answer(self, question: str, passages: Sequence[Hit]) -> tuple[str, list[int]]:
        """The sentence around the best span of ``passages`` with its ``[n]`` marker, and the
        passage number used (what multi-hop follow-ups search with); abstains below the
        threshold."""
        return self._best(question, [hit.chunk.text for hit in passages])

    def _best(self, question: str, texts: Sequence[str]) -> tuple[str, list[int]]:
        """The cited sentence around the best span of ``texts`` and its passage number, or
        an abstention when no span reaches the threshold."""
        spans = self.read(question, texts, per_passage=1)
        if not spans or spans[0].score < self.threshold:
            return ABSTAIN_TEXT, []
        return spans[0].cited("sentence", texts[spans[0].n - 1]), [spans[0].n]


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def load_reader_model(directory: Path, *, trainable: bool = False) -> tuple[Any, Any]:
    """The tokenizer and question-answering model of a reader directory: its base encoder
    with the saved LoRA adapter and span head applied (merged, unless ``trainable``), or
    the whole fine-tuned model the directory holds when it has no adapter."""
    import peft  # core dependencies: the default generator reads with a span reader
    import transformers

    from ragline._optional import quiet_transformers
    from ragline.packaged_models import resolve_model

    quiet_transformers()
    settings = ReaderSettings.read(directory)
    base, _ = resolve_model(settings.base)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(base))
    if not (directory / "adapter_config.json").is_file():
        model = transformers.AutoModelForQuestionAnswering.from_pretrained(str(directory))
        model.train(trainable)
        return tokenizer, model
    model = transformers.AutoModelForQuestionAnswering.from_pretrained(str(base))
    with warnings.catch_warnings():  # peft calls a transformers method deprecated for v6
        warnings.simplefilter("ignore", FutureWarning)
        model = peft.PeftModel.from_pretrained(model, str(directory), is_trainable=trainable)
    if not trainable:
        model = model.merge_and_unload()
        model.eval()
    return tokenizer, model
