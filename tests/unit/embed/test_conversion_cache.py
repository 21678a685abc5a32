"""The OpenVINO conversion cache: converted once per model fingerprint, OpenVINO version and
variant; a second load reads the entry instead of converting again."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.embed.conversion_cache import cached_entry, entry_dir, model_fingerprint
from ragline.embed.openvino import OpenVinoEncoder
from ragline.embed.openvino_convert import MODEL_FILE, REVISION
from tiny_models import write_tiny_bert

pytest.importorskip("openvino")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "green", "apple", "tree", "sky"]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return (
        write_tiny_bert(root / "a" / "bert", VOCAB, seed=0),
        write_tiny_bert(root / "b" / "bert", VOCAB, seed=1),
    )


def test_a_second_load_does_not_convert_again(tiny_models: tuple[Path, Path], tmp_path: Path):
    first = OpenVinoEncoder(str(tiny_models[0]), precision="f32", cache_dir=tmp_path)
    graph = first.graph_dir() / MODEL_FILE
    written = graph.stat().st_mtime_ns
    second = OpenVinoEncoder(str(tiny_models[0]), precision="f32", cache_dir=tmp_path)
    assert second.graph_dir() / MODEL_FILE == graph
    assert graph.stat().st_mtime_ns == written
    assert second.encode_documents(["red apple"]).shape == (1, 32)
    # one entry, and no temporary folder left behind
    assert [p.name for p in graph.parent.parent.iterdir()] == [f"f32-r{REVISION}"]


def test_an_entry_is_built_once_by_whoever_asks_first(tmp_path: Path):
    builds: list[Path] = []

    def build(folder: Path) -> None:
        builds.append(folder)
        (folder / MODEL_FILE).write_text("graph")

    entry = tmp_path / "model-abc" / "2026.4.1" / "f32"
    assert cached_entry(entry, build) == cached_entry(entry, build) == entry
    assert len(builds) == 1 and (entry / MODEL_FILE).read_text() == "graph"


def test_a_different_model_or_openvino_version_gets_a_new_entry(
    tiny_models: tuple[Path, Path], tmp_path: Path
):
    a, b = tiny_models
    assert model_fingerprint(a) != model_fingerprint(b)  # same name and config, other weights
    here = entry_dir(a, "openvino", "2026.4.1-22982-e213a147257", "f32", tmp_path)
    assert here != entry_dir(b, "openvino", "2026.4.1-22982-e213a147257", "f32", tmp_path)
    assert here != entry_dir(a, "openvino", "2026.5.0-1", "f32", tmp_path)
    assert here != entry_dir(a, "openvino", "2026.4.1-22982-e213a147257", "int8", tmp_path)
    assert here.is_relative_to(tmp_path / "converted" / "openvino")


def test_the_fingerprint_ignores_files_that_do_not_change_vectors(tmp_path: Path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    before = model_fingerprint(model)
    (model / "README.md").write_text("a new model card")
    assert model_fingerprint(model) == before
    (model / "model.safetensors").write_bytes(b"other weights")
    assert model_fingerprint(model) != before
