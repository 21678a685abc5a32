"""Tiny random models saved to disk, for tests that need a real model directory but not a
trained one, and the tiny topic passages such models train on in seconds (tests/ is on
pytest's pythonpath: ``from tiny_models import write_tiny_bert``)."""

from __future__ import annotations

import json
from pathlib import Path

TOPICS = {
    "cat": "the cat sleeps on the warm mat",
    "boat": "a red boat sails on the blue lake",
    "bread": "bread bakes in the hot oven",
    "train": "the train waits at the old station",
    "star": "a bright star shines over the moon",
    "river": "the river runs past the green hill",
    "dog": "the dog runs after the red ball",
    "rain": "cold rain falls on the old roof",
}
"""Eight one-line passages, each keyed by the topic word it names (queries: "where the WORD")."""
TOPIC_WORDS = sorted(
    {w for text in TOPICS.values() for w in text.split()} | set(TOPICS) | {"where"}
)
TOPIC_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *".,!?", *TOPIC_WORDS]
"""A tiny BERT vocabulary that holds every word of TOPICS and of its queries."""


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


def word_tokenizer(  # type: ignore[no-untyped-def]
    special: list[str],
    words: list[str],
    *,
    unk: str,
    pad: str,
    eos: str,
    end_with_eos: bool = False,
):
    """A fast tokenizer with one id per whitespace/punctuation-split word, ``special + words``
    numbered in that order; with ``end_with_eos`` every encoded text ends with ``eos`` (as
    T5's tokenizer does)."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    ids = {w: i for i, w in enumerate(special + words)}
    tok = Tokenizer(models.WordLevel(ids, unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(special)
    if end_with_eos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"$A {eos}", pair=f"$A {eos} $B {eos}", special_tokens=[(eos, ids[eos])]
        )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token=unk, pad_token=pad, eos_token=eos
    )


T5_SPECIAL = ["<pad>", "</s>", "<unk>"]


def write_tiny_t5(directory: Path, vocab: list[str], *, seed: int = 0) -> Path:
    """Save a random 1-layer T5 over ``T5_SPECIAL + vocab`` and a word-level tokenizer that,
    as T5's does, ends every encoded text with ``</s>`` (pad 0 is the decoder start)."""
    import torch
    import transformers

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = word_tokenizer(
        T5_SPECIAL, vocab, unk="<unk>", pad="<pad>", eos="</s>", end_with_eos=True
    )
    tokenizer.save_pretrained(str(directory))
    ids = tokenizer.get_vocab()
    torch.manual_seed(seed)
    config = transformers.T5Config(
        vocab_size=len(ids),
        d_model=16,
        d_ff=32,
        num_layers=1,
        num_heads=2,
        d_kv=8,
        decoder_start_token_id=ids["<pad>"],
        pad_token_id=ids["<pad>"],
        eos_token_id=ids["</s>"],
    )
    model = transformers.T5ForConditionalGeneration(config)
    with torch.no_grad():
        # T5's output layer is its input embedding, so a random tiny T5 mostly repeats the
        # token it was fed (the decoder start, pad). Random signs and scales in the decoder's
        # final norm break that, and give peaked next-token distributions.
        model.decoder.final_layer_norm.weight.normal_(0.0, 4.0)
    model.save_pretrained(str(directory))
    return directory
