"""Charts for benchmark reports (PNG via matplotlib, imported on use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline._optional import require


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "bench")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def ingest_chart(result: dict[str, Any], path: Path) -> None:
    """Seconds per ingest stage, and ingest vs raw encoder throughput."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    stages = result["stages"]
    left.barh(list(stages), list(stages.values()))
    left.set_xlabel("seconds")
    left.set_title(f"ingest stages ({result['chunks']} chunks)")
    bars = {"ingest": result["chunks_per_s"]}
    if "raw_encode" in result:
        bars["raw encode"] = result["raw_encode"]["chunks_per_s"]
    right.bar(list(bars), list(bars.values()), color=["tab:blue", "tab:gray"][: len(bars)])
    right.set_ylabel("chunks / s")
    ratio = result.get("ingest_vs_raw")
    right.set_title(f"throughput (ingest/raw = {ratio:.2f})" if ratio else "throughput")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def query_chart(result: dict[str, Any], path: Path) -> None:
    """Latency percentiles per search mode."""
    plt = _pyplot()
    modes = list(result["results"])
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.25
    for i, pct in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        xs = [m + (i - 1) * width for m in range(len(modes))]
        ax.bar(xs, [result["results"][m][pct] for m in modes], width, label=pct)
    ax.set_xticks(range(len(modes)), modes)
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"query latency, {result['chunks']} chunks, k={result['k']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ann_chart(result: dict[str, Any], path: Path) -> None:
    """Recall@k vs queries/s per index type: ragline solid, raw FAISS dashed, log-scale QPS."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    names = list(dict.fromkeys(row["index"] for row in result["rows"]))
    for number, name in enumerate(names):
        rows = [row for row in result["rows"] if row["index"] == name]
        color = f"C{number}"
        ax.plot(
            [row["recall"] for row in rows],
            [row["ragline_qps"] for row in rows],
            "o-",
            color=color,
            label=f"{name} ragline",
        )
        ax.plot(
            [row["faiss_recall"] for row in rows],
            [row["faiss_qps"] for row in rows],
            "x--",
            color=color,
            label=f"{name} FAISS",
        )
        for row in rows:
            if row["value"] is not None:
                ax.annotate(
                    str(row["value"]),
                    (row["recall"], row["ragline_qps"]),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=7,
                    color=color,
                )
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{result['k']}")
    ax.set_ylabel("queries / s (log)")
    ax.set_title(
        f"{result['source']}: {result['n']:,} x {result['dim']}d, "
        f"{result['queries']} queries, {result['threads']} threads"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
