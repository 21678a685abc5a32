"""Request and response bodies of the HTTP API, as pydantic models (the only ones in ragline).

Requests to ragline's own routes refuse unknown fields, so a misspelt option is a 400
rather than silently ignored; OpenAI-compatible requests accept and ignore the many
fields ragline has no use for (``top_p``, ``user``, ...), as such servers do.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from ragline.config import ChunkConfig, FollowUpName
from ragline.filters import OPERATORS

Scalar = str | int | float | bool
LIST_OPERATORS = ("in", "nin")


Operators = with_config(ConfigDict(extra="forbid"))(
    TypedDict(
        "Operators",
        {
            "eq": Scalar,
            "ne": Scalar,
            "gt": Scalar,
            "gte": Scalar,
            "lt": Scalar,
            "lte": Scalar,
            "in": list[Scalar],
            "nin": list[Scalar],
        },
        total=False,
    )
)
"""A condition by operators (:data:`ragline.filters.OPERATORS`): ``in`` and ``nin`` take a
list, the others one value."""


def _filter_problem(spec: Any) -> str:
    """What is wrong with filters that do not validate, in words."""
    conditions = spec.items() if isinstance(spec, dict) else ()
    for key, condition in conditions:
        for op, value in condition.items() if isinstance(condition, dict) else ():
            if op not in OPERATORS:
                return f"filter on {key!r}: unknown operator {op!r} (use {', '.join(OPERATORS)})"
            if isinstance(value, list) != (op in LIST_OPERATORS):
                wanted = "a list" if op in LIST_OPERATORS else "one value"
                return f"filter on {key!r}: {op!r} takes {wanted}"
    return (
        'use {"key": value}, {"key": [any, of]}, {"key": {"gte": value}} '
        'or ["key=value", "key>=value"]'
    )


def _readable_filters(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise ValueError(_filter_problem(value)) from None


FilterExpression = Annotated[
    str, Field(json_schema_extra={"pattern": r"^\s*[\w.\-]+\s*(>=|<=|!=|=|>|<)\s*\S"})
]
"""A filter as the command line writes it (:func:`ragline.filters.parse_filters`)."""

FilterSpec = Annotated[
    dict[str, Scalar | list[Scalar] | Operators] | list[FilterExpression],
    WrapValidator(_readable_filters),
]
"""Metadata filters: ``{"lang": "en", "year": {"gte": 2020}}`` or ``["lang=en", "year>=2020"]``;
a bare list is any of its values."""


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[
    str,
    Field(min_length=1, max_length=10_000, json_schema_extra={"pattern": r"\S"}),
    AfterValidator(_not_blank),
]
"""A question or query: some text that is not all blanks (said in the schema as a pattern,
checked by :func:`_not_blank` for its plainer message)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- ragline routes ---------------------------------------------------------------------
class SearchRequest(_Strict):
    """``POST /search``: the options of ``ragline search``."""

    query: Text
    k: int = Field(10, ge=1, le=1000)
    mode: Literal["hybrid", "dense", "bm25"] | None = None
    filters: FilterSpec | None = None
    fusion: Literal["rrf", "score"] | None = None


class SearchResponse(BaseModel):
    """The shape of ``ragline search --json``: the query and its hits, best first."""

    query: str
    hits: list[dict[str, Any]]


class AskRequest(_Strict):
    """``POST /ask``: the options of ``ragline ask``.

    ``generator`` may name only generators this server offers (its own, the knowledge
    base's configured one, or ``extractive``); ``k`` is the number of passages.
    """

    question: Text
    mode: Literal["plain", "sequence", "token"] | None = None
    k: int | None = Field(None, ge=1, le=100)
    hops: int | None = Field(None, ge=1, le=10)
    follow_up: FollowUpName | None = None
    answer_style: Literal["sentence", "short"] | None = None
    generator: str | None = None
    filters: FilterSpec | None = None
    search_mode: Literal["hybrid", "dense", "bm25"] | None = None
    max_new_tokens: int | None = Field(None, ge=1, le=32_768)


# ---- collections and documents -----------------------------------------------------------
class CreateCollection(_Strict):
    """``POST /collections``: a name and the build options of ``ragline index``."""

    name: str = Field(min_length=1, max_length=63)
    chunker: Literal["fixed", "recursive", "semantic"] | None = None
    chunk_size: int | None = Field(None, ge=16, le=8192)
    overlap: int | None = Field(None, ge=0, le=4096)
    embedder: str | None = Field(None, min_length=1, max_length=200)
    index: str | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _overlap_fits(self) -> CreateCollection:
        # The library checks this only when the first document is chunked; a collection
        # that can never take a document is refused here instead.
        size = self.chunk_size or ChunkConfig().size
        overlap = ChunkConfig().overlap if self.overlap is None else self.overlap
        if overlap >= size:
            raise ValueError(f"overlap ({overlap}) must be smaller than chunk_size ({size})")
        return self


class DocumentIn(_Strict):
    """One document given as JSON."""

    id: str = Field(min_length=1, max_length=512)
    text: Annotated[str, Field(min_length=1, max_length=20_000_000)]
    metadata: dict[str, Scalar | list[Scalar] | None] = Field(default_factory=dict)


class AddDocuments(_Strict):
    """``POST /collections/{name}/documents``: documents to add or update."""

    documents: list[DocumentIn] = Field(min_length=1, max_length=1000)


class DeleteDocuments(_Strict):
    """``POST /collections/{name}/documents/delete``: by ids, or by a metadata filter."""

    ids: list[Annotated[str, Field(min_length=1, max_length=512)]] | None = Field(
        None, min_length=1, max_length=10_000
    )
    filters: FilterSpec | None = None


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: int


class ErrorResponse(BaseModel):
    """Every error, OpenAI-style: ``{"error": {"message": ..., "type": ..., "code": ...}}``."""

    error: ErrorDetail


# ---- OpenAI-compatible routes -----------------------------------------------------------
FinishReason = Literal["stop", "length"]
"""Why a reply ended: complete, or cut at ``max_tokens`` (as in OpenAI's API)."""


class TextPart(BaseModel):
    """A text content part (``{"type": "text", "text": ...}``); other kinds are refused."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``; any ``model`` name is answered by the server's generator.

    Unset ``max_tokens`` and ``temperature`` take the knowledge base's generation settings.
    """

    model_config = ConfigDict(extra="ignore")

    model: str = "ragline"
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=32_768)
    max_completion_tokens: int | None = Field(None, ge=1, le=32_768)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, json_schema_extra={"enum": [1]})

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int) -> int:
        if value != 1:
            raise ValueError("only n=1 is supported")
        return value

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 16:
            raise ValueError("at most 16 stop strings")
        return value

    @property
    def stop_list(self) -> list[str]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return [s for s in stops if s]


class AssistantMessage(BaseModel):
    """The reply; a grounded one (``model: "ragline/<collection>"``) carries its citations."""

    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[dict[str, Any]] | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason = "stop"


class Usage(BaseModel):
    """Token counts (the generator's tokenizer where it has one, else an estimate)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[dict[str, Any]] | None = None


class EmbeddingRequest(BaseModel):
    """``POST /v1/embeddings``: ``model`` names a collection (``ragline/<name>``)."""

    model_config = ConfigDict(extra="ignore")

    model: str
    input: str | list[Annotated[str, Field(max_length=100_000)]] = Field(max_length=2048)
    encoding_format: Literal["float"] = "float"


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    citations: list[dict[str, Any]] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed reply."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[dict[str, Any]] | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "ragline"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
