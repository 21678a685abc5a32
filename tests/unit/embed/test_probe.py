"""The probe: a backend whose vectors are not the reference model's is refused in one line
naming it and the measured cosine; an accepted result is recorded and read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragline.embed import probe
from ragline.embed.openvino import OpenVinoEncoder
from ragline.embed.sentence_transformers import SentenceTransformerEncoder
from ragline.errors import RaglineError
from tiny_models import write_tiny_bert

pytest.importorskip("openvino")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "green", "apple", "tree", "sky"]


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return (
        write_tiny_bert(root / "a", VOCAB, seed=0),
        write_tiny_bert(root / "b", VOCAB, seed=1),
    )


def test_a_backend_running_other_weights_is_refused(tiny_pair: tuple[Path, Path], tmp_path):
    """The deliberately bad backend: OpenVINO runs model A while the model in use is B."""
    bad = OpenVinoEncoder(str(tiny_pair[0]), precision="f32", cache_dir=tmp_path)
    bad.reference = SentenceTransformerEncoder(str(tiny_pair[1]))
    with pytest.raises(RaglineError) as refused:
        bad.encode_queries(["red apple"])
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("embedder backend openvino (f32): cosine ")
    measured = float(
        message.split("cosine to the sentence-transformers float32 vectors is ")[1][:6]
    )
    assert measured < probe.THRESHOLDS["f32"]


def test_the_same_weights_pass_and_the_result_is_recorded(tiny_pair: tuple[Path, Path], tmp_path):
    good = OpenVinoEncoder(str(tiny_pair[0]), precision="f32", cache_dir=tmp_path)
    vectors = good.encode_documents(["red apple", "green tree"])
    reference = SentenceTransformerEncoder(str(tiny_pair[0])).encode_documents(
        ["red apple", "green tree"]
    )
    np.testing.assert_allclose(vectors, reference, atol=1e-4)
    assert good.probe_result.min_cosine >= 0.99999
    record = good.graph_dir() / "probe-f32.json"
    assert json.loads(record.read_text()) == {
        "mean_cosine": good.probe_result.mean_cosine,
        "min_cosine": good.probe_result.min_cosine,
    }


def test_a_recorded_result_is_judged_without_measuring_again(tmp_path: Path):
    record = tmp_path / "probe.json"
    record.write_text(json.dumps({"mean_cosine": 0.97, "min_cosine": 0.95}))

    def never(texts: list[str]) -> np.ndarray:
        raise AssertionError("the recorded result should have been used")

    with pytest.raises(RaglineError, match=r"openvino-int8 \(int8\): .* is 0\.9500 .* under 0\.9"):
        probe.checked("openvino-int8 (int8)", "int8", never, never, record)
    assert probe.checked("x", "int8", never, never, _record(tmp_path, 0.99)).min_cosine == 0.99


def _record(folder: Path, cosine: float) -> Path:
    file = folder / "good.json"
    file.write_text(json.dumps({"mean_cosine": cosine, "min_cosine": cosine}))
    return file


def test_reranker_scores_off_the_reference_are_refused_in_one_line(tmp_path: Path):
    def reference(pairs: list[tuple[str, str]]) -> np.ndarray:
        return np.linspace(0.1, 0.9, len(pairs), dtype=np.float32)

    def close(pairs: list[tuple[str, str]]) -> np.ndarray:
        return reference(pairs) + np.float32(1e-6)

    def off(pairs: list[tuple[str, str]]) -> np.ndarray:
        return reference(pairs) + np.float32(0.01)

    assert len(probe.PROBE_PAIRS) == len(probe.PROBE_TEXTS)
    record = tmp_path / "scores.json"
    accepted = probe.checked_scores("openvino (f32)", "f32", close, reference, record)
    assert accepted.max_difference < 1e-5 and accepted.scale == pytest.approx(0.9)
    assert probe.checked_scores("openvino (f32)", "f32", off, off, record) == accepted  # read back
    with pytest.raises(RaglineError) as refused:
        probe.checked_scores("openvino (f32)", "f32", off, reference)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("re-ranker backend openvino (f32): scores differ from the PyTorch")
    assert message.endswith("over 0.001; use --rerank-backend torch")


def test_reranker_tolerance_scales_with_logits():
    def reference(pairs: list[tuple[str, str]]) -> np.ndarray:
        return np.linspace(-20, 20, len(pairs), dtype=np.float32)

    def shifted(pairs: list[tuple[str, str]]) -> np.ndarray:
        return reference(pairs) + np.float32(0.01)  # 0.01 on logits up to 20: 5e-4 relative

    assert probe.checked_scores("x", "f32", shifted, reference).scale == 20


def test_auto_embeds_queries_on_int8_weights_where_documents_run_in_float32(
    tiny_pair: tuple[Path, Path], tmp_path: Path
):
    encoder = OpenVinoEncoder(str(tiny_pair[0]), cache_dir=tmp_path)
    texts = ["red apple", "green tree sky"]
    reference = SentenceTransformerEncoder(str(tiny_pair[0])).encode_queries(texts)
    queries = encoder.encode_queries(texts)
    if encoder.variant != "f32":
        pytest.skip(f"documents run at {encoder.variant} on this CPU: queries share the graph")
    assert encoder.query_variant == "int8w"
    assert encoder.query_compiled is not encoder.compiled
    assert (encoder.graph_dir("int8w") / "probe-f32.json").is_file()
    assert probe.cosines(queries, reference).min() >= probe.THRESHOLDS["int8w"]
    np.testing.assert_allclose(encoder.encode_documents(texts), reference, atol=1e-4)
    exact = OpenVinoEncoder(str(tiny_pair[0]), precision="f32", cache_dir=tmp_path)
    assert exact.query_variant == "f32"
    np.testing.assert_allclose(exact.encode_queries(texts), reference, atol=1e-4)


def test_queries_fall_back_to_the_documents_graph_when_int8_weights_are_refused(
    tiny_pair: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    encoder = OpenVinoEncoder(str(tiny_pair[0]), cache_dir=tmp_path)
    if encoder.query_variant != "int8w":
        pytest.skip("queries run on the documents' graph on this CPU")
    monkeypatch.setitem(probe.THRESHOLDS, "int8w", 1.0 + 1e-9)
    reference = SentenceTransformerEncoder(str(tiny_pair[0])).encode_queries(["red apple"])
    np.testing.assert_allclose(encoder.encode_queries(["red apple"]), reference, atol=1e-4)
    assert encoder.query_compiled is encoder.compiled
