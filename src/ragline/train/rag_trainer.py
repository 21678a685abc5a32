"""The models of an end-to-end RAG run and the loss of one question: query (and passage)
encoder copies of the knowledge base's embedder, the generator (LoRA by default), the
optimizer and schedule, dev answer F1, and saving the trained parts."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline.errors import RaglineError
from ragline.precision import autocast, resolve_device
from ragline.train.rag_data import QaPair
from ragline.train.rag_passages import PROBE_QUERIES, FrozenPassages, RefreshedPassages
from ragline.train.rag_recipe import RagRecipe

if TYPE_CHECKING:
    import numpy as np
    import torch
    from numpy.typing import NDArray

    from ragline.documents import Hit
    from ragline.generate.base import Message
    from ragline.kb import KnowledgeBase

log = logging.getLogger(__name__)

QUERY_ENCODER_DIR = "query-encoder"
PASSAGE_ENCODER_DIR = "passage-encoder"
GENERATOR_DIR = "generator"
DEV_STOP = ("\n\n",)
LORA_DROPOUT = 0.05
MAX_GRAD_NORM = 1.0
EMBED_BATCH = 32


def load_encoder(kb: KnowledgeBase, device: str) -> Any:
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


def embed(model: Any, texts: Sequence[str], prefix: str) -> torch.Tensor:
    """Unit query vectors as the encoder computes them (its pooling, then L2-normalised),
    differentiable unless called under ``torch.no_grad``."""
    import torch

    features = model.preprocess([prefix + text for text in texts])
    features = {k: v.to(model.device) if hasattr(v, "to") else v for k, v in features.items()}
    vectors = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(vectors.float(), dim=-1)


def load_generator(recipe: RagRecipe, device: str) -> tuple[Any, Any]:
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


def trainable_state(module: Any) -> dict[str, Any]:
    """The trainable parameters of ``module`` (all of a full model, the adapters of LoRA)."""
    return {name: p.detach().clone() for name, p in module.named_parameters() if p.requires_grad}


class RagTrainer:
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
        self.query_model = load_encoder(kb, self.device)
        self.query_model.requires_grad_(recipe.trains_query)
        self.passage_model: Any = None
        self.passages: FrozenPassages
        if recipe.trains_passage:
            self.passage_model = load_encoder(kb, self.device)
            document_prefix = kb.config.embed.document_prefix
            self.passages = RefreshedPassages(
                kb, lambda texts: embed(self.passage_model, texts, document_prefix), hidden
            )
        else:
            self.passages = FrozenPassages(kb, hidden)
        self.k = min(recipe.k, len(self.passages))
        if self.k < recipe.k:
            log.warning("%s holds %d chunks: k lowered to %d", kb.path, self.k, self.k)
        self.local, self.model = load_generator(recipe, self.device)
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
            groups.append({"params": trainable(self.query_model), "lr": recipe.query_learning_rate})
        if recipe.trains_passage:
            groups.append(
                {"params": trainable(self.passage_model), "lr": recipe.passage_learning_rate}
            )
        if recipe.trains_generator:
            groups.append({"params": trainable(self.model), "lr": recipe.generator_learning_rate})
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
            query = embed(self.query_model, [question], self.prefix)
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
                embed(self.query_model, questions[lo : lo + EMBED_BATCH], self.prefix)
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
            "query": trainable_state(self.query_model),
            "generator": trainable_state(self.model),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }
        if isinstance(self.passages, RefreshedPassages):
            state["passage"] = trainable_state(self.passage_model)
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


def trainable(module: Any) -> list[Any]:
    return [p for p in module.parameters() if p.requires_grad]
