"""``ragline train``: retrievers, re-rankers, span readers, and retriever with generator end
to end (RAG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import (
    JsonOption,
    KbOption,
    Output,
    QuietOption,
    RerankDepthOption,
    VerboseOption,
    fraction,
    output,
    positive,
    share,
    split_list,
)
from ragline.cli.help import WordsCommand, WordsGroup

app = typer.Typer(
    cls=WordsGroup,
    no_args_is_help=True,
    help="Train retrievers, re-rankers, span readers and RAG end to end.",
)

BeirTrainOption = Annotated[
    Path | None, typer.Option("--beir", help="BEIR folder whose qrels give the pairs.")
]
SquadTrainOption = Annotated[
    Path | None, typer.Option("--squad", help="SQuAD-format json: question → its paragraph.")
]
JsonlTrainOption = Annotated[
    Path | None,
    typer.Option("--jsonl", help='JSONL of {"query", "positive", "negatives"?} records.'),
]
QaTrainOption = Annotated[
    Path | None,
    typer.Option(
        "--qa",
        help="HotpotQA, MuSiQue or 2WikiMultiHopQA file: question → its supporting paragraphs.",
    ),
]
TrainSplitOption = Annotated[str, typer.Option(help="BEIR qrels split to train on.")]
BaseOption = Annotated[str, typer.Option(help="minilm or a model directory to start from.")]
NegativeSourcesOption = Annotated[
    str, typer.Option(help="Comma-separated negative sources: in-batch,bm25,model.")
]
MineMarginOption = Annotated[
    float,
    typer.Option(
        callback=fraction, help="Model mining: keep negatives this fraction below the positive."
    ),
]
RoundsOption = Annotated[
    int,
    typer.Option(min=1, help="Training rounds; each later one re-mines with the trained model."),
]
RetrieverPrecisionOption = Annotated[
    str, typer.Option(help="auto (bf16 where the CPU/GPU has it), bf16 or fp32.")
]
RetrieverDevOption = Annotated[
    float,
    typer.Option(callback=fraction, help="Share of queries held out for dev nDCG@10 per epoch."),
]
RerankerOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", metavar="DIR", help="Model directory (default: where --rerank KIND looks)."
    ),
]
RerankerBaseOption = Annotated[
    str | None, typer.Option(help="minilm or a model directory to start from.")
]
HeadOption = Annotated[
    str | None, typer.Option(help="Cross-encoder head: on mean-pooled tokens or [CLS].")
]
DenseNegativesOption = Annotated[
    int | None, typer.Option(min=0, help="Dense-retriever negatives per pair.")
]
MaxLengthOption = Annotated[
    int | None,
    typer.Option(min=1, help="Tokens read per passage (cross-encoder: query+passage)."),
]
RerankerDevOption = Annotated[
    float | None, typer.Option(callback=fraction, help="Share of queries held out for dev.")
]
ReaderHeldOutOption = Annotated[
    float,
    typer.Option(callback=share, help="Share of paragraphs held out for testing (never read)."),
]
ReaderNegativesOption = Annotated[
    int, typer.Option(min=0, help="BM25 paragraphs per question, labelled no-answer.")
]
ReaderLearningRateOption = Annotated[
    float, typer.Option(min=0.0, help="Peak learning rate (full fine-tuning wants ~5e-5).")
]
ReaderLoraRankOption = Annotated[
    int, typer.Option(min=0, help="LoRA rank on every linear layer; 0 = full fine-tuning.")
]
ReaderMaxLengthOption = Annotated[
    int, typer.Option(min=64, help="Tokens per question/passage window.")
]
ReaderAnswerTokensOption = Annotated[
    int, typer.Option(min=1, help="Longest answer span, in tokens.")
]
RagSquadOption = Annotated[
    Path | None,
    typer.Option(
        help="SQuAD json: trains on its train side, split by paragraph; the test side's "
        "paragraphs are never retrieved in training."
    ),
]
TestFractionOption = Annotated[
    float, typer.Option(callback=share, help="SQuAD: share of paragraphs held out for testing.")
]
PairsOption = Annotated[
    Path | None,
    typer.Option(
        help='(question, answer) pairs: SQuAD/HotpotQA json or {"question", "answer"} JSONL.'
    ),
]
TrainPartsOption = Annotated[
    str,
    typer.Option(
        help="What learns, comma-separated: query, passage, generator (both = query,generator)."
    ),
]
RagGeneratorOption = Annotated[
    str, typer.Option(help="smollm2, or a causal LM or encoder-decoder (T5) directory.")
]
RefreshEveryOption = Annotated[
    int,
    typer.Option(min=1, help="With --train passage: re-encode the passage index every N steps."),
]
DeviceOption = Annotated[
    str, typer.Option(help="auto (the GPU when one is present), cpu or cuda[:N].")
]


TrainOutOption = Annotated[
    Path, typer.Option("--out", metavar="DIR", help="Directory for what is trained.")
]
QueryLrOption = Annotated[
    float, typer.Option(callback=positive, help="Query-encoder learning rate.")
]
PassageLrOption = Annotated[
    float, typer.Option(callback=positive, help="Passage-encoder learning rate.")
]
GeneratorLrOption = Annotated[
    float, typer.Option(callback=positive, help="Generator learning rate.")
]
PeakLrOption = Annotated[
    float | None, typer.Option("--lr", callback=positive, help="Peak learning rate.")
]


@app.command("retriever", cls=WordsCommand)
def train_retriever_command(
    out_dir: TrainOutOption,
    beir: BeirTrainOption = None,
    split: TrainSplitOption = "train",
    squad: SquadTrainOption = None,
    jsonl: JsonlTrainOption = None,
    qa: QaTrainOption = None,
    base: BaseOption = "minilm",
    negatives: NegativeSourcesOption = "in-batch,bm25",
    bm25_negatives: Annotated[int, typer.Option(min=0, help="BM25 hard negatives per pair.")] = 1,
    model_negatives: Annotated[
        int, typer.Option(min=0, help="Model-mined negatives per pair.")
    ] = 1,
    mine_skip: Annotated[
        int, typer.Option(min=0, help="Model mining: skip this many top ranks.")
    ] = 0,
    mine_margin: MineMarginOption = 0.05,
    rounds: RoundsOption = 1,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs per round.")] = 2,
    batch_size: Annotated[
        int, typer.Option(min=2, help="Pairs per batch (in-batch negatives).")
    ] = 32,
    lr: Annotated[
        float, typer.Option("--lr", callback=positive, help="Peak learning rate.")
    ] = 3e-5,
    temperature: Annotated[
        float, typer.Option(callback=positive, help="InfoNCE temperature τ (scale 1/τ).")
    ] = 0.05,
    max_seq_length: Annotated[int, typer.Option(min=1, help="Tokens read per passage.")] = 256,
    precision: RetrieverPrecisionOption = "auto",
    dev_fraction: RetrieverDevOption = 0.1,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (splits, sampling, init).")] = 42,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Fine-tune a bi-encoder with InfoNCE over in-batch and hard negatives."""
    from ragline.train.pairs import read_training_data
    from ragline.train.retriever import RetrieverRecipe, train_retriever

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    recipe = RetrieverRecipe(
        base=base,
        negatives=tuple(split_list(negatives)),
        bm25_negatives=bm25_negatives,
        model_negatives=model_negatives,
        mine_skip=mine_skip,
        mine_margin=mine_margin,
        rounds=rounds,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        temperature=temperature,
        max_seq_length=max_seq_length,
        precision=precision,
        dev_fraction=dev_fraction,
        seed=seed,
    )
    data = read_training_data(beir=beir, split=split, squad=squad, jsonl=jsonl, qa=qa)
    _train_and_report(train_retriever, data, out_dir, recipe, out)


@app.command("reranker", cls=WordsCommand)
def train_reranker_command(
    kind: Annotated[str, typer.Option(help="cross-encoder or colbert.")] = "cross-encoder",
    out_dir: RerankerOutOption = None,
    beir: BeirTrainOption = None,
    split: TrainSplitOption = "train",
    squad: SquadTrainOption = None,
    jsonl: JsonlTrainOption = None,
    qa: QaTrainOption = None,
    base: RerankerBaseOption = None,
    loss: Annotated[str | None, typer.Option(help="Cross-encoder loss: listwise or bce.")] = None,
    head: HeadOption = None,
    bm25_negatives: Annotated[
        int | None, typer.Option(min=0, help="BM25 negatives per pair.")
    ] = None,
    dense_negatives: DenseNegativesOption = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Training epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Queries per batch.")] = None,
    lr: PeakLrOption = None,
    temperature: Annotated[
        float | None, typer.Option(callback=positive, help="Listwise softmax temperature.")
    ] = None,
    max_length: MaxLengthOption = None,
    precision: Annotated[str | None, typer.Option(help="auto, bf16 or fp32.")] = None,
    dev_fraction: RerankerDevOption = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed.")] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train a re-ranker (cross-encoder or ColBERT) on labelled pairs with hard negatives."""
    from ragline.rerank.registry import default_reranker_dir
    from ragline.train.pairs import read_training_data
    from ragline.train.reranker import reranker_training

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    recipe, train = reranker_training(
        kind,
        base=base,
        loss=loss,
        head=head,
        bm25_negatives=bm25_negatives,
        dense_negatives=dense_negatives,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        temperature=temperature,
        max_length=max_length,
        precision=precision,
        dev_fraction=dev_fraction,
        seed=seed,
    )
    data = read_training_data(beir=beir, split=split, squad=squad, jsonl=jsonl, qa=qa)
    _train_and_report(train, data, out_dir or default_reranker_dir(kind), recipe, out)


@app.command("stack", cls=WordsCommand)
def train_stack_command(
    out_dir: TrainOutOption,
    beir: BeirTrainOption = None,
    split: TrainSplitOption = "train",
    squad: SquadTrainOption = None,
    jsonl: JsonlTrainOption = None,
    qa: QaTrainOption = None,
    reranker_kind: Annotated[
        str, typer.Option("--reranker-kind", help="colbert or cross-encoder.")
    ] = "colbert",
    retriever: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Take this trained retriever instead of training one."),
    ] = None,
    reranker: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Take this trained re-ranker instead of training one."),
    ] = None,
    search_mode: Annotated[
        str, typer.Option("--search-mode", help="The first stage: hybrid or dense.")
    ] = "hybrid",
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: Annotated[
        str | None,
        typer.Option(
            help="doc-rrf (default): fuse the two stages' document ranks; rrf: their chunk "
            "ranks; none: the re-ranker alone."
        ),
    ] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train a retriever and a re-ranker as one stack: eval beir/search/ask --stack DIR."""
    from ragline.train.pairs import read_training_data
    from ragline.train.stack import stack_recipe, train_stack

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    fusion = {"rerank_fusion": rerank_fusion} if rerank_fusion else {}
    recipe = stack_recipe(
        reranker_kind, search_mode=search_mode, rerank_depth=rerank_depth, **fusion
    )
    sources = {"beir": beir, "squad": squad, "jsonl": jsonl, "qa": qa}
    data = read_training_data(split=split, **sources) if any(sources.values()) else None
    report = train_stack(
        data, out_dir, recipe, retriever=retriever, reranker=reranker, progress=_shows_progress(out)
    )
    if out.as_json:
        out.json(report)
        return
    for name, part in report["parts"].items():
        where = f"taken from {part['from']}" if "from" in part else "trained"
        out.print(f"{name}: {where} ({part.get('seconds', '?')} s of training)")
    out.print(
        f"saved {out_dir}: {report['training_seconds']} s of training in all; "
        f"use it with --stack {out_dir}"
    )


def _train_and_report(train: Any, data: Any, out_dir: Path, recipe: Any, out: Output) -> None:
    """Run a trainer with the data summary first (stderr) and its report last (stdout:
    JSON or lines)."""
    summary = data.summary()
    out.note(
        f"{summary['pairs']} training pairs from {summary['read']} records "
        f"({summary['queries']} queries, {summary['corpus']} passages); "
        f"skipped: {summary['skipped'] or 'none'}; temperature {recipe.temperature}"
    )
    report = train(data, out_dir, recipe, progress=_shows_progress(out))
    if out.as_json:
        out.json(report)
        return
    for number, result in enumerate(report["rounds"], start=1):
        before = result.get("dev_ndcg@10_before")
        out.print(
            f"round {number}: {result['steps']} steps in {result['training_seconds']} s "
            f"(mining {result['mining_seconds']} s), loss {result['first_loss']:.3f} → "
            f"{result['last_loss']:.3f}; dev nDCG@10 "
            f"{'' if before is None else f'{before:.4f} → '}"
            f"{[round(v, 4) for v in result['dev_ndcg@10_per_epoch']]}"
        )
    out.print(f"saved {out_dir} in {report['seconds']} s")


def _shows_progress(out: Output) -> bool:
    """Whether a trainer's own progress bars should show: on a terminal, without --json or
    --quiet."""
    return not (out.as_json or out.quiet) and out.messages.is_terminal


@app.command("reader", cls=WordsCommand)
def train_reader_command(
    squad: Annotated[Path, typer.Option(help="SQuAD-format json (2.0: with unanswerables).")],
    out_dir: TrainOutOption,
    held_out: ReaderHeldOutOption = 0.2,
    split_seed: Annotated[int, typer.Option(min=0, help="Seed of that split.")] = 0,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training questions.")] = 1,
    negatives: ReaderNegativesOption = 0,
    learning_rate: ReaderLearningRateOption = 1e-3,
    lora_rank: ReaderLoraRankOption = 16,
    max_length: ReaderMaxLengthOption = 256,
    max_answer_tokens: ReaderAnswerTokensOption = 30,
    seed: Annotated[int, typer.Option(min=0, help="Seed of shuffling and initialisation.")] = 0,
    limit: Annotated[int, typer.Option(min=0, help="Train on the first N examples (0 = all).")] = 0,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train an extractive span reader (LoRA on the packaged MiniLM): ask --generator DIR."""
    from ragline.train.reader import ReaderRecipe, train_reader

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    recipe = ReaderRecipe(
        held_out=held_out,
        split_seed=split_seed,
        epochs=epochs,
        negatives=negatives,
        learning_rate=learning_rate,
        lora_rank=lora_rank,
        max_length=max_length,
        max_answer_tokens=max_answer_tokens,
        seed=seed,
        limit=limit,
    )
    with out.progress() as progress:
        task = progress.add_task("training reader", total=None)

        def step(done: int, total: int, loss: float) -> None:
            progress.update(task, completed=done, total=total, description=f"loss {loss:.3f}")

        report = train_reader(squad, out_dir, recipe, on_step=step)
    if as_json:
        out.json(report)
        return
    dev = report["dev"]
    out.print(
        f"{report['examples']} examples, {report['steps']} steps in "
        f"{report['training_seconds']} s; dev: answerable F1 {dev['answerable_f1']:.3f}, "
        f"EM {dev['answerable_em']:.3f}, unanswerable abstained "
        f"{dev['unanswerable_abstained']:.3f} at threshold {dev['threshold']:.2f}; "
        f"saved {out_dir}"
    )


@app.command("rag", cls=WordsCommand)
def train_rag_command(
    kb: KbOption,
    out_dir: TrainOutOption,
    squad: RagSquadOption = None,
    test_fraction: TestFractionOption = 0.2,
    split_seed: Annotated[int, typer.Option(min=0, help="SQuAD: paragraph split seed.")] = 0,
    pairs: PairsOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Train on N sampled pairs.")] = None,
    train: TrainPartsOption = "query",
    loss: Annotated[str, typer.Option(help="Marginalization: sequence or token.")] = "sequence",
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Passages marginalized over.")] = 5,
    temperature: Annotated[
        float, typer.Option(callback=positive, help="Temperature of p(z|q).")
    ] = 0.1,
    generator: RagGeneratorOption = "smollm2",
    lora: Annotated[bool, typer.Option(help="Train the generator through LoRA adapters.")] = True,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Questions per optimizer step.")] = 4,
    query_lr: QueryLrOption = 3e-5,
    passage_lr: PassageLrOption = 3e-5,
    refresh_every: RefreshEveryOption = 50,
    generator_lr: GeneratorLrOption = 2e-4,
    checkpoint_every: Annotated[
        int, typer.Option(min=1, help="Save a resumable state every N.")
    ] = 50,
    device: DeviceOption = "auto",
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 42,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run.")] = True,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train retriever and generator together from (question, answer) pairs alone, with
    the marginalized loss −log Σ_z p(z|q)·p(y|q,z)."""
    from ragline.train.rag import RagRecipe
    from ragline.train.rag_data import training_pairs

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    sampling = {"test_fraction": test_fraction, "split_seed": split_seed, "limit": limit}
    data, hidden = training_pairs(squad=squad, pairs=pairs, seed=seed, **sampling)
    recipe = RagRecipe(
        train=train,
        loss=loss,
        k=k,
        temperature=temperature,
        generator=generator,
        lora=lora,
        epochs=epochs,
        batch_size=batch_size,
        query_learning_rate=query_lr,
        passage_learning_rate=passage_lr,
        generator_learning_rate=generator_lr,
        refresh_every=refresh_every,
        checkpoint_every=checkpoint_every,
        device=device,
        seed=seed,
    )
    _train_rag_and_report(kb, out_dir, data, hidden, recipe, resume=resume, out=out)


def _train_rag_and_report(
    kb: Path,
    out_dir: Path,
    data: list[tuple[str, str]],
    hidden: set[str],
    recipe: Any,
    *,
    resume: bool,
    out: Output,
) -> None:
    """Run ``train rag`` with the pair count first (stderr) and its report last (stdout:
    JSON or lines; when the passage encoder trained, how to search with it)."""
    from ragline.train.rag import train_rag

    out.note(f"{len(data)} (question, answer) pairs; training {recipe.train}")
    report = train_rag(
        kb,
        data,
        out_dir,
        recipe,
        hidden_documents=hidden,
        resume=resume,
        progress=_shows_progress(out),
    )
    if out.as_json:
        out.json(report)
        return
    out.print(
        f"{report['steps']} steps, {report['seconds_per_step']} s/step; loss "
        f"{report['first_loss']} → {report['last_loss']}; dev F1 "
        f"{report['dev_f1_before']} → {report['dev_f1_per_epoch']}; saved {out_dir}"
    )
    if recipe.trains_passage:
        out.print(
            f"to search with it: ragline reindex --kb {kb} --embedder {out_dir}/passage-encoder, "
            f"then ask with --query-encoder {out_dir}/query-encoder"
        )
