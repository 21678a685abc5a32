"""End-to-end RAG fine-tuning on (question, answer) pairs, the passage marginalized out.

As in Lewis et al. (2020), no passage labels are needed: each question retrieves its top-k
chunks, the retrieval prior is ``p(z|q) = softmax(q·d_z / τ)``, the generator scores the gold
answer under each passage alone, and the loss is the negative log of the marginal answer
probability (:mod:`ragline.train.rag_loss`). The query encoder learns to rank the passages
that help the generator produce the answer; the generator learns to answer from them.

What trains (``RagRecipe.train``, comma-separated parts): the query encoder (a copy of the
knowledge base's sentence-transformers embedder), the generator (LoRA adapters by default),
and the passage encoder (another copy of the embedder). By default the passage encoder
stays frozen, as in RAG: the knowledge base's stored chunk vectors are the passage index.
When it trains, the index of the stored chunks is re-encoded every ``refresh_every`` steps
and swapped in whole (:mod:`ragline.train.rag_passages`), and the knowledge base must be
re-embedded with the trained passage encoder afterwards (``ragline reindex``).

Training matches ``ragline ask --mode sequence`` at inference: dense top-k retrieval, the
prior's temperature, and one prompt per passage built by
:func:`ragline.generate.prompt.passage_messages` with the generator's own chat template.
The answer is teacher-forced followed by the end-of-turn token, the way RAG-Sequence
decoding scores a finished answer.

Output directory::

    query-encoder/          sentence-transformers model (when the query or passage encoder
                            trained: queries and passages are then encoded by two models)
    passage-encoder/        sentence-transformers model (when the passage encoder trained)
    generator/              peft LoRA adapter, or a full model with LoRA off (when trained)
    ragline-training.json   recipe and report
    training-log.jsonl      loss per step, dev answer F1 per epoch

Every ``checkpoint_every`` steps the whole training state is saved beside the output (in
``.<name>.checkpoint/``) so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline.errors import RaglineError
from ragline.precision import autocast, resolve_device
from ragline.train.rag_passages import PROBE_QUERIES, FrozenPassages, RefreshedPassages
from ragline.train.runner import (
    LOG_FILE,
    RECIPE_FILE,
    check_recipe,
    seed_everything,
    staged_output,
)

if TYPE_CHECKING:
    import numpy as np
    import torch
    from numpy.typing import NDArray

    from ragline.documents import Hit
    from ragline.generate.base import Message
    from ragline.kb import KnowledgeBase

log = logging.getLogger(__name__)

PARTS = ("query", "passage", "generator")
ALIASES = {"both": ("query", "generator")}
LOSSES = ("sequence", "token")
QUERY_ENCODER_DIR = "query-encoder"
PASSAGE_ENCODER_DIR = "passage-encoder"
GENERATOR_DIR = "generator"
CHECKPOINT_FILE = "state.pt"
DEV_STOP = ("\n\n",)
LORA_DROPOUT = 0.05
MAX_GRAD_NORM = 1.0
EMBED_BATCH = 32
LOG_EVERY = 10

QaPair = tuple[str, str]


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


# ---- data ---------------------------------------------------------------------------------


def _clean_pair(question: Any, answer: Any) -> QaPair | None:
    """``(question, answer)`` stripped, or None unless both are non-empty strings."""
    if not (isinstance(question, str) and isinstance(answer, str)):
        return None
    return (question.strip(), answer.strip()) if question.strip() and answer.strip() else None


def _paragraph_pairs(qas: Sequence[dict[str, Any]]) -> list[QaPair]:
    """A SQuAD paragraph's answerable pairs (first gold answer each), in file order."""
    pairs: list[QaPair] = []
    for qa in qas:
        answers = [] if qa.get("is_impossible") else qa.get("answers", [])
        pair = _clean_pair(qa.get("question"), answers[0].get("text") if answers else "")
        if pair is not None:
            pairs.append(pair)
    return pairs


def _records(path: Path) -> tuple[Any, int]:
    """The parsed json file, or the parsed lines of a JSONL file and how many were not JSON."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".jsonl":
        try:
            return json.loads(text), 0
        except json.JSONDecodeError as e:
            raise RaglineError(f"{path}: not valid JSON ({e})") from e
    records, bad = [], 0
    for line in text.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return records, bad


def read_qa_pairs(path: str | Path) -> list[QaPair]:
    """(question, answer) pairs from SQuAD json (answerable questions, first gold answer),
    a HotpotQA-style json list or JSONL of ``{"question", "answer"}`` records.

    Skipped records (unanswerable, missing or empty fields, unparsable lines) are counted
    and logged as a warning.

    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "pairs.jsonl"
    ...     _ = path.write_text(json.dumps({"question": "Who?", "answer": "Ada"}) + "\\n{}\\n")
    ...     read_qa_pairs(path)
    [('Who?', 'Ada')]
    """
    path = Path(path)
    if not path.is_file():
        raise RaglineError(f"{path}: no such file")
    data, skipped = _records(path)
    if isinstance(data, dict) and "data" in data:
        from ragline.evaluate.qa import squad_paragraphs

        paragraphs = list(squad_paragraphs(data))
        pairs = [pair for p in paragraphs for pair in _paragraph_pairs(p.qas)]
        skipped += sum(len(p.qas) for p in paragraphs) - len(pairs)
    elif isinstance(data, list):
        found = [
            _clean_pair(r.get("question"), r.get("answer")) if isinstance(r, dict) else None
            for r in data
        ]
        pairs = [pair for pair in found if pair is not None]
        skipped += len(found) - len(pairs)
    else:
        raise RaglineError(f"{path}: expected SQuAD json, a json list or JSONL of records")
    if skipped:
        log.warning("%s: read %d pairs, skipped %d records", path, len(pairs), skipped)
    return pairs


def split_squad_by_paragraph(
    path: str | Path, test_fraction: float, seed: int = 0
) -> tuple[list[QaPair], list[QaPair]]:
    """Train and test pairs of a SQuAD file, split by paragraph so that no test question's
    paragraph was seen in training.

    The split is fixed (``ragline.evaluate.qa.squad_paragraphs``, which ``ragline eval qa
    --held-out`` uses too): paragraphs numbered in file order, shuffled with
    ``random.Random(seed)``, the first ``round(test_fraction · paragraphs)`` to test. Each
    side keeps the answerable questions of its paragraphs (first gold answer), in file
    order.
    """
    from ragline.evaluate.qa import squad_paragraphs

    path = Path(path)
    data, _ = _records(path)
    if not (isinstance(data, dict) and "data" in data):
        raise RaglineError(f"{path}: not a SQuAD json file")
    sides: dict[bool, list[QaPair]] = {False: [], True: []}
    for paragraph in squad_paragraphs(data, test_fraction, seed):
        sides[paragraph.held_out] += _paragraph_pairs(paragraph.qas)
    return sides[False], sides[True]


def _split(
    pairs: Sequence[QaPair], dev_pairs: Sequence[QaPair] | None, recipe: RagRecipe
) -> tuple[list[QaPair], list[QaPair]]:
    """Training and dev pairs: ``dev_pairs`` when given, else a seeded ``dev_fraction``."""
    for n, pair in enumerate([*pairs, *(dev_pairs or [])]):
        if len(pair) != 2 or _clean_pair(*pair) is None:
            raise RaglineError(f"pair {n} {pair!r}: need a non-empty question and answer")
    if dev_pairs is not None:
        return list(pairs), list(dev_pairs)
    order = list(range(len(pairs)))
    random.Random(recipe.seed).shuffle(order)
    held = set(order[: round(recipe.dev_fraction * len(pairs))])
    train = [p for n, p in enumerate(pairs) if n not in held]
    return train, [p for n, p in enumerate(pairs) if n in held]


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


# ---- models -------------------------------------------------------------------------------


def _load_encoder(kb: KnowledgeBase, device: str) -> Any:
    """A trainable copy of the knowledge base's sentence-transformers embedder."""
    from ragline.packaged_models import resolve_model

    name = kb.config.embed.model
    if name.startswith("hash-"):
        raise RaglineError(
            f"embedder {name!r}: end-to-end training needs a sentence-transformers embedder"
        )
    path, _ = resolve_model(name)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device=device)


def _embed(model: Any, texts: Sequence[str], prefix: str) -> torch.Tensor:
    """Unit query vectors as the encoder computes them (its pooling, then L2-normalised),
    differentiable unless called under ``torch.no_grad``."""
    import torch

    features = model.preprocess([prefix + text for text in texts])
    features = {k: v.to(model.device) if hasattr(v, "to") else v for k, v in features.items()}
    vectors = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(vectors.float(), dim=-1)


def _load_generator(recipe: RagRecipe, device: str) -> tuple[Any, Any]:
    """The LocalGenerator (prompts, tokens, decoding) and the module to train or score with.

    LoRA adapters are injected into the LocalGenerator's own model, so its decoding (used
    for the dev F1) sees the weights being trained; that module is the peft wrapper.
    """
    from ragline.generate.hf_local import LocalGenerator
    from ragline.train.rag_loss import lora_task_type

    local = LocalGenerator(recipe.generator, device=device)
    model, _ = local._load()
    model.requires_grad_(recipe.trains_generator and not recipe.lora)
    if not (recipe.trains_generator and recipe.lora):
        return local, model
    from ragline._optional import require

    peft = require("peft", "train")
    config = peft.LoraConfig(
        r=recipe.lora_r,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=LORA_DROPOUT,
        target_modules="all-linear",
        task_type=lora_task_type(model),
    )
    return local, peft.get_peft_model(model, config)


def _trainable_state(module: Any) -> dict[str, Any]:
    """The trainable parameters of ``module`` (all of a full model, the adapters of LoRA)."""
    return {name: p.detach().clone() for name, p in module.named_parameters() if p.requires_grad}


# ---- the trainer --------------------------------------------------------------------------


class _RagTrainer:
    """The models, optimizer and schedule of one run, and the loss of one question."""

    def __init__(
        self,
        kb: KnowledgeBase,
        examples: list[QaPair],
        recipe: RagRecipe,
        total_steps: int,
        hidden: Collection[str] = (),
    ) -> None:
        self.recipe = recipe
        self.examples = examples
        self.prefix = kb.config.embed.query_prefix
        self.device = resolve_device(recipe.device)
        self.query_model = _load_encoder(kb, self.device)
        self.query_model.requires_grad_(recipe.trains_query)
        self.passage_model: Any = None
        self.passages: FrozenPassages
        if recipe.trains_passage:
            self.passage_model = _load_encoder(kb, self.device)
            document_prefix = kb.config.embed.document_prefix
            self.passages = RefreshedPassages(
                kb, lambda texts: _embed(self.passage_model, texts, document_prefix), hidden
            )
        else:
            self.passages = FrozenPassages(kb, hidden)
        self.k = min(recipe.k, len(self.passages))
        if self.k < recipe.k:
            log.warning("%s holds %d chunks: k lowered to %d", kb.path, self.k, self.k)
        self.local, self.model = _load_generator(recipe, self.device)
        _, self.tokenizer = self.local._load()
        eos = self.local.eos_token_ids()
        self.eos = min(eos) if eos else None
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else (self.eos or 0))
        self.answer_ids = [self._answer_ids(answer) for _, answer in examples]
        self.cache: dict[tuple[int, int], torch.Tensor] = {}
        self.optimizer, self.scheduler = self._optimizer(total_steps)
        self.set_training(True)

    def _optimizer(self, total_steps: int) -> tuple[Any, Any]:
        """AdamW with a learning rate per trained part; linear warm-up, then linear decay."""
        import torch
        from transformers import get_linear_schedule_with_warmup

        recipe = self.recipe
        groups: list[dict[str, Any]] = []
        if recipe.trains_query:
            groups.append(
                {"params": _trainable(self.query_model), "lr": recipe.query_learning_rate}
            )
        if recipe.trains_passage:
            groups.append(
                {"params": _trainable(self.passage_model), "lr": recipe.passage_learning_rate}
            )
        if recipe.trains_generator:
            groups.append({"params": _trainable(self.model), "lr": recipe.generator_learning_rate})
        optimizer = torch.optim.AdamW(groups)
        warmup = int(recipe.warmup_ratio * total_steps)
        return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps)

    def _answer_ids(self, answer: str) -> list[int]:
        """The answer's tokens, ended by the end-of-turn token unless cut at the limit."""
        ids = self.local.encode(answer)
        if len(ids) >= self.recipe.max_answer_tokens or self.eos is None:
            return ids[: self.recipe.max_answer_tokens]
        return ids + [self.eos]

    def _autocast(self) -> Any:
        return autocast(self.recipe.precision, "cuda" if self.device.startswith("cuda") else "cpu")

    def set_training(self, training: bool) -> None:
        """Dropout on for the parts that train (while training), off otherwise."""
        self.query_model.train(training and self.recipe.trains_query)
        if self.passage_model is not None:
            self.passage_model.train(training)
        self.model.train(training and self.recipe.trains_generator)

    def prompt(self, question: str, hit: Hit) -> list[int]:
        """The prompt ids ``ragline ask --mode sequence`` builds for one passage."""
        messages = self.messages(question, hit)
        return self.local.prompt_ids(messages)

    def messages(self, question: str, hit: Hit) -> list[Message]:
        from ragline.generate.prompt import passage_messages

        return passage_messages(
            question,
            hit,
            count_tokens=lambda text: len(self.local.encode(text)),
            context_tokens=self.recipe.context_tokens,
        )

    def question_loss(self, number: int) -> torch.Tensor:
        """The chosen RAG loss of training question ``number``, with its graph."""
        import torch

        from ragline.train.rag_loss import rag_sequence_loss, rag_token_loss

        question, _ = self.examples[number]
        with torch.set_grad_enabled(self.recipe.trains_query):
            query = _embed(self.query_model, [question], self.prefix)
        rowids = self.passages.top_k(query.detach().cpu().numpy(), self.k)[0]
        scores = query @ self.passages.vectors(rowids).to(query.device).T
        logprobs, mask = self._answer_logprobs(number, rowids)
        if self.recipe.loss == "sequence":
            return rag_sequence_loss(scores, logprobs.sum(dim=-1), self.recipe.temperature)
        return rag_token_loss(scores, logprobs, mask, self.recipe.temperature)

    def _answer_logprobs(self, number: int, rowids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``log p(y_i|q,z,y_<i)`` of question ``number``'s answer under each passage,
        ``(1, k, T)``, and its mask. A frozen generator's values are cached per passage."""
        import torch

        from ragline.train.rag_loss import answer_token_logprobs

        question, _ = self.examples[number]
        answer = [self.answer_ids[number]]
        if self.recipe.trains_generator:
            prompts = [self.prompt(question, hit) for hit in self.passages.hits(rowids)]
            with self._autocast():
                return answer_token_logprobs(self.model, prompts, answer, pad_id=self.pad_id)
        missing = [r for r in rowids if (number, r) not in self.cache]
        if missing:
            prompts = [self.prompt(question, hit) for hit in self.passages.hits(missing)]
            with torch.no_grad(), self._autocast():
                found, _ = answer_token_logprobs(self.model, prompts, answer, pad_id=self.pad_id)
            self.cache.update({(number, r): row for r, row in zip(missing, found[0], strict=True)})
        logprobs = torch.stack([self.cache[(number, r)] for r in rowids])[None]
        return logprobs, torch.ones((1, logprobs.shape[2]), dtype=torch.bool)

    def step(self, batch: Sequence[int]) -> float:
        """One optimizer step over ``batch``: the mean loss, back-propagated one question at
        a time (the same gradient as the whole batch at once, holding one question's graph)."""
        import torch

        total = 0.0
        for number in batch:
            loss = self.question_loss(number) / len(batch)
            loss.backward()
            total += float(loss.detach())
        trained = [p for group in self.optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(trained, MAX_GRAD_NORM)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total

    def dev_f1(self, dev: Sequence[QaPair]) -> float | None:
        """Mean answer F1 of greedy answers from each dev question's top-1 passage."""

        from ragline.evaluate.qa_metrics import f1
        from ragline.generate.answer import first_answer
        from ragline.generate.citations import strip_citations

        if not dev:
            return None
        self.set_training(False)
        top = [row[0] for row in self.passages.top_k(self.query_vectors([q for q, _ in dev]), 1)]
        total = 0.0
        for (question, answer), hit in zip(dev, self.passages.hits(top), strict=True):
            with self._autocast():
                text = self.local.generate(
                    self.messages(question, hit),
                    max_new_tokens=self.recipe.max_answer_tokens,
                    stop=DEV_STOP,
                )
            total += f1(strip_citations(first_answer(text)).strip(), [answer])
        self.set_training(True)
        return total / len(dev)

    def query_vectors(self, questions: Sequence[str]) -> NDArray[np.float32]:
        """Unit vectors of ``questions`` from the query encoder as it is now (no gradient)."""
        import torch

        with torch.no_grad():
            parts = [
                _embed(self.query_model, questions[lo : lo + EMBED_BATCH], self.prefix)
                for lo in range(0, len(questions), EMBED_BATCH)
            ]
        return torch.cat(parts).cpu().numpy()

    def refresh_index(self, step: int) -> dict[str, Any]:
        """Re-encode the passages with the passage encoder as trained so far and swap the
        new index in; the record says how stale the replaced one was, measured on the first
        ``PROBE_QUERIES`` training questions."""
        assert isinstance(self.passages, RefreshedPassages)
        self.set_training(False)
        probe = self.query_vectors([q for q, _ in self.examples[:PROBE_QUERIES]])
        record = self.passages.refresh(step, probe, self.k)
        self.set_training(True)
        return record

    def state_dict(self) -> dict[str, Any]:
        state = {
            "query": _trainable_state(self.query_model),
            "generator": _trainable_state(self.model),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }
        if isinstance(self.passages, RefreshedPassages):
            state["passage"] = _trainable_state(self.passage_model)
            state["passage_index"] = self.passages.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.query_model.load_state_dict(state["query"], strict=False)
        self.model.load_state_dict(state["generator"], strict=False)
        if isinstance(self.passages, RefreshedPassages):
            self.passage_model.load_state_dict(state["passage"], strict=False)
            self.passages.load_state_dict(state["passage_index"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def save(self, directory: Path) -> list[str]:
        """Write the parts that trained into ``directory``; returns their folder names."""
        written = []
        if self.recipe.trains_query or self.recipe.trains_passage:
            self.query_model.save(str(directory / QUERY_ENCODER_DIR))
            written.append(QUERY_ENCODER_DIR)
        if self.recipe.trains_passage:
            self.passage_model.save(str(directory / PASSAGE_ENCODER_DIR))
            written.append(PASSAGE_ENCODER_DIR)
        if self.recipe.trains_generator:
            self.model.save_pretrained(str(directory / GENERATOR_DIR))
            self.tokenizer.save_pretrained(str(directory / GENERATOR_DIR))
            written.append(GENERATOR_DIR)
        return written


def _trainable(module: Any) -> list[Any]:
    return [p for p in module.parameters() if p.requires_grad]


# ---- checkpoints --------------------------------------------------------------------------


def checkpoint_dir(output: Path) -> Path:
    """Where the checkpoint of a run writing to ``output`` lives: beside it, hidden."""
    return output.parent / f".{output.name}.checkpoint"


def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state: Any = np.random.get_state()
    kind, keys, position, has_gauss, gauss = state
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss],
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    kind, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))


def _save_checkpoint(directory: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``directory`` atomically (a crash keeps the previous checkpoint)."""
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"{CHECKPOINT_FILE}.partial"
    torch.save(state, partial)
    os.replace(partial, directory / CHECKPOINT_FILE)


def _load_checkpoint(directory: Path, fingerprint: str) -> dict[str, Any] | None:
    """The saved state of this same run (recipe and data), or None when there is none."""
    import torch

    file = directory / CHECKPOINT_FILE
    if not file.is_file():
        return None
    state = torch.load(file, weights_only=True, map_location="cpu")
    if state.get("fingerprint") != fingerprint:
        raise RaglineError(
            f"{directory}: checkpoint of another recipe or data; delete it or pass resume=False"
        )
    return state


# ---- the run ------------------------------------------------------------------------------


def _epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The question order of ``epoch``: fixed by the seed, so a resumed run repeats it."""
    order = list(range(n))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


def _train_loop(
    trainer: _RagTrainer,
    dev: Sequence[QaPair],
    *,
    start: int,
    records: list[dict[str, Any]],
    checkpoint: Path,
    fingerprint: str,
    progress: bool,
) -> None:
    """Steps from ``start`` to the end, appending to ``records``; dev F1 after each epoch,
    a checkpoint every ``checkpoint_every`` steps. Without a progress bar (not a terminal),
    every ``LOG_EVERY``-th step is logged instead."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    recipe = trainer.recipe
    n = len(trainer.examples)
    per_epoch = math.ceil(n / recipe.batch_size)
    total = recipe.epochs * per_epoch
    bar = tqdm(total=total, initial=start, desc="rag", unit="step", disable=not progress)
    for step in range(start, total):
        epoch, position = divmod(step, per_epoch)
        order = _epoch_order(n, recipe.seed, epoch)
        batch = order[position * recipe.batch_size : (position + 1) * recipe.batch_size]
        began = time.perf_counter()
        loss = trainer.step(batch)
        record = {"step": step + 1, "epoch": epoch + 1, "loss": loss}
        record["seconds"] = round(time.perf_counter() - began, 3)
        refreshed = isinstance(trainer.passages, RefreshedPassages)
        if refreshed:
            record["index_age"] = step - trainer.passages.snapshot.step
        records.append(record)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if not progress and (step + 1) % LOG_EVERY == 0:
            log.info("step %d of %d: loss %.3f, %.1f s", step + 1, total, loss, record["seconds"])
        if refreshed and (step + 1) % recipe.refresh_every == 0 and step + 1 < total:
            records.append({"epoch": epoch + 1} | trainer.refresh_index(step + 1))
        if position == per_epoch - 1:
            records.append({"step": step + 1, "epoch": epoch + 1, "dev_f1": trainer.dev_f1(dev)})
        if (step + 1) % recipe.checkpoint_every == 0 and step + 1 < total:
            state = {"step": step + 1, "records": records, "fingerprint": fingerprint}
            _save_checkpoint(checkpoint, state | trainer.state_dict() | {"rng": _rng_state()})
    bar.close()


def _report(records: list[dict[str, Any]], resumed_from: int, started: float) -> dict[str, Any]:
    losses = [r for r in records if "loss" in r]
    here = [r["seconds"] for r in losses if r["step"] > resumed_from]
    dev = [r for r in records if "dev_f1" in r]
    return {
        "steps": losses[-1]["step"] if losses else 0,
        "resumed_from_step": resumed_from,
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_per_step": round(sum(here) / len(here), 3) if here else None,
        "first_loss": losses[0]["loss"] if losses else None,
        "last_loss": losses[-1]["loss"] if losses else None,
        "dev_f1_before": next((r["dev_f1"] for r in dev if r["step"] == 0), None),
        "dev_f1_per_epoch": [r["dev_f1"] for r in dev if r["step"] > 0],
    }


def _index_report(records: list[dict[str, Any]], recipe: RagRecipe) -> dict[str, Any]:
    """How stale the training passage index was (when the passage encoder trained)."""
    if not recipe.trains_passage:
        return {}
    ages = [r["index_age"] for r in records if "index_age" in r]
    return {
        "passage_index": {
            "refresh_every": recipe.refresh_every,
            "max_index_age": max(ages, default=0),
            "mean_index_age": round(sum(ages) / len(ages), 2) if ages else 0,
            "refreshes": [r for r in records if "index_version" in r],
        }
    }


def train_rag(
    kb_path: str | Path,
    pairs: Sequence[QaPair],
    output: str | Path,
    recipe: RagRecipe | None = None,
    *,
    dev_pairs: Sequence[QaPair] | None = None,
    hidden_documents: Collection[str] = (),
    progress: bool = True,
    resume: bool = True,
) -> dict[str, Any]:
    """Train end to end on (question, answer) ``pairs`` over the knowledge base at
    ``kb_path`` and save the trained parts to ``output`` (written atomically).

    Chunks of ``hidden_documents`` (a test split's paragraphs) are never retrieved in
    training, not even as passages that fail to help: otherwise the query encoder learns
    that the test side never holds an answer and ranks it lower for test questions too.

    Dev answer F1 is measured on ``dev_pairs``, or on a held-out ``recipe.dev_fraction``
    of ``pairs``. With ``resume``, a checkpoint left by an interrupted run of the same
    recipe and data is continued; otherwise it is discarded. Returns the report that is
    also saved as ``ragline-training.json``.
    """
    from ragline.kb import KnowledgeBase

    recipe = recipe or RagRecipe()
    output = Path(output)
    started = time.perf_counter()
    train, dev = _split(pairs, dev_pairs, recipe)
    if not train:
        raise RaglineError("no training pairs left after holding out the dev split")
    fingerprint = _fingerprint(
        asdict(recipe), train, dev, str(Path(kb_path).resolve()), sorted(hidden_documents)
    )
    checkpoint = checkpoint_dir(output)
    if not resume:
        shutil.rmtree(checkpoint, ignore_errors=True)
    saved = _load_checkpoint(checkpoint, fingerprint)
    seed_everything(recipe.seed)
    with staged_output(output) as staging, KnowledgeBase.open(kb_path) as kb:
        total = recipe.epochs * math.ceil(len(train) / recipe.batch_size)
        trainer = _RagTrainer(kb, train, recipe, total, hidden_documents)
        records: list[dict[str, Any]] = []
        start = 0
        if saved is not None:
            trainer.load_state_dict(saved)
            _set_rng_state(saved["rng"])
            start, records = saved["step"], list(saved["records"])
            log.info("resuming from step %d of %d (%s)", start, total, checkpoint)
        else:
            records.append({"step": 0, "epoch": 0, "dev_f1": trainer.dev_f1(dev)})
        _train_loop(
            trainer,
            dev,
            start=start,
            records=records,
            checkpoint=checkpoint,
            fingerprint=fingerprint,
            progress=progress,
        )
        report: dict[str, Any] = (
            {
                "output": str(output),
                "kind": "rag",
                "recipe": asdict(recipe),
                "data": {
                    "knowledge_base": str(Path(kb_path).resolve()),
                    "chunks": len(trainer.passages),
                    "hidden_chunks": trainer.passages.hidden_chunks,
                    "train_pairs": len(train),
                    "dev_pairs": len(dev),
                },
                "device": trainer.device,
                "generator": {
                    "name": trainer.local.name,
                    "base": str(trainer.local._load()[0].name_or_path),
                },
                "trained": trainer.save(staging),
            }
            | _report(records, start, started)
            | _index_report(records, recipe)
        )
        (staging / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
        (staging / RECIPE_FILE).write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(checkpoint, ignore_errors=True)
    return report
