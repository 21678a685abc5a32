"""Embedder backends side by side with the raw sentence-transformers encode: the shape of the
ingest and query reports, and the CPU flags recorded with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline import Config, KnowledgeBase
from ragline.bench.backends import compare_backends
from ragline.bench.machine import machine_info
from ragline.bench.query import compare_query_backends
from ragline.config import EmbedConfig
from ragline.embed.cpu_features import SPEED_FLAGS, cpu_flags

pytest.importorskip("openvino")

TEXTS = [
    "Cats purr softly on the warm windowsill.",
    "The stock market fell sharply on Monday.",
    "Sourdough bread needs a lively starter and a warm kitchen.",
    "Volcanoes erupt when pressure builds beneath the crust.",
]
ROW = {"texts_per_s", "seconds", "speedup_vs_raw", "mean_cosine", "min_cosine"}


def test_backends_are_timed_beside_the_raw_encode():
    report = compare_backends(
        EmbedConfig(model="minilm"), TEXTS, backends=["torch", "openvino"], rounds=2, batch_size=4
    )
    assert report["texts"] == 4 and report["rounds"] == 2
    assert set(report["backends"]) == {"raw", "torch", "openvino"}
    for row in report["backends"].values():
        assert set(row) == ROW and len(row["seconds"]) == 2 and row["texts_per_s"] > 0
    assert report["backends"]["raw"]["speedup_vs_raw"] == 1.0
    assert report["backends"]["openvino"]["min_cosine"] > 0.999


def test_query_backends_report_embedding_and_search_latency(tmp_path: Path, write_corpus) -> None:
    write_corpus(tmp_path / "corpus")
    with KnowledgeBase.create(tmp_path / "kb", Config(embed=EmbedConfig(model="minilm"))) as kb:
        kb.add([tmp_path / "corpus"])
        report = compare_query_backends(kb, TEXTS * 2, ["openvino"], warmup=2)
        assert kb.state.query_encoder is None  # the knowledge base is left as it was
    assert report["mode"] == "hybrid" and report["queries"] == 8
    raw, openvino = report["backends"]["raw"], report["backends"]["openvino"]
    assert set(raw) == {"embed_p50_ms", "mean_cosine", "min_cosine"}
    assert set(openvino) == {"embed_p50_ms", "hybrid_p50_ms", "mean_cosine", "min_cosine"}
    assert openvino["min_cosine"] > 0.999


def test_the_cpu_flags_that_decide_speed_are_recorded(tmp_path: Path):
    assert set(machine_info()["cpu_flags"]) == set(SPEED_FLAGS)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: X\nflags\t\t: fpu avx2 amx_bf16 sse\n")
    flags = cpu_flags(str(cpuinfo))
    assert flags["avx2"] and flags["amx_bf16"] and not flags["avx512_bf16"]
    assert not any(cpu_flags(str(tmp_path / "missing")).values())
