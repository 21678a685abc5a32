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
