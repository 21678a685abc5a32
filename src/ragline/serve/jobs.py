"""Upload jobs: files ingested in the background, with progress kept in the collection.

An upload's files are saved under ``<collection>/jobs/<job id>/`` with names the server
makes (``0.pdf``, ``1.md``, ...), never the client's, then read by the core loaders and
added one file at a time. The job's state is a JSON file beside them, rewritten after
each file, so a restart loses no finished upload; a job file still marked running that
this process did not start is from before a restart, and is reported ``interrupted``.
Cancelling stops before the next file; what was added stays.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ragline.errors import LoadError
from ragline.load.registry import LOADERS
from ragline.serve.state import ServerState

log = logging.getLogger(__name__)

JOBS_DIR = "jobs"
FINAL = ("done", "cancelled", "failed", "interrupted")
JOB_ID = re.compile(r"[0-9a-f]{32}")
"""A job id as :meth:`Jobs.start` makes them (anything else names no job, and no file)."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the document id it becomes, its suffix, its bytes."""

    doc_id: str
    suffix: str
    data: bytes


class Jobs:
    """Starts, tracks, cancels and recovers the upload jobs of every collection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}
        self._threads: dict[str, tuple[Path, threading.Thread]] = {}

    def start(self, name: str, state: ServerState, uploads: list[Upload]) -> dict[str, Any]:
        """Save ``uploads`` and ingest them on a worker thread; returns the job's state."""
        job_id = uuid.uuid4().hex
        folder = state.kb_path / JOBS_DIR / job_id
        folder.mkdir(parents=True)
        files = []
        for n, upload in enumerate(uploads):
            (folder / f"{n}{upload.suffix}").write_bytes(upload.data)
            files.append({"name": upload.doc_id, "status": "queued", "chunks": 0, "error": None})
        job = {
            "id": job_id,
            "collection": name,
            "status": "running",
            "files": files,
            "files_total": len(files),
            "files_done": 0,
            "chunks": 0,
            "errors": [],
            "created": time.time(),
            "finished": None,
        }
        self._save(state, job)
        cancel = threading.Event()
        worker = threading.Thread(
            target=self._run, args=(state, job, uploads, cancel), name=f"ragline-job-{job_id[:8]}"
        )
        worker.daemon = True
        with self._lock:
            self._running[job_id] = cancel
            self._threads[job_id] = (state.kb_path, worker)
        worker.start()
        return job

    def get(self, state: ServerState, job_id: str) -> dict[str, Any] | None:
        """A job's state, or None; a running job no thread runs becomes ``interrupted``."""
        if not self.holds(state, job_id):
            return None
        path = _job_file(state, job_id)
        try:
            job: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        with self._lock:
            alive = job_id in self._running
        if job["status"] == "running" and not alive:
            job.update(status="interrupted", finished=time.time())
            job["errors"].append({"file": None, "reason": "the server stopped during this job"})
            self._save(state, job)
        return job

    @staticmethod
    def holds(state: ServerState, job_id: str) -> bool:
        """Whether the collection ``state`` has (or had) a job ``job_id``."""
        return JOB_ID.fullmatch(job_id) is not None and _job_file(state, job_id).is_file()

    def list(self, state: ServerState) -> list[dict[str, Any]]:
        """Every job of a collection, newest first."""
        folder = state.kb_path / JOBS_DIR
        ids = [p.stem for p in folder.glob("*.json")] if folder.is_dir() else []
        jobs = [job for job in (self.get(state, i) for i in ids) if job is not None]
        return sorted(jobs, key=lambda job: job["created"], reverse=True)

    def cancel(self, state: ServerState, job_id: str) -> dict[str, Any] | None:
        """Ask a running job to stop before its next file; returns its state."""
        with self._lock:
            event = self._running.get(job_id)
        if event is not None:
            event.set()
        return self.get(state, job_id)

    def stop(self, state: ServerState, timeout: float = 60.0) -> None:
        """Cancel the collection's running jobs and wait for them (before it is deleted)."""
        with self._lock:
            mine = [(i, t) for i, (p, t) in self._threads.items() if p == state.kb_path]
            for job_id, _ in mine:
                self._running[job_id].set()
        for _, thread in mine:
            thread.join(timeout)

    def counts(self) -> int:
        """How many jobs this process is running."""
        with self._lock:
            return len(self._running)

    def _run(
        self,
        state: ServerState,
        job: dict[str, Any],
        uploads: list[Upload],
        cancel: threading.Event,
    ) -> None:
        folder = state.kb_path / JOBS_DIR / job["id"]
        try:
            for n, upload in enumerate(uploads):
                if cancel.is_set():
                    job["status"] = "cancelled"
                    break
                self._ingest(state, job, n, upload, folder / f"{n}{upload.suffix}")
                job["files_done"] = n + 1
                self._save(state, job)
            else:
                job["status"] = "done"
        except Exception as e:  # noqa: BLE001 - recorded in the job, which is what callers read
            log.warning("job %s failed: %s: %s", job["id"], type(e).__name__, e)
            job["status"] = "failed"
            job["errors"].append({"file": None, "reason": f"{type(e).__name__}: {e}"})
        finally:
            job["finished"] = time.time()
            self._save(state, job)
            shutil.rmtree(folder, ignore_errors=True)
            with self._lock:
                self._running.pop(job["id"], None)
                self._threads.pop(job["id"], None)

    @staticmethod
    def _ingest(
        state: ServerState, job: dict[str, Any], n: int, upload: Upload, path: Path
    ) -> None:
        entry = job["files"][n]
        kb = state.kb
        loader = LOADERS.load(upload.suffix)(kb.config.load, None)
        docs, errors = [], []
        for item in loader.load(str(path), doc_id=upload.doc_id):
            if isinstance(item, LoadError):
                errors.append(item.reason)
            else:
                # The saved copy's path and time mean nothing to the client: name the upload.
                meta = {k: v for k, v in item.metadata.items() if k not in ("path", "mtime")}
                if meta.get("title") == path.stem:
                    meta["title"] = PurePosixPath(upload.doc_id).stem
                docs.append(replace(item, metadata={**meta, "source": upload.doc_id}))
        report = kb.add(docs) if docs else None
        chunks = report.chunks if report else 0
        errors += [e.reason for e in (report.errors if report else [])]
        entry.update(chunks=chunks, status="error" if errors and not docs else "done")
        if errors:
            entry["error"] = "; ".join(errors)
            job["errors"].append({"file": upload.doc_id, "reason": entry["error"]})
        job["chunks"] += chunks

    @staticmethod
    def _save(state: ServerState, job: dict[str, Any]) -> None:
        path = _job_file(state, job["id"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job), encoding="utf-8")
        os.replace(tmp, path)


def _job_file(state: ServerState, job_id: str) -> Path:
    return state.kb_path / JOBS_DIR / f"{job_id}.json"
