"""Upload jobs over HTTP: per collection (``/collections/{name}/jobs``) and across the
collections a key may see (``/jobs``).

Both follow the collection's access rules (:mod:`ragline.serve.access`): a job of a
collection the key cannot see is a 404, as one that does not exist; reading a job needs
the read role, cancelling it the write role (a 403 otherwise).
"""

from __future__ import annotations

from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter  # noqa: E402

from ragline.keystore import KeyRecord  # noqa: E402
from ragline.serve.access import Principal, Readable, Svc, Writable, allowed  # noqa: E402
from ragline.serve.errors import ApiError  # noqa: E402
from ragline.serve.service import Service  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402

router = APIRouter(tags=["jobs"])


def _missing(job_id: str) -> ApiError:
    return ApiError(404, f"no job {job_id[:80]!r}")


def _found(job: dict[str, Any] | None, job_id: str) -> dict[str, Any]:
    if job is None:
        raise _missing(job_id)
    return job


@router.get("/collections/{name}/jobs")
def list_jobs(state: Readable, svc: Svc) -> dict[str, Any]:
    """The collection's upload jobs, newest first."""
    return {"jobs": svc.jobs.list(state)}


@router.get("/collections/{name}/jobs/{job_id}")
def get_job(job_id: str, state: Readable, svc: Svc) -> dict[str, Any]:
    """A job's progress: files done of total, chunks, errors per file."""
    return _found(svc.jobs.get(state, job_id), job_id)


@router.delete("/collections/{name}/jobs/{job_id}")
def cancel_job(job_id: str, state: Writable, svc: Svc) -> dict[str, Any]:
    """Stop a job before its next file; what it added stays."""
    return _found(svc.jobs.cancel(state, job_id), job_id)


def _visible(svc: Service, key: KeyRecord) -> list[tuple[str, ServerState]]:
    """The collections ``key`` may see, by name."""
    return [(n, svc.collections.get(n)) for n in svc.collections.names() if key.sees(n)]


def _job_collection(svc: Service, key: KeyRecord, job_id: str, role: str) -> ServerState:
    """The collection holding job ``job_id``, if ``key`` sees it (404) with ``role`` (403)."""
    for name, state in _visible(svc, key):
        if svc.jobs.holds(state, job_id):
            return allowed(svc, key, name, role)
    raise _missing(job_id)


@router.get("/jobs")
def list_all_jobs(key: Principal, svc: Svc) -> dict[str, Any]:
    """The upload jobs of every collection this key may see, newest first."""
    jobs = [job for _, state in _visible(svc, key) for job in svc.jobs.list(state)]
    return {"jobs": sorted(jobs, key=lambda job: job["created"], reverse=True)}


@router.get("/jobs/{job_id}")
def get_any_job(job_id: str, key: Principal, svc: Svc) -> dict[str, Any]:
    """A job's progress, whichever collection it belongs to."""
    state = _job_collection(svc, key, job_id, "read")
    return _found(svc.jobs.get(state, job_id), job_id)


@router.delete("/jobs/{job_id}")
def cancel_any_job(job_id: str, key: Principal, svc: Svc) -> dict[str, Any]:
    """Stop a job before its next file, whichever collection it belongs to."""
    state = _job_collection(svc, key, job_id, "write")
    return _found(svc.jobs.cancel(state, job_id), job_id)
