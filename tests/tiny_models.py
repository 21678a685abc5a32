"""Tiny random models saved to disk, for tests that need a real model directory but not a
trained one (tests/ is on pytest's pythonpath: ``from tiny_models import write_tiny_bert``)."""

from __future__ import annotations

import json
from pathlib import Path


def write_tiny_bert(
    directory: Path, vocab: list[str], *, seed: int = 0, sentence_transformers: bool = True
) -> Path:
    """Save a random 2-layer BERT over ``vocab`` and its tokenizer; with
    ``sentence_transformers`` also the modules.json and mean pooling of a bi-encoder."""
    import torch
    import transformers

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = transformers.BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    transformers.BertModel(config).save_pretrained(str(directory))
    if sentence_transformers:
        module = "sentence_transformers.models."
        transformer = {"idx": 0, "name": "0", "path": "", "type": module + "Transformer"}
        pooling = {"idx": 1, "name": "1", "path": "1_Pooling", "type": module + "Pooling"}
        (directory / "modules.json").write_text(json.dumps([transformer, pooling]))
        (directory / "1_Pooling").mkdir(exist_ok=True)
        mean = {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True}
        (directory / "1_Pooling" / "config.json").write_text(json.dumps(mean))
    return directory
