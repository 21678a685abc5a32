"""train_rag: reading QA pairs, the paragraph split, and tiny end-to-end runs — the loss goes
down, gradients reach the query encoder and the generator, outputs load, and a run
interrupted at a checkpoint resumes to the same weights as one that was not.

The generator is a random one-layer Llama made here (with the packaged SmolLM2 tokenizer
when its converted copy is cached, else a small word-level tokenizer); the knowledge base
holds six one-sentence documents embedded with the packaged MiniLM.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from ragline.documents import Document  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.train import rag, rag_checkpoint, rag_trainer  # noqa: E402
from ragline.train.rag import RagRecipe, train_rag  # noqa: E402
from ragline.train.rag_checkpoint import checkpoint_dir  # noqa: E402
from ragline.train.rag_data import (  # noqa: E402
    read_qa_pairs,
    split_squad_by_paragraph,
    training_pairs,
)
from ragline.train.rag_passages import FrozenPassages, RefreshedPassages  # noqa: E402
from ragline.train.rag_trainer import (  # noqa: E402
    GENERATOR_DIR,
    PASSAGE_ENCODER_DIR,
    QUERY_ENCODER_DIR,
)
from ragline.train.runner import LOG_FILE, RECIPE_FILE  # noqa: E402

DOCUMENTS = {
    "etna": "Mount Etna is an active volcano on the island of Sicily in Italy.",
    "violin": "The violin has four strings and is played with a bow made of horsehair.",
    "honey": "Bees make honey from the nectar of flowers and store it in wax combs.",
    "glacier": "A glacier is a slow river of ice that forms from compacted snow.",
    "chess": "In chess the knight moves in an L shape and can jump over other pieces.",
    "tea": "Green tea is made from leaves of the Camellia sinensis plant.",
}
PAIRS = [
    ("Which island is Mount Etna on?", "Sicily"),
    ("How many strings does a violin have?", "four"),
    ("What do bees make honey from?", "nectar"),
    ("What does a glacier form from?", "compacted snow"),
    ("How does the knight move in chess?", "in an L shape"),
    ("Which plant is green tea made from?", "Camellia sinensis"),
]
SQUAD_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "squad2-dev"


pytestmark = [
    pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing`:FutureWarning"),
    pytest.mark.usefixtures("one_torch_thread"),
]


# ---- reading pairs ------------------------------------------------------------------------


def _squad(paragraphs: int) -> dict:
    def qa(n: int, p: int) -> dict:
        if n == 2:
            return {
                "id": f"{p}-{n}",
                "question": f"q{p}-{n}?",
                "answers": [],
                "is_impossible": True,
            }
        answers = [{"text": f"a{p}-{n}", "answer_start": 0}, {"text": "other", "answer_start": 0}]
        return {"id": f"{p}-{n}", "question": f"q{p}-{n}?", "answers": answers}

    return {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {"context": f"paragraph {p}", "qas": [qa(n, p) for n in range(3)]}
                    for p in range(paragraphs)
                ],
            }
        ]
    }


def test_read_qa_pairs_squad_hotpot_and_jsonl(tmp_path: Path, caplog) -> None:
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(_squad(2)))
    with caplog.at_level(logging.WARNING, logger="ragline.train.rag_data"):
        assert read_qa_pairs(squad) == [
            ("q0-0?", "a0-0"),
            ("q0-1?", "a0-1"),
            ("q1-0?", "a1-0"),
            ("q1-1?", "a1-1"),
        ]
    assert "skipped 2 records" in caplog.text
    hotpot = tmp_path / "qa_train.json"
    hotpot.write_text(json.dumps([{"question": "Who?", "answer": "Ada"}, {"question": "x"}]))
    assert read_qa_pairs(hotpot) == [("Who?", "Ada")]
    lines = tmp_path / "pairs.jsonl"
    lines.write_text(
        '{"question": " Q? ", "answer": " A "}\nnot json\n{"question": "", "answer": "B"}\n'
    )
    assert read_qa_pairs(lines) == [("Q?", "A")]
    with pytest.raises(RaglineError, match="no such file"):
        read_qa_pairs(tmp_path / "missing.json")
    (tmp_path / "odd.json").write_text('{"questions": []}')
    with pytest.raises(RaglineError, match="odd.json: expected SQuAD json"):
        read_qa_pairs(tmp_path / "odd.json")


def test_split_by_paragraph_is_fixed_and_disjoint(tmp_path: Path) -> None:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(_squad(10)))
    train, test = split_squad_by_paragraph(path, 0.3, seed=1)
    assert (train, test) == split_squad_by_paragraph(path, 0.3, seed=1)
    paragraph = {q: q.split("-")[0] for q, _ in train + test}
    assert len({paragraph[q] for q, _ in test}) == 3
    assert not {paragraph[q] for q, _ in test} & {paragraph[q] for q, _ in train}
    assert len(train) + len(test) == 20
    assert split_squad_by_paragraph(path, 0.3, seed=2) != (train, test)
    with pytest.raises(RaglineError, match="test fraction 1"):
        split_squad_by_paragraph(path, 1)


def test_training_pairs_come_from_one_source(tmp_path: Path) -> None:
    from ragline.evaluate.qa import held_out_documents

    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(_squad(10)))
    pairs, hidden = training_pairs(squad=squad, test_fraction=0.3, split_seed=1)
    assert pairs == split_squad_by_paragraph(squad, 0.3, seed=1)[0]
    assert hidden == held_out_documents(squad, 0.3, seed=1) and len(hidden) == 3
    lines = tmp_path / "pairs.jsonl"
    lines.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in PAIRS))
    sample, nothing_hidden = training_pairs(pairs=lines, limit=3, seed=5)
    assert nothing_hidden == set() and len(sample) == 3 and set(sample) <= set(PAIRS)
    assert training_pairs(pairs=lines, limit=3, seed=5) == (sample, set())
    for sources in ({}, {"squad": squad, "pairs": lines}):
        with pytest.raises(RaglineError, match="give one of --squad or --pairs"):
            training_pairs(**sources)


def test_split_of_squad2_dev_covers_every_answerable_question() -> None:
    path = SQUAD_DIR / "dev-v2.0.json"
    if not path.is_file():
        pytest.skip("squad2-dev data set is missing")
    train, test = split_squad_by_paragraph(path, 0.2, seed=0)
    assert len(train) + len(test) == len(read_qa_pairs(path)) == 2910
    assert 0.15 < len(test) / 2910 < 0.25


def test_recipe_parts_and_bad_values() -> None:
    assert RagRecipe(train="both").parts == ("query", "generator")
    assert RagRecipe(train="generator, passage").parts == ("passage", "generator")
    recipe = RagRecipe(train="passage")
    assert (recipe.trains_query, recipe.trains_passage, recipe.trains_generator) == (
        False,
        True,
        False,
    )
    with pytest.raises(RaglineError, match="--train query,documents: name parts from"):
        RagRecipe(train="query,documents")
    with pytest.raises(RaglineError, match="--refresh-every 0"):
        RagRecipe(train="passage", refresh_every=0)
    with pytest.raises(RaglineError, match="--device tpu: use auto, cpu or cuda"):
        RagRecipe(device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RaglineError, match="--device cuda: no CUDA GPU is available"):
            RagRecipe(device="cuda")
    with pytest.raises(RaglineError, match="--loss beam"):
        RagRecipe(loss="beam")
    with pytest.raises(RaglineError, match="--k 0"):
        RagRecipe(k=0)
    with pytest.raises(RaglineError, match="--temperature 0"):
        RagRecipe(temperature=0)


def test_hash_embedder_knowledge_base_is_refused(tmp_path: Path) -> None:
    from ragline.config import Config, EmbedConfig
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.create(tmp_path / "kb", Config(embed=EmbedConfig(model="hash-16"))) as kb:
        kb.add([Document(name, text) for name, text in DOCUMENTS.items()])
    with pytest.raises(RaglineError, match="needs a sentence-transformers embedder"):
        train_rag(tmp_path / "kb", PAIRS, tmp_path / "out", RagRecipe(), dev_pairs=[])


# ---- tiny end-to-end runs -----------------------------------------------------------------


def _cached_smollm2_tokenizer() -> Path | None:
    from ragline.cache import default_cache_dir

    found = sorted((default_cache_dir() / "models").glob("SmolLM2-135M-Instruct*/tokenizer.json"))
    return found[0].parent if found else None


def _word_tokenizer() -> object:
    from tokenizers import pre_tokenizers

    from ragline.generate.prompt import SYSTEM_PROMPT
    from tiny_models import word_tokenizer

    text = " ".join([SYSTEM_PROMPT, *DOCUMENTS.values(), *(q + " " + a for q, a in PAIRS)])
    words = pre_tokenizers.Whitespace().pre_tokenize_str(text + " Passages Title")
    special = ["[PAD]", "[UNK]", "</s>"]
    return word_tokenizer(
        special, sorted({w for w, _ in words}), unk="[UNK]", pad="[PAD]", eos="</s>"
    )


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory) -> Path:
    """A random one-layer Llama saved with a tokenizer, as a Hugging Face directory."""
    directory = tmp_path_factory.mktemp("tiny-llama")
    source = _cached_smollm2_tokenizer()
    if source is not None:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    else:
        tokenizer = _word_tokenizer()
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="module")
def minilm_kb(tmp_path_factory) -> Path:
    from ragline.kb import KnowledgeBase

    path = tmp_path_factory.mktemp("rag") / "kb"
    with KnowledgeBase.create(path) as kb:
        kb.add([Document(name, text, {"title": name}) for name, text in DOCUMENTS.items()])
    return path


def _recipe(generator: Path, **changes) -> RagRecipe:
    settings = {
        "train": "both",
        "k": 3,
        "generator": str(generator),
        "epochs": 1,
        "batch_size": 2,
        "query_learning_rate": 1e-4,
        "generator_learning_rate": 1e-2,
        "warmup_ratio": 0.0,
        "max_answer_tokens": 8,
        "context_tokens": 48,
        "precision": "fp32",
        "checkpoint_every": 100,
        "seed": 7,
    }
    return RagRecipe(**(settings | changes))


def _safetensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.integration
def test_tiny_run_learns_and_writes_loadable_outputs(
    tmp_path: Path, minilm_kb: Path, tiny_generator: Path
) -> None:
    from peft import PeftModel

    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    out = tmp_path / "rag-out"
    # Every step sees the same four questions, so the losses are comparable step to step.
    recipe = _recipe(
        tiny_generator,
        epochs=6,
        batch_size=4,
        generator_learning_rate=3e-2,
        query_learning_rate=3e-4,
    )
    report = train_rag(minilm_kb, PAIRS[:4], out, recipe, dev_pairs=PAIRS[4:5], progress=False)
    records = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    losses = [r["loss"] for r in records if "loss" in r]
    assert report["steps"] == len(losses) == 6
    assert all(later < earlier for earlier, later in zip(losses, losses[1:], strict=False))
    assert losses[0] - losses[-1] > 0.5
    assert [r["step"] for r in records if "dev_f1" in r] == [0, 1, 2, 3, 4, 5, 6]
    assert len(report["dev_f1_per_epoch"]) == 6 and report["dev_f1_before"] is not None
    assert report["trained"] == [QUERY_ENCODER_DIR, GENERATOR_DIR]
    assert report["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert json.loads((out / RECIPE_FILE).read_text())["recipe"]["train"] == "both"
    assert not checkpoint_dir(out).exists()

    encoder = SentenceTransformerEncoder(str(out / QUERY_ENCODER_DIR))
    assert encoder.encode_queries(["Which island?"]).shape == (1, 384)
    base = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_generator))
    adapted = PeftModel.from_pretrained(base, str(out / GENERATOR_DIR))
    assert any("lora_" in name for name, _ in adapted.named_parameters())

    # What `ragline ask --query-encoder DIR --generator DIR` loads.
    from ragline.generate.hf_local import LocalGenerator
    from ragline.kb import KnowledgeBase

    local = LocalGenerator(str(out / GENERATOR_DIR))
    merged, _ = local._load()
    assert not any("lora_" in name for name, _ in merged.named_parameters())
    assert local.continuations_logprobs(
        [local.encode("Which island?")], [local.encode("Crete")]
    ).shape == (1, 1)
    with KnowledgeBase.open(minilm_kb, query_encoder=str(out / QUERY_ENCODER_DIR)) as kb:
        assert kb.query_encoder is not None and kb.search("Which island?", k=1, mode="dense")


def _grad_total(module) -> float:
    if module is None:
        return 0.0
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("train", "loss", "learns"),
    [
        ("both", "sequence", {"query", "generator"}),
        ("both", "token", {"query", "generator"}),
        ("query", "sequence", {"query"}),
        ("generator", "token", {"generator"}),
        ("passage", "sequence", {"passage"}),
        ("query,passage,generator", "token", {"query", "passage", "generator"}),
    ],
)
def test_gradients_reach_the_trained_parts(
    minilm_kb: Path, tiny_generator: Path, train, loss, learns
) -> None:
    from ragline.kb import KnowledgeBase

    recipe = _recipe(tiny_generator, train=train, loss=loss)
    with KnowledgeBase.open(minilm_kb) as kb:
        trainer = rag_trainer.RagTrainer(kb, PAIRS, recipe, total_steps=1)
        value = trainer.question_loss(0)
        value.backward()
    generator = [name for name, p in trainer.model.named_parameters() if p.grad is not None]
    assert torch.isfinite(value) and value.item() > 0
    models = {
        "query": trainer.query_model,
        "passage": trainer.passage_model,
        "generator": trainer.model,
    }
    assert {part for part, model in models.items() if _grad_total(model) > 0} == learns
    assert all("lora_" in name for name in generator)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("train", "parts"),
    [
        ("both", (QUERY_ENCODER_DIR, GENERATOR_DIR)),
        # The passage index is refreshed at steps 3 and 5, after the checkpoint at step 4
        # was saved with the index of step 3: the resumed run must retrieve the same.
        ("query,passage", (QUERY_ENCODER_DIR, PASSAGE_ENCODER_DIR)),
    ],
)
def test_interrupted_run_resumes_to_the_same_weights(
    tmp_path: Path, minilm_kb: Path, tiny_generator: Path, monkeypatch, train, parts
) -> None:
    recipe = _recipe(
        tiny_generator, train=train, epochs=2, batch_size=1, checkpoint_every=2, refresh_every=3
    )
    pairs = PAIRS[:3]
    straight = train_rag(minilm_kb, pairs, tmp_path / "a", recipe, dev_pairs=[], progress=False)

    save = rag.save_checkpoint
    saved: list[int] = []

    def save_then_crash(directory: Path, state: dict) -> None:
        save(directory, state)
        saved.append(state["step"])
        if len(saved) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(rag, "save_checkpoint", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train_rag(minilm_kb, pairs, tmp_path / "b", recipe, dev_pairs=[], progress=False)
    assert saved == [2, 4] and checkpoint_dir(tmp_path / "b").is_dir()
    monkeypatch.setattr(rag, "save_checkpoint", save)
    resumed = train_rag(minilm_kb, pairs, tmp_path / "b", recipe, dev_pairs=[], progress=False)

    assert resumed["resumed_from_step"] == 4 and resumed["steps"] == straight["steps"] == 6
    records = (tmp_path / "b" / LOG_FILE).read_text().splitlines()
    assert [json.loads(r)["step"] for r in records if '"loss"' in r] == [1, 2, 3, 4, 5, 6]
    weights = {GENERATOR_DIR: "adapter_model.safetensors"}
    assert resumed["trained"] == list(parts)
    for part in parts:
        file = f"{part}/{weights.get(part, 'model.safetensors')}"
        a, b = _safetensors(tmp_path / "a" / file), _safetensors(tmp_path / "b" / file)
        assert a.keys() == b.keys()
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)
    assert resumed["last_loss"] == pytest.approx(straight["last_loss"], abs=1e-6)


@pytest.mark.integration
def test_checkpoint_of_another_recipe_is_refused(tmp_path: Path, minilm_kb: Path) -> None:
    checkpoint = checkpoint_dir(tmp_path / "out")
    checkpoint.mkdir(parents=True)
    torch.save({"fingerprint": "another"}, checkpoint / rag_checkpoint.CHECKPOINT_FILE)
    with pytest.raises(RaglineError, match="checkpoint of another recipe"):
        train_rag(minilm_kb, PAIRS, tmp_path / "out", RagRecipe(), dev_pairs=[])


@pytest.mark.integration
def test_cli_trains_and_ask_loads_the_trained_parts(
    tmp_path: Path, minilm_kb: Path, tiny_generator: Path, run_cli
) -> None:
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in PAIRS[:4]))
    out = tmp_path / "rag-cli"
    trained = run_cli(
        "train", "rag", "--kb", minilm_kb, "--pairs", data, "--out", out, "--train", "both",
        "--generator", tiny_generator, "-k", "2", "--batch-size", "2", "--json", timeout=600,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["kind"] == "rag" and report["trained"] == [QUERY_ENCODER_DIR, GENERATOR_DIR]
    answered = run_cli(
        "ask", PAIRS[0][0], "--kb", minilm_kb, "--query-encoder", out / QUERY_ENCODER_DIR,
        "--generator", out / GENERATOR_DIR, "--mode", "sequence", "-k", "2",
        "--max-new-tokens", "4", "--json", timeout=600,
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    assert len(json.loads(answered.stdout)["passages"]) >= 1
    both = run_cli("train", "rag", "--kb", minilm_kb, "--out", tmp_path / "x")
    assert both.returncode == 1 and "give one of --squad or --pairs" in both.stderr


def test_eval_qa_held_out_side_is_the_training_split_test_side() -> None:
    from ragline.evaluate.qa import held_out_documents, load_squad

    path = SQUAD_DIR / "dev-v2.0.json"
    if not path.is_file():
        pytest.skip(f"SQuAD 2.0 dev is not at {path}")
    held = load_squad(path, answerable=10_000, unanswerable=0, held_out=0.2, split_seed=3)
    train, test = split_squad_by_paragraph(path, 0.2, 3)
    assert {q.text.strip() for q in held.questions} == {q for q, _ in test}
    assert len(held.documents) == 646  # retrieval still runs over every paragraph
    hidden = held_out_documents(path, 0.2, 3)
    assert len(hidden) == round(0.2 * 646)
    assert {doc for q in held.questions for doc in q.supporting} <= hidden


@pytest.mark.integration
def test_hidden_documents_are_never_retrieved_in_training(minilm_kb: Path, caplog) -> None:
    import numpy as np

    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(minilm_kb) as kb:
        question = kb.encoder.encode_queries([PAIRS[0][0]]).astype(np.float32)
        seen = FrozenPassages(kb)
        assert seen.hits(seen.top_k(question, 1)[0])[0].chunk.doc_id == "etna"
        passages = FrozenPassages(kb, {"etna", "tea"})
        assert (len(passages), passages.hidden_chunks) == (len(DOCUMENTS) - 2, 2)
        found = {hit.chunk.doc_id for hit in passages.hits(passages.top_k(question, 4)[0])}
        assert found == set(DOCUMENTS) - {"etna", "tea"}
        with pytest.raises(RaglineError, match="fewer than 5 hits"):
            passages.top_k(question, 5)
        with caplog.at_level(logging.WARNING):
            assert len(FrozenPassages(kb, {"not-there"})) == len(DOCUMENTS)
        assert "none of the 1 held-out documents" in caplog.text


@pytest.mark.integration
def test_refreshed_passage_index_starts_from_the_stored_vectors_and_swaps_whole(
    minilm_kb: Path,
) -> None:
    import numpy as np

    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(minilm_kb) as kb:
        model = rag_trainer.load_encoder(kb, "cpu")
        passages = RefreshedPassages(kb, lambda texts: rag_trainer.embed(model, texts, ""), {"tea"})
        questions = kb.encoder.encode_queries([q for q, _ in PAIRS]).astype(np.float32)
        frozen = FrozenPassages(kb, {"tea"})
        assert passages.top_k(questions, 3) == frozen.top_k(questions, 3)
        assert len(passages) == len(DOCUMENTS) - 1 == len(passages.snapshot.matrix)
        rowids = passages.top_k(questions[:1], 2)[0]
        fresh = passages.vectors(rowids)
        assert fresh.requires_grad
        torch.testing.assert_close(fresh.detach(), frozen.vectors(rowids), atol=1e-4, rtol=0)

        # Move the passage encoder: until the refresh, retrieval still uses the old index.
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        old = passages.snapshot
        assert passages.top_k(questions, 3) == frozen.top_k(questions, 3)
        record = passages.refresh(7, questions, 3)
        assert passages.snapshot is not old and passages.snapshot.version == 1
        assert record["step"] == 7 and record["stale_steps"] == 7 and record["index_version"] == 1
        assert record["passage_drift"] > 1e-4 and 0.0 <= record["stale_top_k"] <= 1.0
        np.testing.assert_allclose(passages.snapshot.matrix, passages.encode_all(), atol=1e-5)
        found = {
            hit.chunk.doc_id for row in passages.top_k(questions, 5) for hit in passages.hits(row)
        }
        assert "tea" not in found

        restored = RefreshedPassages(kb, lambda texts: rag_trainer.embed(model, texts, ""), {"tea"})
        restored.load_state_dict(passages.state_dict())
        assert restored.snapshot.version == 1
        assert restored.top_k(questions, 3) == passages.top_k(questions, 3)


@pytest.mark.integration
def test_passage_training_reports_staleness_and_writes_both_encoders(
    tmp_path: Path, minilm_kb: Path, tiny_generator: Path, monkeypatch, caplog
) -> None:
    from ragline.kb import KnowledgeBase

    recipe = _recipe(
        tiny_generator, train="passage", epochs=2, batch_size=1, refresh_every=2,
        query_learning_rate=1e-3,
    )  # fmt: skip
    monkeypatch.setattr(rag, "LOG_EVERY", 3)
    with caplog.at_level(logging.INFO, logger="ragline.train.rag"):
        report = train_rag(
            minilm_kb, PAIRS[:3], tmp_path / "out", recipe, dev_pairs=[], progress=False
        )
    # Without a progress bar, progress is logged.
    assert [r.getMessage().split(":")[0] for r in caplog.records if "step" in r.getMessage()] == [
        "step 3 of 6",
        "step 6 of 6",
    ]
    index = report["passage_index"]
    assert report["trained"] == [QUERY_ENCODER_DIR, PASSAGE_ENCODER_DIR]
    assert [r["step"] for r in index["refreshes"]] == [2, 4]
    assert [r["index_version"] for r in index["refreshes"]] == [1, 2]
    assert index["max_index_age"] == 1 and all(r["stale_steps"] == 2 for r in index["refreshes"])
    assert all(r["passage_drift"] > 0 for r in index["refreshes"])
    records = [json.loads(x) for x in (tmp_path / "out" / LOG_FILE).read_text().splitlines()]
    assert [r["index_age"] for r in records if "loss" in r] == [0, 1, 0, 1, 0, 1]

    # What `ragline reindex --embedder OUT/passage-encoder` and then
    # `ragline ask --query-encoder OUT/query-encoder` do.
    import numpy as np

    from ragline.config import EmbedConfig

    copy = tmp_path / "kb"
    shutil.copytree(minilm_kb, copy)
    with KnowledgeBase.open(copy) as kb:
        stored = kb.catalog.vectors([1])[1]
        kb.reembed(EmbedConfig(model=str(tmp_path / "out" / PASSAGE_ENCODER_DIR)))
        assert not np.allclose(kb.catalog.vectors([1])[1], stored, atol=1e-6)
    with KnowledgeBase.open(copy, query_encoder=str(tmp_path / "out" / QUERY_ENCODER_DIR)) as kb:
        assert kb.search(PAIRS[0][0], k=1, mode="dense")


@pytest.mark.integration
def test_seq2seq_generator_trains_end_to_end(tmp_path: Path, minilm_kb: Path) -> None:
    from ragline.generate.hf_local import LocalGenerator
    from tiny_models import write_tiny_t5

    words = sorted({w.strip("?.,") for q, a in PAIRS for w in f"{q} {a}".split()})
    t5 = write_tiny_t5(tmp_path / "t5", words, seed=3)
    out = tmp_path / "out"
    recipe = _recipe(t5, train="generator", epochs=5, batch_size=4, generator_learning_rate=3e-2)
    report = train_rag(minilm_kb, PAIRS[:4], out, recipe, dev_pairs=[], progress=False)
    losses = [json.loads(x)["loss"] for x in (out / LOG_FILE).read_text().splitlines()
              if '"loss"' in x]  # fmt: skip
    assert report["trained"] == [GENERATOR_DIR] and len(losses) == 5
    assert losses[-1] < losses[0] - 0.5
    adapter = json.loads((out / GENERATOR_DIR / "adapter_config.json").read_text())
    assert adapter["task_type"] == "SEQ_2_SEQ_LM"
    local = LocalGenerator(str(out / GENERATOR_DIR))
    assert isinstance(local.generate([{"role": "user", "content": PAIRS[0][0]}]), str)
    assert local._seq2seq
