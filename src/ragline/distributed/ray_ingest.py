"""``ragline index --ray``: reading, chunking and embedding on a Ray cluster with Ray Data,
committing in this process, in input order, exactly once per document content.

Ray Data runs two stages: tasks read each input (a file, a BEIR folder) into document rows,
and a pool of actors, each holding one encoder loaded once, chunks and embeds them in
batches. The driver (this process) is the only writer: it takes the rows back in input
order and hands them to ``KnowledgeBase.add``, which commits them batch by batch under the
content-hash check, as in-process indexing does. See docs/ray.md.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ragline._optional import require
from ragline.distributed.rows import Item, from_row
from ragline.distributed.workers import ChunkEmbedder, input_row, read_input
from ragline.errors import RaglineError

if TYPE_CHECKING:
    from ragline.kb import KnowledgeBase
    from ragline.store.doc_ids import DocumentIds

log = logging.getLogger(__name__)

DOCUMENTS_PER_BATCH = 64
"""Documents an actor chunks and embeds per call."""
CONNECT_SECONDS = 5
"""How long to wait for a cluster's address to answer."""
BLOCK_BYTES = 256 * 1024
"""Ray Data block size: read documents travel to the actors in blocks about this big."""


@dataclass(frozen=True)
class RayReader:
    """Reads, chunks and embeds sources on Ray (a ``manage.Reader``).

    ``address`` is None to start a Ray on this machine with its cores (and stop it after),
    or what ``ray.init`` takes: ``"auto"`` for the cluster this machine is part of,
    ``"ray://host:10001"`` for a remote one. A Ray already started in this process is used
    as it is. ``actors`` encoders run (default: one per CPU of the cluster);
    ``embedder`` is the actor class (a :class:`ChunkEmbedder`).
    """

    address: str | None = None
    actors: int | None = None
    embedder: type[ChunkEmbedder] = ChunkEmbedder
    batch_size: int = DOCUMENTS_PER_BATCH

    def __post_init__(self) -> None:
        check_reachable(self.address)  # before anything is created

    def __call__(
        self,
        kb: KnowledgeBase,
        sources: Sequence[str | Path],
        *,
        include: Sequence[str],
        exclude: Sequence[str],
        metadata: dict[str, Any] | None,
        doc_ids: DocumentIds,
    ) -> Iterator[Item]:
        """The documents of ``sources`` for ``kb``, in input order, changed ones embedded."""
        from ragline.load.paths import input_paths

        found = input_paths(sources, include=include, exclude=exclude)
        rows = [input_row(item, doc_ids) for item in found]
        if not rows:
            return
        stored = {d.id: d.hash for d in kb.catalog.documents(limit=-1)}
        with connected(self.address) as ray:
            actors = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
            dataset = (
                ray.data.from_items(rows, override_num_blocks=min(len(rows), actors))
                .flat_map(
                    read_input,
                    fn_kwargs={"config": kb.config.load, "metadata": metadata},
                    num_cpus=0,
                )
                .map_batches(
                    self.embedder,
                    fn_constructor_kwargs={"config": kb.config, "stored": stored},
                    compute=ray.data.ActorPoolStrategy(size=actors),
                    batch_size=self.batch_size,
                    num_cpus=1,
                )
            )
            log.info(
                "reading, chunking and embedding %d inputs on %d Ray actors", len(rows), actors
            )
            for row in dataset.iter_rows():
                yield from_row(row)


@contextmanager
def connected(address: str | None) -> Iterator[ModuleType]:
    """Ray, set to keep order and stay quiet, joined at ``address`` or started here (and shut
    down at the end); a Ray this process already runs is used and left running."""
    ray = require("ray", "ray")
    require("ray.data", "ray")
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(
                address=address,
                num_cpus=os.cpu_count() if address is None else None,
                include_dashboard=False if address is None else None,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        except ConnectionError as e:
            raise RaglineError(f"--ray {address}: {e}") from e
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    # an input may hold thousands of documents (a BEIR corpus): small blocks spread them
    # over the actors (a repartition would need a CPU the actors hold)
    context.target_max_block_size = BLOCK_BYTES
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        # Ray prints its workers' failures ("A worker died ... will be retried") to stdout:
        # logs, which belong on stderr, with the results alone on stdout
        with redirect_stdout(sys.stderr):
            yield ray
    finally:
        if started:
            ray.shutdown()


def check_reachable(address: str | None) -> None:
    """Refuse, in one line, a ``host:port`` or ``ray://host:port`` address where nothing
    listens, instead of letting Ray retry for minutes."""
    if address is None or ":" not in address:
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not port.isdigit():
        raise RaglineError(f"--ray {address}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise RaglineError(f"--ray {address}: cannot reach the cluster ({reason.lower()})") from e
