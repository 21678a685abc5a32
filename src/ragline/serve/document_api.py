"""Documents and uploads over HTTP.

JSON documents are added at once (``KnowledgeBase.add``); uploaded files become a
background job (:mod:`ragline.serve.jobs`) whose progress ``/jobs/{id}`` reports
(:mod:`ragline.serve.job_api`). An
upload's file name becomes the document id only: the server never uses it as a path, and
refuses names that look like one (``../``, ``/abs``, ``C:\\``, NUL or control characters).
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath
from typing import Annotated, Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter, File, Query, UploadFile  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402

from ragline.documents import Document  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.load.registry import LOADERS  # noqa: E402
from ragline.serve.access import Readable, Svc, Writable  # noqa: E402
from ragline.serve.errors import ApiError  # noqa: E402
from ragline.serve.jobs import Upload  # noqa: E402
from ragline.serve.models import AddDocuments, DeleteDocuments  # noqa: E402
from ragline.serve.routes import request_filters  # noqa: E402

router = APIRouter(prefix="/collections/{name}", tags=["documents"])

MAX_OFFSET = 2**62
"""The largest paging offset (SQLite's integers are 64-bit; no catalog is this large)."""


@router.post("/documents")
def add_documents(body: AddDocuments, state: Writable) -> dict[str, Any]:
    """Add or update documents given as JSON; returns what the ingest did."""
    docs = [Document(d.id, d.text, dict(d.metadata)) for d in body.documents]
    try:
        report = state.kb.add(docs)
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    return report.to_dict()


@router.get("/documents")
def list_documents(
    state: Readable,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """One page of documents (id, hash, metadata, chunk count), by id."""
    total = state.kb.catalog.counts()[0]
    page = state.kb.catalog.documents(limit=limit, offset=offset)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "documents": [
            {"id": d.id, "hash": d.hash, "metadata": d.metadata, "chunks": d.chunks} for d in page
        ],
    }


@router.get("/documents/{doc_id:path}")
def get_document(doc_id: str, state: Readable) -> dict[str, Any]:
    """A document's text and metadata, where its pages start (paged formats such as PDF;
    empty otherwise), and its chunks with their character spans."""
    doc = state.kb.document(doc_id)
    if doc is None:
        raise ApiError(404, f"no document {doc_id[:200]!r}")
    rows = state.kb.catalog.rowids_where({"doc_id": doc_id})
    chunks = sorted(state.kb.catalog.chunks(rows.tolist()).values(), key=lambda c: c.start)
    return {
        "id": doc.id,
        "text": doc.text,
        "metadata": doc.metadata,
        "page_starts": list(doc.page_starts),
        "chunks": [
            {"chunk_id": c.id, "span": [c.start, c.end], "page": doc.page_at(c.start)}
            for c in chunks
        ],
    }


@router.delete("/documents/{doc_id:path}")
def delete_document(doc_id: str, state: Writable) -> dict[str, int]:
    """Delete one document; 404 when there is none with that id."""
    removed = state.kb.delete([doc_id])
    if not removed:
        raise ApiError(404, f"no document {doc_id[:200]!r}")
    return {"deleted": removed}


@router.post("/documents/delete")
def delete_documents(body: DeleteDocuments, state: Writable) -> dict[str, int]:
    """Delete by ``ids`` or by ``filters``; returns how many went, 404 when none matched."""
    if (body.ids is None) == (body.filters is None):
        raise ApiError(400, "give either 'ids' or 'filters'")
    if body.ids is not None:
        removed = state.kb.delete(body.ids)
    else:
        filters = request_filters(body.filters)
        if not filters:
            raise ApiError(400, "filters must not be empty (delete a collection to empty it)")
        removed = state.kb.delete_where(filters)
    if not removed:
        raise ApiError(404, "no document matched")
    return {"deleted": removed}


def upload_name(raw: str | None) -> tuple[str, str]:
    """The document id and suffix an uploaded file's name gives, or a 400."""
    name = raw or ""
    bad = not name.strip() or any(unicodedata.category(ch) == "Cc" for ch in name)
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if bad or len(parts) != 1 or name.startswith(".") or ":" in name or len(name) > 255:
        raise ApiError(400, f"refused file name {name[:80]!r}: a plain file name is needed")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in LOADERS.names():
        raise ApiError(
            400, f"{name}: unsupported file type (use {', '.join(sorted(LOADERS.names()))})"
        )
    return name, suffix


@router.post("/uploads", status_code=202)
async def upload(
    name: str, state: Writable, svc: Svc, files: Annotated[list[UploadFile], File()]
) -> dict[str, Any]:
    """Files to ingest in the background; returns the job (poll ``/jobs/{id}``)."""
    limits = svc.limits
    if len(files) > limits.max_files:
        raise ApiError(413, f"at most {limits.max_files} files per upload")
    uploads, seen = [], set()
    for file in files:
        doc_id, suffix = upload_name(file.filename)
        if doc_id in seen:
            raise ApiError(400, f"{doc_id}: given twice in one upload")
        seen.add(doc_id)
        data = await file.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            raise ApiError(413, f"{doc_id}: file over {limits.max_file_bytes} bytes")
        uploads.append(Upload(doc_id, suffix, data))
    # Writing the files is blocking work: off the event loop, so other requests go on.
    return await run_in_threadpool(svc.jobs.start, name, state, uploads)
