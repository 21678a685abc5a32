"""Typed configuration: one frozen dataclass per concern, saved with the knowledge base.

Build-time choices (chunker, embedder, index structure) are fixed when a knowledge base is
created and re-read from its ``ragline.toml``; query-time knobs (``k``, ``nprobe``,
``ef_search``, fusion) are defaults that every search call may override.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from ragline.errors import RaglineError
from ragline.files import atomic_write

ChunkMethod = Literal["fixed", "recursive", "semantic"]
SearchMode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["rrf", "score"]
RerankFusion = Literal["none", "rrf", "doc-rrf"]
RERANK_FUSIONS: tuple[str, ...] = get_args(RerankFusion)
FollowUpName = Literal["auto", "passage", "entities", "decompose", "links", "missing", "answer"]
"""The follow-ups of multi-hop search (see ``ragline.generate.follow_up``)."""


@dataclass(frozen=True)
class LoadConfig:
    """How files become documents."""

    max_file_bytes: int = 50_000_000
    jsonl_id_field: str = "id"
    jsonl_text_field: str = "text"
    jsonl_title_field: str = "title"


@dataclass(frozen=True)
class ChunkConfig:
    """How documents are cut into passages; sizes count the embedder's tokens.

    With ``title_header`` each chunk that does not begin with its document's title is
    indexed (embedded and BM25-scored) with the title as a header line, so a passage from
    the middle of a document still matches queries about its subject. With ``keep_whole``
    set to ``"window"``, a document the embedder reads whole (title header included) stays
    one chunk whatever ``size`` says.
    """

    method: ChunkMethod = "recursive"
    size: int = 200
    overlap: int = 32
    semantic_percentile: float = 90.0
    title_header: bool = True
    keep_whole: Literal["never", "window"] = "never"


@dataclass(frozen=True)
class EmbedConfig:
    """Which bi-encoder embeds chunks and queries.

    ``model`` is ``"minilm"`` (the packaged all-MiniLM-L6-v2) or a path to a
    sentence-transformers model directory; ``backend`` names the encoder class that runs it
    (see ``ragline.embed.registry``).
    """

    model: str = "minilm"
    backend: str = "sentence-transformers"
    query_prefix: str = ""
    document_prefix: str = ""
    batch_size: int = 64
    vector_dtype: Literal["float32", "float16"] = "float32"


@dataclass(frozen=True)
class IndexConfig:
    """Structure of the derived indexes.

    ``backend`` names the dense index (see ``ragline.index.registry``), ``sparse_backend``
    the sparse one. For FAISS, ``factory`` is an index-factory string (``"Flat"``,
    ``"HNSW32"``, ``"IVF1024,Flat"``, ``"SQfp16"``) or ``"auto"``: exact search over
    float16-stored vectors (``SQfp16``) for small corpora, HNSW beyond. The ``bm25_*`` keys
    set BM25's parameters and tokenizer. For Milvus (``backend``
    or ``sparse_backend`` ``"milvus"``), ``uri`` is a Milvus Lite data path ending ``.db`` or a
    server URL (``http://host:19530``) and ``collection`` the name its collections start with.
    """

    backend: str = "faiss"
    sparse_backend: str = "bm25"
    factory: str = "auto"
    uri: str = ""
    collection: str = "ragline"
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    bm25_stemmer: str = "english"
    bm25_stopwords: str = "en"


@dataclass(frozen=True)
class SearchConfig:
    """Query-time defaults; every search call may override them.

    In hybrid mode each side contributes its top ``depth`` candidates (``dense_depth`` /
    ``bm25_depth`` override it per side when non-zero), fused by ``fusion``: reciprocal rank
    (``rrf_k``, side weights) or min-max normalised scores (``alpha`` on dense).
    ``rerank`` names a re-ranker (see ``ragline.rerank.registry``) that re-scores the first
    stage's top ``rerank_depth``; empty for none; ``rerank_backend`` runs it on ``torch`` or
    ``openvino`` (its scores checked against torch's before first use).
    ``rerank_fusion = "rrf"`` (default) orders
    them by reciprocal rank fusion of first-stage and re-rank ranks, ``"doc-rrf"`` by that
    fusion of their documents' ranks (a document's chunks kept together), ``"none"`` by the
    re-rank score alone (measured: fusion was better on SciFact and, unlike the re-rank score
    alone, no worse than the first stage on HotpotQA).
    """

    k: int = 10
    mode: SearchMode = "hybrid"
    fusion: Fusion = "rrf"
    rrf_k: int = 60
    alpha: float = 0.5
    depth: int = 100
    dense_depth: int = 0
    bm25_depth: int = 0
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    nprobe: int = 16
    ef_search: int = 64
    rerank: str = ""
    rerank_depth: int = 100
    rerank_backend: str = "torch"
    rerank_fusion: RerankFusion = "rrf"


@dataclass(frozen=True)
class GenerateConfig:
    """How answers are generated; every ``ask`` call may override these.

    ``generator`` is ``"span-rules"`` (the default: the passage sentence that answers the
    question, its pronoun resolved, with the short answer inside it chosen by the span
    reader that ships inside ragline; or an abstention), ``"extractive"`` (the same
    sentences, the short answer chosen by rules alone), ``"smollm2"`` (the packaged
    SmolLM2-135M-Instruct), a span-reader directory (``ragline train reader``: the answer
    is a span of a passage) or ``span-rules:DIR`` (that reader in place of the packaged
    one), a local model directory or GGUF file, or an ``http(s)://`` base URL of an
    OpenAI-compatible API (``model`` names the remote model; the key is read from the
    environment variable named by ``api_key_env``). ``span-rules`` is the default because
    it gives the most checked-correct answers here: on the fictional-facts suites 0.96
    right and cited with no wrong answer shown as supported, where SmolLM2 gives 0.39 and
    7, and on SQuAD 2.0's held-out side short-answer F1 0.460, where the rules alone give
    0.272 (README, "Checked answers").

    ``passages`` is how many retrieved passages the prompt may hold (packed by rank into
    ``context_tokens``); ``prior_temperature`` turns passage scores (dense cosines where
    known) into p(z|q) for the sequence and token modes; ``min_score`` is the best dense
    cosine below which ragline answers that the knowledge base does not say; ``hops`` > 1
    retrieves iteratively for questions that need several facts, searching between hops
    for (``follow_up``, see ``ragline.generate.follow_up``): ``auto`` (the default), the
    general follow-ups that measured best together; ``passage``, the question with a
    passage found, embedded together; ``entities``, the names and dates the passages found
    add to the question, each searched for; ``decompose``, sub-questions the generator
    writes, answered in turn (``entities`` when it cannot write them); ``links``, the
    question within the documents the passages found name by title; ``missing``, a query
    the generator writes for the fact still missing; ``answer``, its answer so far with
    the question (the extractive generator does this for ``missing`` too). Decoding
    ends at ``stop`` ("" for none); the answer kept is the first paragraph with content,
    without lead-ins such as "The answer is:" (small models ramble on after answering).
    ``answer_style`` asks for ``sentence`` answers (one or two sentences) or ``short`` ones
    (the shortest phrase: what span-style benchmarks such as SQuAD and HotpotQA score).
    Only answer sentences that pass the support check are shown; when none does,
    ``unsupported`` says what happens: ``abstain``, ``fallback`` (the best-matching passage
    sentence that passes the check, marked as a fallback) or ``regenerate`` (ask once more).
    ``weights`` is how a local model's weights are held: ``fp32`` (as loaded), ``int8``
    (CPU only: decoding about 1.6× as fast, but SQuAD F1 falls from 0.18 to 0.10 with the
    packaged model), or for a GGUF model on llama.cpp (the ``llama`` extra) ``gguf`` (the
    file's own 4-bit weights) or ``gguf-f16`` (a float16 copy: the float32 model's greedy
    answers 198 times in 200, decoding 4× as fast, the prompt read slower; README
    "Generation speed").
    """

    generator: str = "span-rules"
    model: str = ""
    weights: Literal["fp32", "int8", "gguf", "gguf-f16"] = "fp32"
    api_key_env: str = "OPENAI_API_KEY"
    mode: Literal["plain", "sequence", "token"] = "plain"
    passages: int = 5
    context_tokens: int = 1536
    max_new_tokens: int = 64
    stop: str = ""
    temperature: float = 0.0
    prior_temperature: float = 0.1
    min_score: float = 0.2
    hops: int = 1
    follow_up: FollowUpName = "auto"
    answer_style: Literal["sentence", "short"] = "sentence"
    unsupported: Literal["abstain", "fallback", "regenerate"] = "abstain"
    seed: int = 0


@dataclass(frozen=True)
class Config:
    """Everything a knowledge base is built and queried with."""

    load: LoadConfig = field(default_factory=LoadConfig)
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build a config from nested dicts, refusing unknown sections and keys."""
        parts: dict[str, Any] = {}
        for f in fields(cls):
            section = data.get(f.name, {})
            kind = type(getattr(cls(), f.name))
            known = {k.name for k in fields(kind)}
            unknown = set(section) - known
            if unknown:
                raise RaglineError(f"config [{f.name}]: unknown keys {sorted(unknown)}")
            parts[f.name] = kind(**section)
        unknown_sections = set(data) - {f.name for f in fields(cls)}
        if unknown_sections:
            raise RaglineError(f"config: unknown sections {sorted(unknown_sections)}")
        return cls(**parts)

    def with_overrides(self, section: str, **values: Any) -> Config:
        """A copy with some keys of one section replaced (None values are ignored)."""
        values = {k: v for k, v in values.items() if v is not None}
        return replace(self, **{section: replace(getattr(self, section), **values)})

    def write(self, path: Path) -> None:
        lines: list[str] = []
        for section, values in self.to_dict().items():
            lines.append(f"[{section}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
            lines.append("")
        text = "\n".join(lines)
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    @classmethod
    def read(cls, path: Path) -> Config:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise RaglineError(f"{path}: cannot read config: {e}") from e
        return cls.from_dict(data)


def _toml_value(value: Any) -> str:
    # Config values are TOML basic types only, so a few lines replace a TOML writer dependency.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    raise TypeError(f"config value {value!r} is not a TOML basic type")
