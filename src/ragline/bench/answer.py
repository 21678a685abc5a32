"""Answer latency: seconds per ``ask`` (retrieval, reading or generation, and the support
check) for several generators on the same questions, each relative to the first one, timed
in one process with questions interleaved so that load on the machine hits all alike."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ragline.bench.machine import machine_info


def bench_answer(
    kb: Any, questions: Sequence[str], generators: Sequence[Any], **ask_options: Any
) -> dict[str, Any]:
    """Per generator (a name, or a Generator object named by its ``name``): load time (its
    first answer, not counted after), p50 and p95 seconds per answer, abstentions, and its
    median time per answer over that of ``generators[0]``."""
    if not generators or not questions:
        raise ValueError("bench answer needs at least one generator and one question")
    named = {getattr(g, "name", g): g for g in generators}
    loads: dict[str, float] = {}
    for name, generator in named.items():
        started = time.perf_counter()
        kb.ask(questions[0], generator=generator, **ask_options)
        loads[name] = time.perf_counter() - started
    seconds: dict[str, list[float]] = {name: [] for name in named}
    abstained: dict[str, int] = dict.fromkeys(named, 0)
    for question in questions:
        for name, generator in named.items():
            started = time.perf_counter()
            answer = kb.ask(question, generator=generator, **ask_options)
            seconds[name].append(time.perf_counter() - started)
            abstained[name] += answer.abstained
    first = next(iter(named))
    baseline = float(np.median(seconds[first]))
    return {
        "machine": machine_info(),
        "questions": len(questions),
        "baseline": first,
        "generators": {
            name: {
                "load_seconds": loads[name],
                "p50_s": float(np.percentile(seconds[name], 50)),
                "p95_s": float(np.percentile(seconds[name], 95)),
                "relative_to_baseline": float(np.median(seconds[name])) / baseline,
                "abstained": abstained[name],
            }
            for name in named
        },
    }
