"""The Encoder conformance suite: unit float32 vectors of the stated size, deterministic,
closer for related texts, and token offsets inside the text.

Subclass :class:`EncoderContract` and provide the fixture ``encoder``.
"""

from __future__ import annotations

import numpy as np
import pytest

from ragline.embed.base import Encoder

TEXTS = [
    "Cats purr softly on the warm windowsill.",
    "The stock market fell sharply on Monday.",
    "Sourdough bread needs a lively starter.",
]
QUERY = "cats purr softly"


class EncoderContract:
    """What every Encoder must do."""

    @pytest.fixture
    def encoder(self) -> Encoder:
        raise NotImplementedError("a subclass provides the encoder")

    def test_follows_the_protocol(self, encoder: Encoder) -> None:
        assert isinstance(encoder, Encoder)
        assert isinstance(encoder.name, str) and encoder.name
        assert isinstance(encoder.dim, int) and encoder.dim > 0

    @pytest.mark.parametrize("side", ["encode_queries", "encode_documents"])
    def test_vectors_are_unit_float32_rows_of_dim(self, encoder: Encoder, side: str) -> None:
        vectors = getattr(encoder, side)(TEXTS)
        assert vectors.shape == (len(TEXTS), encoder.dim) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    def test_the_same_text_gives_the_same_vector(self, encoder: Encoder) -> None:
        np.testing.assert_allclose(
            encoder.encode_documents(TEXTS), encoder.encode_documents(TEXTS), atol=1e-5
        )
        np.testing.assert_allclose(
            encoder.encode_documents(TEXTS[:1]), encoder.encode_documents(TEXTS)[:1], atol=1e-5
        )

    def test_a_query_is_closest_to_the_text_it_is_about(self, encoder: Encoder) -> None:
        scores = encoder.encode_documents(TEXTS) @ encoder.encode_queries([QUERY])[0]
        assert int(np.argmax(scores)) == 0

    def test_token_offsets_lie_inside_the_text_in_order(self, encoder: Encoder) -> None:
        text = TEXTS[0]
        offsets = encoder.token_offsets(text)
        assert offsets and all(0 <= a < b <= len(text) for a, b in offsets)
        assert [a for a, _ in offsets] == sorted(a for a, _ in offsets)
