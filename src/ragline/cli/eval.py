"""``ragline eval``: retrieval quality on BEIR, answer quality on QA sets, the support check
on itself, and two runs compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragline.cli.common import (
    AnswerStyleOption,
    ChunkSizeOption,
    EmbedderOption,
    FollowUpOption,
    FusionOption,
    HopsOption,
    JsonOption,
    MaxNewTokensOption,
    ModelOption,
    OverlapOption,
    QueryEncoderOption,
    RerankDepthOption,
    RerankFusionOption,
    RerankOption,
    SearchModeOption,
    VerboseOption,
    build_config,
    emit_json,
    given,
    progress_bar,
    report_results,
    setup_logging,
    split_list,
    stage_reporter,
    stderr_console,
)

app = typer.Typer(no_args_is_help=True, help="Measure retrieval quality.")

PlotOption = Annotated[Path | None, typer.Option(help="Write a bar chart (PNG).")]
BeirDatasetArgument = Annotated[
    Path,
    typer.Argument(help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or HotpotQA folder."),
]
BeirIndexOption = Annotated[str | None, typer.Option("--index", help="FAISS factory string.")]
MaxQueriesOption = Annotated[int | None, typer.Option(help="Evaluate only the first N queries.")]
RunFileOption = Annotated[Path | None, typer.Option(help="Write TREC runs to PREFIX.<mode>.trec.")]
BeirCacheOption = Annotated[
    bool, typer.Option(help="Reuse the knowledge base built for this corpus.")
]
BeirKbOption = Annotated[
    Path | None,
    typer.Option("--kb", help="Evaluate this knowledge base (built over the corpus)."),
]
QaDatasetArgument = Annotated[
    Path, typer.Argument(help="SQuAD json (or its folder), or a HotpotQA folder.")
]
QaGeneratorOption = Annotated[
    str | None,
    typer.Option(help="extractive (default), smollm2, a reader or model path, or an API URL."),
]
HeldOutOption = Annotated[
    float | None,
    typer.Option(help="SQuAD: ask only the test side of this by-paragraph split (train rag)."),
]
PerQuestionOption = Annotated[
    Path | None, typer.Option(help="Write each question's answer as JSON lines.")
]


@app.command("beir")
def eval_beir(
    dataset: BeirDatasetArgument,
    split: Annotated[str, typer.Option(help="Qrels split to evaluate.")] = "test",
    mode: Annotated[str, typer.Option(help="Comma-separated: bm25,dense,hybrid or all.")] = "all",
    chunker: Annotated[str | None, typer.Option(help="fixed | recursive | semantic.")] = None,
    chunk_size: ChunkSizeOption = None,
    overlap: OverlapOption = None,
    embedder: EmbedderOption = None,
    index_factory: BeirIndexOption = None,
    fusion: FusionOption = None,
    depth: Annotated[int | None, typer.Option(help="Hybrid candidates per side.")] = None,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    max_queries: MaxQueriesOption = None,
    run_file: RunFileOption = None,
    plot: PlotOption = None,
    cache: BeirCacheOption = True,
    kb: BeirKbOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """nDCG@10, Recall@10/100, MRR@10 and MAP@100 on a BEIR data set, per search mode."""
    from ragline.evaluate.runner import beir_modes, evaluate_beir

    setup_logging(verbose)
    modes = beir_modes(mode)
    config = build_config(
        chunker=chunker,
        chunk_size=chunk_size,
        overlap=overlap,
        embedder=embedder,
        index_factory=index_factory,
    )
    console = stderr_console()
    with progress_bar(console, as_json) as progress:
        payload = evaluate_beir(
            dataset,
            modes,
            split=split,
            config=config,
            kb=kb,
            use_cache=cache,
            max_queries=max_queries,
            fusion=fusion,
            depth=depth,
            rerank=rerank,
            rerank_depth=rerank_depth,
            rerank_fusions=split_list(rerank_fusion or "rrf"),
            run_file=run_file,
            on_progress=stage_reporter(progress),
        )
    title = f"{payload['dataset']} {payload['split']}: {payload['queries']} queries"
    report_results(title, payload, plot=plot, as_json=as_json, console=console)


@app.command("qa")
def eval_qa(
    dataset: QaDatasetArgument,
    mode: Annotated[str, typer.Option(help="Comma-separated: plain,sequence,token.")] = "plain",
    generator: QaGeneratorOption = None,
    model: ModelOption = None,
    hops: HopsOption = None,
    follow_up: FollowUpOption = None,
    answer_style: AnswerStyleOption = None,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Passages per question.")] = None,
    search_mode: SearchModeOption = None,
    max_new_tokens: MaxNewTokensOption = None,
    answerable: Annotated[int, typer.Option(help="SQuAD: answerable questions sampled.")] = 300,
    unanswerable: Annotated[int, typer.Option(help="SQuAD: unanswerable questions sampled.")] = 100,
    seed: Annotated[int, typer.Option(help="SQuAD: sampling seed.")] = 0,
    held_out: HeldOutOption = None,
    split_seed: Annotated[int, typer.Option(help="SQuAD: seed of that split.")] = 0,
    limit: Annotated[int | None, typer.Option(help="HotpotQA: first N questions.")] = None,
    embedder: EmbedderOption = None,
    query_encoder: QueryEncoderOption = None,
    per_question: PerQuestionOption = None,
    plot: PlotOption = None,
    cache: Annotated[bool, typer.Option(help="Reuse the knowledge base built before.")] = True,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """EM, F1, abstention accuracy, citation support and supporting-passage recall."""
    from ragline.evaluate.qa import load_qa
    from ragline.evaluate.runner import evaluate_qa

    setup_logging(verbose)
    data = load_qa(
        dataset,
        answerable=answerable,
        unanswerable=unanswerable,
        seed=seed,
        held_out=held_out,
        split_seed=split_seed,
        limit=limit,
    )
    console = stderr_console()
    with progress_bar(console, as_json) as progress:
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
            **given(model=model, follow_up=follow_up),
        )
    title = f"{data.name}: {len(data.questions)} questions"
    report_results(title, payload, plot=plot, as_json=as_json, console=console)


@app.command("support")
def eval_support(
    dataset: Annotated[Path, typer.Argument(help="SQuAD json file.")],
    limit: Annotated[int | None, typer.Option(help="Check only N questions (seeded).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the swaps and of the sample.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """The support check on itself: gold answer sentences vs the same with the answer swapped."""
    from ragline.evaluate.support_check import load_perturbations, support_report
    from ragline.generate.citations import ClaimSupport, LexicalSupport

    pairs = load_perturbations(dataset, seed=seed, limit=limit)
    report = support_report(pairs, {"claim": ClaimSupport(), "lexical": LexicalSupport()})
    payload = {"dataset": str(dataset), "seed": seed, **report}
    counts = ", ".join(f"{kind} {n}" for kind, n in report["counts"].items())
    title = f"{dataset.name}: {report['n']} sentence pairs ({counts})"
    report_results(title, payload, plot=None, as_json=as_json, console=stderr_console())


@app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="TREC run file A.")],
    run_b: Annotated[Path, typer.Argument(help="TREC run file B.")],
    qrels: Annotated[Path, typer.Option(help="Qrels file (BEIR TSV or TREC).")],
    metric: Annotated[str, typer.Option(help="Per-query metric to compare.")] = "ndcg@10",
    as_json: JsonOption = False,
) -> None:
    """Compare two runs query by query: mean difference and paired significance tests."""
    from ragline.evaluate.runner import compare_runs

    test = compare_runs(run_a, run_b, qrels, metric)
    if as_json:
        emit_json(test)
        return
    stderr_console().print(
        f"{metric} over {test['n']} queries: A {test['mean_a']:.4f}, B {test['mean_b']:.4f}, "
        f"B-A {test['mean_diff']:+.4f}; paired t-test p={test['t_pvalue']:.4g}, "
        f"randomization p={test['perm_pvalue']:.4g}",
        markup=False,
    )
