"""The recipe of an end-to-end RAG run: what trains, with which loss, for how long."""

from __future__ import annotations

from dataclasses import dataclass

from ragline.errors import RaglineError
from ragline.precision import resolve_device
from ragline.train.runner import check_recipe

PARTS = ("query", "passage", "generator")
ALIASES = {"both": ("query", "generator")}
LOSSES = ("sequence", "token")


@dataclass(frozen=True)
class RagRecipe:
    """How to train end to end.

    ``train`` names the parts that learn, comma-separated: ``query``, ``passage``,
    ``generator`` (``both`` = query and generator). ``loss`` is ``"sequence"`` or
    ``"token"``; ``k`` passages per question with prior ``softmax(score / temperature)``
    (keep it equal to ``prior_temperature`` at inference). ``generator`` is ``"smollm2"``
    or a local Hugging Face directory, causal LM or encoder-decoder (T5, BART); with
    ``lora`` only rank-``lora_r``
    adapters on its linear layers train. ``batch_size`` questions per optimizer step;
    answers are cut to ``max_answer_tokens`` and each passage to ``context_tokens``. A
    training passage encoder's index is refreshed every ``refresh_every`` steps. ``device``
    ``auto`` trains on the GPU when one is present, else on the CPU.

    >>> RagRecipe(train="both", loss="token").k
    5
    >>> RagRecipe(train="query,passage").parts
    ('query', 'passage')
    >>> RagRecipe(train="documents")
    Traceback (most recent call last):
    ...
    ragline.errors.RaglineError: --train documents: name parts from query, passage, generator (or both)
    """  # noqa: E501

    train: str = "query"
    loss: str = "sequence"
    k: int = 5
    temperature: float = 0.1
    generator: str = "smollm2"
    lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    epochs: int = 1
    batch_size: int = 4
    query_learning_rate: float = 3e-5
    passage_learning_rate: float = 3e-5
    generator_learning_rate: float = 2e-4
    refresh_every: int = 50
    warmup_ratio: float = 0.1
    max_answer_tokens: int = 32
    context_tokens: int = 384
    dev_fraction: float = 0.1
    checkpoint_every: int = 50
    precision: str = "auto"
    device: str = "auto"
    seed: int = 42

    def __post_init__(self) -> None:
        check_recipe(self)
        trained_parts(self.train)
        resolve_device(self.device)
        if self.loss not in LOSSES:
            raise RaglineError(f"--loss {self.loss}: use {', '.join(LOSSES)}")
        counts = {
            "k": self.k,
            "lora-r": self.lora_r,
            "max-answer-tokens": self.max_answer_tokens,
            "context-tokens": self.context_tokens,
            "checkpoint-every": self.checkpoint_every,
            "refresh-every": self.refresh_every,
        }
        for name, value in counts.items():
            if value < 1:
                raise RaglineError(f"--{name} {value}: must be >= 1")

    @property
    def parts(self) -> tuple[str, ...]:
        return trained_parts(self.train)

    @property
    def trains_query(self) -> bool:
        return "query" in self.parts

    @property
    def trains_passage(self) -> bool:
        return "passage" in self.parts

    @property
    def trains_generator(self) -> bool:
        return "generator" in self.parts


def trained_parts(train: str) -> tuple[str, ...]:
    """The parts a ``--train`` value names, in ``PARTS`` order; an unknown name is refused."""
    named: set[str] = set()
    for word in (w.strip() for w in train.split(",")):
        if word not in (*PARTS, *ALIASES):
            raise RaglineError(f"--train {train}: name parts from {', '.join(PARTS)} (or both)")
        named.update(ALIASES.get(word, (word,)))
    return tuple(part for part in PARTS if part in named)
