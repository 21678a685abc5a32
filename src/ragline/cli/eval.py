"""``ragline eval``: retrieval quality on BEIR, answer quality on QA sets, the support check
on itself, and two runs compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import (
    DEFAULTS,
    AnswerStyleOption,
    ChunkSizeOption,
    DeprecatedModeOption,
    EmbedBackendOption,
    EmbedderOption,
    FollowUpOption,
    FusionOption,
    HopsOption,
    JsonOption,
    KeepWholeOption,
    MaxNewTokensOption,
    ModelOption,
    OverlapOption,
    QueryEncoderOption,
    QuietOption,
    RerankBackendOption,
    RerankDepthOption,
    RerankFusionOption,
    RerankOption,
    SearchModeOption,
    StackOption,
    VerboseOption,
    WeightsOption,
    build_config,
    given,
    output,
    report_results,
    resolve_search_mode,
    share,
    split_list,
    stage_reporter,
)
from ragline.cli.help import WordsCommand, WordsGroup
from ragline.errors import RaglineError

app = typer.Typer(
    cls=WordsGroup, no_args_is_help=True, help="Measure retrieval and answer quality."
)

PlotOption = Annotated[Path | None, typer.Option(help="Write a bar chart (PNG).")]
BeirDatasetArgument = Annotated[
    Path,
    typer.Argument(help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or HotpotQA folder."),
]
BeirIndexOption = Annotated[
    str | None,
    typer.Option(
        "--index",
        metavar="FACTORY",
        help=f"FAISS factory string (default: {DEFAULTS.index.factory}).",
    ),
]
BeirModesOption = Annotated[
    str | None,
    typer.Option(
        "--search-mode",
        metavar="MODES",
        help="Comma-separated: bm25,dense,hybrid, or all (default: all).",
    ),
]
ChunkerOption = Annotated[
    str | None,
    typer.Option(help=f"fixed, recursive or semantic (default: {DEFAULTS.chunk.method})."),
]
DepthOption = Annotated[
    int | None,
    typer.Option(min=1, help=f"Hybrid candidates per side (default: {DEFAULTS.search.depth})."),
]
MaxQueriesOption = Annotated[
    int | None, typer.Option(min=1, help="Evaluate only the first N queries (default: all).")
]
RunFileOption = Annotated[
    Path | None,
    typer.Option(metavar="PREFIX", help="Write TREC runs to PREFIX.<mode>.trec."),
]
BeirCacheOption = Annotated[
    bool, typer.Option(help="Reuse the knowledge base built for this corpus.")
]
ReuseKbOption = Annotated[bool, typer.Option(help="Reuse the knowledge base built before.")]
BeirKbOption = Annotated[
    Path | None,
    typer.Option(
        "--kb", metavar="DIR", help="Evaluate this knowledge base (built over the corpus)."
    ),
]
QaDatasetArgument = Annotated[
    Path,
    typer.Argument(
        help="SQuAD json (or its folder), a HotpotQA folder, a folder with questions.jsonl, "
        "or a HotpotQA, MuSiQue, 2WikiMultiHopQA or NQ-open/TriviaQA file."
    ),
]
QaFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="NAME",
        help="hotpotqa, musique, 2wiki or open (NQ-open/TriviaQA jsonl beside its corpus); "
        "default: detected.",
    ),
]
QaGeneratorOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="span-rules, extractive, smollm2, a reader or model path, or an API URL "
        f"(default: {DEFAULTS.generate.generator}).",
    ),
]
QaModesOption = Annotated[
    str,
    typer.Option(
        "--mode", metavar="MODES", help="Generation, comma-separated: plain,sequence,token."
    ),
]
QaPassagesOption = Annotated[
    int | None,
    typer.Option(
        "-k", "--k", min=1, help=f"Passages per question (default: {DEFAULTS.generate.passages})."
    ),
]
AnswerableOption = Annotated[int, typer.Option(min=0, help="SQuAD: answerable questions sampled.")]
UnanswerableOption = Annotated[
    int, typer.Option(min=0, help="SQuAD: unanswerable questions sampled.")
]
HeldOutOption = Annotated[
    float | None,
    typer.Option(
        callback=share,
        help="SQuAD: ask only the test side of this by-paragraph split (train rag).",
    ),
]
WholeDocumentsOption = Annotated[
    bool,
    typer.Option(
        "--whole-documents",
        help="Also score one vector per whole document (the raw libraries, no chunking).",
    ),
]
PerQuestionOption = Annotated[
    Path | None, typer.Option(help="Write each question's answer as JSON lines.")
]


@app.command("beir", cls=WordsCommand)
def eval_beir(
    dataset: BeirDatasetArgument,
    split: Annotated[str, typer.Option(help="Qrels split to evaluate.")] = "test",
    search_mode: BeirModesOption = None,
    mode: DeprecatedModeOption = None,
    chunker: ChunkerOption = None,
    chunk_size: ChunkSizeOption = None,
    keep_whole: KeepWholeOption = None,
    overlap: OverlapOption = None,
    embedder: EmbedderOption = None,
    embed_backend: EmbedBackendOption = None,
    index_factory: BeirIndexOption = None,
    fusion: FusionOption = None,
    depth: DepthOption = None,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    rerank_backend: RerankBackendOption = None,
    stack: StackOption = None,
    max_queries: MaxQueriesOption = None,
    run_file: RunFileOption = None,
    whole_documents: WholeDocumentsOption = False,
    plot: PlotOption = None,
    cache: BeirCacheOption = True,
    kb: BeirKbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """nDCG@10, Recall@10/100, MRR@10 and MAP@100 on a BEIR data set, per search mode."""
    from ragline.evaluate.runner import beir_modes, evaluate_beir

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    modes = beir_modes(resolve_search_mode(search_mode, mode, out, "eval beir") or "all")
    models = _models(stack, embedder, rerank, rerank_fusion, rerank_depth)
    config = build_config(
        chunker=chunker,
        chunk_size=chunk_size,
        keep_whole=keep_whole,
        overlap=overlap,
        embedder=models.pop("embedder"),
        embed_backend=embed_backend,
        index_factory=index_factory,
    )
    with out.progress() as progress:
        payload = evaluate_beir(
            dataset,
            modes,
            split=split,
            config=config,
            kb=kb,
            use_cache=cache,
            max_queries=max_queries,
            run_file=run_file,
            whole_documents=whole_documents,
            on_progress=stage_reporter(progress),
            **{"fusion": fusion, "depth": depth, "rerank_backend": rerank_backend, **models},
        )
    title = f"{payload['dataset']} {payload['split']}: {payload['queries']} queries"
    report_results(title, payload, plot=plot, out=out)


def _models(
    stack: Path | None,
    embedder: str | None,
    rerank: str | None,
    rerank_fusion: str | None,
    rerank_depth: int | None,
) -> dict[str, Any]:
    """``eval beir``'s embedder and re-rank options (``evaluate_beir``'s names): those given,
    or ``--stack``'s models with its re-rank fusion and depth where none are given."""
    if stack is not None:
        from ragline.stack import Stack

        if embedder or rerank:
            raise RaglineError("--stack brings its own models: leave out --embedder and --rerank")
        loaded = Stack.load(stack)
        embedder, rerank = str(loaded.retriever), str(loaded.reranker)
        rerank_fusion = rerank_fusion or loaded.rerank_fusion
        rerank_depth = rerank_depth or loaded.rerank_depth
    return {
        "embedder": embedder,
        "rerank": rerank,
        "rerank_fusions": split_list(rerank_fusion or "rrf"),
        "rerank_depth": rerank_depth,
    }


@app.command("qa", cls=WordsCommand)
def eval_qa(
    dataset: QaDatasetArgument,
    qa_format: QaFormatOption = None,
    mode: QaModesOption = DEFAULTS.generate.mode,
    generator: QaGeneratorOption = None,
    model: ModelOption = None,
    weights: WeightsOption = None,
    hops: HopsOption = None,
    follow_up: FollowUpOption = None,
    answer_style: AnswerStyleOption = None,
    k: QaPassagesOption = None,
    search_mode: SearchModeOption = None,
    max_new_tokens: MaxNewTokensOption = None,
    answerable: AnswerableOption = 300,
    unanswerable: UnanswerableOption = 100,
    seed: Annotated[int, typer.Option(min=0, help="SQuAD: sampling seed.")] = 0,
    held_out: HeldOutOption = None,
    split_seed: Annotated[int, typer.Option(min=0, help="SQuAD: seed of that split.")] = 0,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Other formats than SQuAD: first N questions.")
    ] = None,
    embedder: EmbedderOption = None,
    query_encoder: QueryEncoderOption = None,
    per_question: PerQuestionOption = None,
    plot: PlotOption = None,
    cache: ReuseKbOption = True,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """EM, F1, abstention accuracy, citation support and supporting-passage recall."""
    from ragline.evaluate.qa_formats import load_dataset
    from ragline.evaluate.runner import evaluate_qa

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    sampling = {"answerable": answerable, "unanswerable": unanswerable, "seed": seed}
    data = load_dataset(
        dataset, held_out=held_out, split_seed=split_seed, limit=limit, format=qa_format, **sampling
    )
    with out.progress() as progress:
        payload = evaluate_qa(
            data,
            split_list(mode),
            config=build_config(embedder=embedder),
            query_encoder=query_encoder,
            use_cache=cache,
            per_question=per_question,
            on_progress=stage_reporter(progress),
            generator=generator,
            hops=hops,
            k=k,
            search_mode=search_mode,
            max_new_tokens=max_new_tokens,
            answer_style=answer_style,
            **given(model=model, weights=weights, follow_up=follow_up),
        )
    title = f"{data.name}: {len(data.questions)} questions"
    report_results(title, payload, plot=plot, out=out)


@app.command("support", cls=WordsCommand)
def eval_support(
    dataset: Annotated[Path, typer.Argument(help="SQuAD json file.")],
    limit: Annotated[
        int | None, typer.Option(min=1, help="Check only N questions (seeded; default: all).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the swaps and of the sample.")] = 0,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """The support check on itself: gold answer sentences vs the same with the answer swapped."""
    from ragline.evaluate.support_check import load_perturbations, support_report
    from ragline.generate.citations import ClaimSupport, LexicalSupport

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    pairs = load_perturbations(dataset, seed=seed, limit=limit)
    report = support_report(pairs, {"claim": ClaimSupport(), "lexical": LexicalSupport()})
    payload = {"dataset": str(dataset), "seed": seed, **report}
    counts = ", ".join(f"{kind} {n}" for kind, n in report["counts"].items())
    title = f"{dataset.name}: {report['n']} sentence pairs ({counts})"
    report_results(title, payload, plot=None, out=out)


@app.command("compare", cls=WordsCommand)
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="TREC run file A.")],
    run_b: Annotated[Path, typer.Argument(help="TREC run file B.")],
    qrels: Annotated[Path, typer.Option(help="Qrels file (BEIR TSV or TREC).")],
    metric: Annotated[str, typer.Option(help="Per-query metric to compare.")] = "ndcg@10",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Compare two runs query by query: mean difference and paired significance tests."""
    from ragline.evaluate.runner import compare_runs

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    test = compare_runs(run_a, run_b, qrels, metric)
    if as_json:
        out.json(test)
        return
    out.print(
        f"{metric} over {test['n']} queries: A {test['mean_a']:.4f}, B {test['mean_b']:.4f}, "
        f"B-A {test['mean_diff']:+.4f}; paired t-test p={test['t_pvalue']:.4g}, "
        f"randomization p={test['perm_pvalue']:.4g}"
    )


@app.command("multihop", cls=WordsCommand)
def eval_multihop(
    dataset: QaDatasetArgument,
    follow_up: Annotated[
        str,
        typer.Option(
            metavar="NAMES",
            help="Comma-separated follow-ups to compare, none for one hop reading as many "
            "passages.",
        ),
    ] = "none,links,passage,entities,decompose,auto",
    hops: Annotated[int, typer.Option(min=2, metavar="N", help="Retrieval rounds.")] = 2,
    k: QaPassagesOption = None,
    search_mode: SearchModeOption = None,
    generator: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="For follow-ups that ask one (default: none)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="HotpotQA: first N questions.")] = None,
    embedder: EmbedderOption = None,
    cache: ReuseKbOption = True,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Supporting-passage recall after each hop, per follow-up: retrieval only, no reader."""
    from ragline.evaluate.multihop import evaluate_multihop_set
    from ragline.evaluate.qa import load_qa

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    data = load_qa(dataset, limit=limit)
    with out.progress() as progress:
        payload = evaluate_multihop_set(
            data,
            split_list(follow_up),
            config=build_config(embedder=embedder),
            use_cache=cache,
            generator=generator,
            on_progress=stage_reporter(progress),
            hops=hops,
            k=k or DEFAULTS.generate.passages,
            search_mode=search_mode,
        )
    title = f"{data.name}: {len(data.questions)} questions, {hops} hops, k={payload['k']}"
    report_results(title, payload, plot=None, out=out)
