"""Train the extractive reader: start/end span scores on SQuAD-format questions.

The reader starts from the packaged MiniLM with a LoRA adapter and a new start/end head
(what ships is a few megabytes). It learns from the training side of a SQuAD file's
by-paragraph split (the test side, which ``eval qa --held-out`` scores, is never read):
answerable questions with their paragraph, SQuAD 2.0's unanswerable questions with theirs,
and each answerable question again with the best BM25 paragraph that is not its own,
labelled no-answer — in open retrieval most passages the reader sees do not hold the
answer, and it has to say so. A share of the training paragraphs is held back as a dev
set: the abstention threshold is the margin over no-answer that scores best there
(SQuAD 2.0 F1, reading each dev question's own paragraph among BM25 distractors).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.generate.span_reader import READER_FILE, ReaderSettings, encode_windows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderRecipe:
    """How the reader is trained; the defaults are the recipe that made the packaged one."""

    base: str = "minilm"
    held_out: float = 0.2
    split_seed: int = 0
    dev_fraction: float = 0.1
    negatives: int = 0
    answers_per_question: int = 2
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 1e-3
    warmup_ratio: float = 0.1
    lora_rank: int = 16
    """LoRA rank on every linear layer; 0 fine-tunes the whole encoder (a ~90 MB model)."""
    max_length: int = 256
    stride: int = 64
    max_answer_tokens: int = 30
    dev_distractors: int = 4
    dev_limit: int = 0
    """Score the threshold on a seeded sample of this many dev questions (0 = all)."""
    precision: str = "auto"
    seed: int = 0
    limit: int = 0


@dataclass(frozen=True)
class ReaderExample:
    """A question over one paragraph; ``answer_start`` is None when it holds no answer."""

    question: str
    context: str
    answer_start: int | None = None
    answer: str = ""


@dataclass(frozen=True)
class DevQuestion:
    """A dev question, its gold answers (none: unanswerable), the passages it is read over
    (its own paragraph among BM25 distractors) and ``own``, its paragraph alone."""

    question: str
    golds: list[str]
    passages: list[str]
    own: str = ""


def _squad_sides(
    path: Path, recipe: ReaderRecipe
) -> tuple[list[tuple[str, list[dict[str, Any]]]], list[tuple[str, list[dict[str, Any]]]]]:
    """(context, questions) of the training side's paragraphs, split into train and dev."""
    from ragline.evaluate.qa import squad_paragraphs

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        paragraphs = [
            (p.context, p.qas)
            for p in squad_paragraphs(data, recipe.held_out or None, recipe.split_seed)
            if not p.held_out and p.context.strip()
        ]
    except (OSError, ValueError, KeyError) as e:
        raise RaglineError(f"{path}: not a SQuAD-format json file ({e})") from e
    random.Random(recipe.seed).shuffle(paragraphs)
    n_dev = round(recipe.dev_fraction * len(paragraphs))
    return paragraphs[n_dev:], paragraphs[:n_dev]


def _bm25_others(
    contexts: Sequence[str], questions: Sequence[tuple[str, int]], count: int
) -> list[list[int]]:
    """Per (question, own paragraph index): the top ``count`` BM25 paragraphs, own excluded."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(
        bm25s.tokenize(list(contexts), stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    tokens = bm25s.tokenize(
        [q for q, _ in questions], stopwords="en", stemmer=stemmer, show_progress=False
    )
    k = min(count + 1, len(contexts))
    results, _ = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
    return [
        [int(i) for i in row if int(i) != own][:count]
        for row, (_, own) in zip(results, questions, strict=True)
    ]


def reader_examples(
    paragraphs: Sequence[tuple[str, list[dict[str, Any]]]],
    negatives: int,
    answers_per_question: int = 1,
) -> list[ReaderExample]:
    """Training examples of ``paragraphs``: each question over its own paragraph, once per
    distinct gold answer span (up to ``answers_per_question``: SQuAD's annotators often mark
    the same answer a little differently, and spans are the harder half to learn) or once
    with no answer, and each answerable one over ``negatives`` BM25 paragraphs that are not
    its own, with no answer."""
    examples: list[ReaderExample] = []
    asked: list[tuple[str, int]] = []
    for index, (context, qas) in enumerate(paragraphs):
        for qa in qas:
            question = str(qa.get("question") or "").strip()
            if not question:
                continue
            answers = [] if qa.get("is_impossible") else qa.get("answers", [])
            if answers:
                spans = dict.fromkeys((int(a["answer_start"]), a["text"]) for a in answers)
                examples.extend(
                    ReaderExample(question, context, start, text)
                    for start, text in list(spans)[:answers_per_question]
                )
                asked.append((question, index))
            else:
                examples.append(ReaderExample(question, context))
    if negatives and asked:
        contexts = [c for c, _ in paragraphs]
        for (question, _), others in zip(
            asked, _bm25_others(contexts, asked, negatives), strict=True
        ):
            examples.extend(ReaderExample(question, contexts[i]) for i in others)
    return examples


def dev_questions(
    paragraphs: Sequence[tuple[str, list[dict[str, Any]]]], distractors: int, seed: int
) -> list[DevQuestion]:
    """Each dev question with its own paragraph among ``distractors`` BM25 paragraphs (in a
    seeded order), as retrieval would hand them to the reader."""
    asked: list[tuple[str, int]] = []
    golds: list[list[str]] = []
    for index, (_, qas) in enumerate(paragraphs):
        for qa in qas:
            question = str(qa.get("question") or "").strip()
            if question:
                asked.append((question, index))
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                golds.append([a["text"] for a in answers])
    if not asked:
        return []
    contexts = [c for c, _ in paragraphs]
    rng = random.Random(seed)
    found: list[DevQuestion] = []
    for (question, own), others, gold in zip(
        asked, _bm25_others(contexts, asked, distractors), golds, strict=True
    ):
        passages = [contexts[own], *(contexts[i] for i in others)]
        rng.shuffle(passages)
        found.append(DevQuestion(question, gold, passages, contexts[own]))
    return found


def window_labels(encoded: Any, examples: Sequence[ReaderExample]) -> tuple[list[int], list[int]]:
    """Start and end token of each window's answer; 0 ([CLS]) where the window holds none."""
    starts: list[int] = []
    ends: list[int] = []
    for w, sample in enumerate(encoded["overflow_to_sample_mapping"]):
        example = examples[sample]
        start_token = end_token = 0
        if example.answer_start is not None:
            first = example.answer_start
            last = first + len(example.answer)
            sequence = encoded.sequence_ids(w)
            offsets = encoded["offset_mapping"][w]
            inside = [i for i, sid in enumerate(sequence) if sid == 1]
            if inside and offsets[inside[0]][0] <= first and last <= offsets[inside[-1]][1]:
                start_token = next(i for i in inside if offsets[i][1] > first)
                end_token = next(i for i in reversed(inside) if offsets[i][0] < last)
        starts.append(start_token)
        ends.append(end_token)
    return starts, ends


def length_batches(
    examples: Sequence[ReaderExample], batch_size: int, seed: int, bucket: int = 16
) -> list[list[ReaderExample]]:
    """Batches of examples of like length (little padding: much faster on a CPU) that still
    mix paragraphs: examples sorted by length are cut into buckets of ``bucket`` batches,
    shuffled within each bucket, then batched — sorted alone, a batch would hold one
    paragraph's questions, and its gradient would teach that paragraph, not the task.

    >>> examples = [ReaderExample(f"q{i}", "x" * (i // 4)) for i in range(8)]
    >>> [len(b) for b in length_batches(examples, 3, seed=0, bucket=1)]
    [3, 3, 2]
    """
    rng = random.Random(seed)
    by_length = sorted(examples, key=lambda e: len(e.question) + len(e.context))
    size = batch_size * bucket
    batches: list[list[ReaderExample]] = []
    for start in range(0, len(by_length), size):
        group = by_length[start : start + size]
        rng.shuffle(group)
        batches.extend(group[i : i + batch_size] for i in range(0, len(group), batch_size))
    return batches


def training_windows(samples: Sequence[int], starts: Sequence[int]) -> list[int]:
    """One window per example: the first that holds its answer, else its first window —
    long paragraphs would otherwise multiply the cost of a step.

    >>> training_windows([0, 0, 1, 2, 2], [0, 7, 0, 0, 0])
    [1, 2, 3]
    """
    chosen: dict[int, int] = {}
    for w, sample in enumerate(samples):
        if sample not in chosen or (starts[w] and not starts[chosen[sample]]):
            chosen[sample] = w
    return sorted(chosen.values())


def best_threshold(
    margins: Sequence[float], scores: Sequence[float], golds_empty: Sequence[bool]
) -> tuple[float, float]:
    """The abstention margin with the best mean SQuAD 2.0 F1, and that F1: a question whose
    best margin is below it abstains (right when it has no gold answer); otherwise it
    scores ``scores[i]`` (its answer's F1, 0 for an unanswerable one)."""
    candidates = sorted(set(margins)) + [max(margins, default=0.0) + 1.0]
    best = (0.0, -1.0)
    for threshold in candidates:
        total = sum(
            (1.0 if empty else 0.0) if margin < threshold else score
            for margin, score, empty in zip(margins, scores, golds_empty, strict=True)
        )
        mean = total / max(len(margins), 1)
        if mean > best[1]:
            best = (threshold, mean)
    return best


def evaluate_reader(reader: Any, questions: Sequence[DevQuestion]) -> dict[str, Any]:
    """Dev scores of ``reader`` (a :class:`~ragline.generate.span_reader.SpanReader`): the
    tuned threshold and, with it, F1 and EM on answerable questions and abstention on
    unanswerable ones; ``gold_paragraph_f1``, the best span's F1 read from the answerable
    question's own paragraph alone (how well it reads, whatever the threshold); and
    ``separation_auc`` of the best margins, answerable against unanswerable questions (how
    well a threshold can tell them apart)."""
    from ragline.evaluate.qa_metrics import exact_match, f1

    margins: list[float] = []
    f1s: list[float] = []
    ems: list[float] = []
    own_f1s: list[float] = []
    for question in questions:
        spans = reader.read(question.question, question.passages, per_passage=1)
        best = spans[0] if spans else None
        margins.append(best.score if best else float("-inf"))
        text = best.text if best else ""
        f1s.append(f1(text, question.golds) if question.golds else 0.0)
        ems.append(exact_match(text, question.golds) if question.golds else 0.0)
        if question.golds and question.own:
            alone = question.passages == [question.own]
            own = spans if alone else reader.read(question.question, [question.own], per_passage=1)
            own_f1s.append(f1(own[0].text, question.golds) if own else 0.0)
    empty = [not q.golds for q in questions]
    threshold, overall = best_threshold(margins, f1s, empty)
    answerable = [i for i, e in enumerate(empty) if not e]
    unanswerable = [i for i, e in enumerate(empty) if e]
    answered = [margins[i] >= threshold for i in range(len(questions))]
    return {
        "threshold": threshold,
        "overall_f1": overall,
        "answerable_f1": sum(f1s[i] for i in answerable if answered[i]) / max(len(answerable), 1),
        "answerable_em": sum(ems[i] for i in answerable if answered[i]) / max(len(answerable), 1),
        "unanswerable_abstained": sum(not answered[i] for i in unanswerable)
        / max(len(unanswerable), 1),
        "gold_paragraph_f1": sum(own_f1s) / max(len(own_f1s), 1),
        "separation_auc": separation_auc(
            [margins[i] for i in answerable], [margins[i] for i in unanswerable]
        ),
        "questions": len(questions),
    }


def separation_auc(answerable: Sequence[float], unanswerable: Sequence[float]) -> float:
    """How well a margin tells answerable questions from unanswerable ones: the chance that
    an answerable question's margin is above an unanswerable one's (ties count half; 0.5 is
    no separation, 1.0 a threshold that splits them perfectly).

    >>> separation_auc([3.0, 1.0], [0.0, 2.0])
    0.75
    >>> separation_auc([3.0, 2.5], [1.0])
    1.0
    """
    if not answerable or not unanswerable:
        return 0.5
    wins = sum((a > u) + 0.5 * (a == u) for a in answerable for u in unanswerable)
    return wins / (len(answerable) * len(unanswerable))


def _name_the_base(directory: Path, name: str) -> None:
    """Record the base model by ``name`` in a saved adapter, not by the directory it was
    read from on this machine, and drop peft's blank model card: the directory can ship."""
    config = directory / "adapter_config.json"
    if config.is_file():
        data = json.loads(config.read_text(encoding="utf-8"))
        data["base_model_name_or_path"] = name
        config.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (directory / "README.md").unlink(missing_ok=True)


def train_reader(
    squad: str | Path,
    output: str | Path,
    recipe: ReaderRecipe = ReaderRecipe(),
    *,
    on_step: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Train a reader on ``squad`` (SQuAD json) and write it to ``output``; returns the
    report (examples, steps, time, losses, dev scores before and after the threshold)."""
    import peft
    import torch
    import transformers

    from ragline._optional import quiet_transformers
    from ragline.generate.span_reader import SpanReader
    from ragline.packaged_models import resolve_model
    from ragline.precision import autocast
    from ragline.train.runner import seed_everything, staged_output

    quiet_transformers()
    squad, output = Path(squad), Path(output)
    seed_everything(recipe.seed)
    train_side, dev_side = _squad_sides(squad, recipe)
    examples = reader_examples(train_side, recipe.negatives, recipe.answers_per_question)
    random.Random(recipe.seed).shuffle(examples)
    if recipe.limit:
        examples = examples[: recipe.limit]
    if not examples:
        raise RaglineError(f"{squad}: no training questions")
    settings = ReaderSettings(
        base=recipe.base,
        max_length=recipe.max_length,
        stride=recipe.stride,
        max_answer_tokens=recipe.max_answer_tokens,
    )
    base, base_name = resolve_model(recipe.base)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(base))
    model = transformers.AutoModelForQuestionAnswering.from_pretrained(str(base))
    if recipe.lora_rank:
        lora = peft.LoraConfig(
            r=recipe.lora_rank,
            lora_alpha=2 * recipe.lora_rank,
            lora_dropout=0.05,
            target_modules=["query", "key", "value", "dense"],
            modules_to_save=["qa_outputs"],
        )
        model = peft.get_peft_model(model, lora)
    batches = length_batches(examples, recipe.batch_size, recipe.seed)
    steps = len(batches) * recipe.epochs
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=recipe.learning_rate
    )
    scheduler = transformers.get_linear_schedule_with_warmup(
        optimizer, int(recipe.warmup_ratio * steps), steps
    )
    losses: list[float] = []
    started = time.perf_counter()
    step = 0
    model.train()
    for epoch in range(recipe.epochs):
        order = list(range(len(batches)))
        random.Random(recipe.seed + epoch).shuffle(order)
        for b in order:
            batch = batches[b]
            encoded = encode_windows(
                tokenizer, [e.question for e in batch], [e.context for e in batch], settings
            )
            starts, ends = window_labels(encoded, batch)
            rows = training_windows(encoded["overflow_to_sample_mapping"], starts)
            inputs = {
                key: torch.tensor([encoded[key][w] for w in rows])
                for key in ("input_ids", "attention_mask", "token_type_ids")
                if key in encoded
            }
            starts, ends = [starts[w] for w in rows], [ends[w] for w in rows]
            with autocast(recipe.precision):
                out = model(
                    **inputs,
                    start_positions=torch.tensor(starts),
                    end_positions=torch.tensor(ends),
                )
            out.loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            losses.append(out.loss.item())
            if on_step is not None:
                on_step(step, steps, losses[-1])
    seconds = time.perf_counter() - started
    model.eval()
    with staged_output(output) as staging:
        model.save_pretrained(str(staging))
        _name_the_base(staging, base_name)
        (staging / READER_FILE).write_text(json.dumps(asdict(settings), indent=2) + "\n")
        reader = SpanReader(str(staging), precision=recipe.precision)
        questions = dev_questions(dev_side, recipe.dev_distractors, recipe.seed)
        if recipe.dev_limit and len(questions) > recipe.dev_limit:
            questions = random.Random(recipe.seed).sample(questions, recipe.dev_limit)
        dev = evaluate_reader(reader, questions)
        settings = ReaderSettings(**{**asdict(settings), "threshold": round(dev["threshold"], 4)})
        (staging / READER_FILE).write_text(json.dumps(asdict(settings), indent=2) + "\n")
        report = {
            "squad": str(squad),
            "examples": len(examples),
            "steps": step,
            "training_seconds": round(seconds, 1),
            "first_loss": losses[0],
            "last_loss": sum(losses[-50:]) / len(losses[-50:]),
            "dev": dev,
            "recipe": asdict(recipe),
        }
        (staging / "training-report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
