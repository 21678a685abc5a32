"""Present evaluation results: a terminal table and a bar chart per metric and mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline._optional import require


def results_table(title: str, results: dict[str, dict[str, float]]) -> Any:
    """A rich Table: one row per mode, one column per metric."""
    from rich.table import Table

    metrics = list(next(iter(results.values()), {}))
    table = Table(title=title)
    table.add_column("mode")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for mode, values in results.items():
        table.add_row(mode, *(f"{values[m]:.4f}" for m in metrics))
    return table


def bar_chart(title: str, results: dict[str, dict[str, float]], path: Path) -> None:
    """Grouped bars: metrics along x, one bar per mode; written as PNG."""
    matplotlib = require("matplotlib", "eval")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(results)
    metrics = list(next(iter(results.values()), {}))
    width = 0.8 / max(len(modes), 1)
    fig, ax = plt.subplots(figsize=(1.6 * len(metrics) + 2, 4))
    for i, mode in enumerate(modes):
        xs = [m + (i - (len(modes) - 1) / 2) * width for m in range(len(metrics))]
        bars = ax.bar(xs, [results[mode][m] for m in metrics], width, label=mode)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, rotation=90, padding=2)
    ax.set_xticks(range(len(metrics)), metrics)
    ax.set_ylim(0, 1.1)
    ax.set_title(title)
    ax.legend(loc="upper left", ncols=len(modes), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
