"""``ragline serve``: knowledge bases over HTTP (one with ``--kb``, many with ``--data``)."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ragline.cli.common import QuietOption, VerboseOption, output
from ragline.errors import RaglineError

if TYPE_CHECKING:
    from ragline.serve.service import Limits

HostOption = Annotated[
    str,
    typer.Option(metavar="ADDRESS", help="Address to listen on (127.0.0.1: this machine only)."),
]
ServeGeneratorOption = Annotated[
    str | None,
    typer.Option(
        help="Generator for /ask and /v1/chat/completions (default: the knowledge base's)."
    ),
]
ApiKeyEnvOption = Annotated[
    str | None,
    typer.Option(
        help="With --kb: environment variable holding the API key every route but /health "
        "needs as 'Authorization: Bearer <key>'."
    ),
]
ServeKbOption = Annotated[Path | None, typer.Option("--kb", help="Serve this one knowledge base.")]
DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Serve every knowledge base in this directory as a collection; "
        "keys come from 'ragline keys'.",
    ),
]
NoAuthOption = Annotated[
    bool,
    typer.Option(
        "--no-auth", help="Serve without keys (only on a loopback address such as 127.0.0.1)."
    ),
]
MaxRequestOption = Annotated[
    float,
    typer.Option(
        min=0.001, metavar="MB", help="Largest request body in megabytes (a larger one is a 413)."
    ),
]
MaxFileOption = Annotated[
    float,
    typer.Option(min=0.001, metavar="MB", help="Largest uploaded file in megabytes."),
]
MaxFilesOption = Annotated[
    int, typer.Option(min=1, max=100_000, metavar="N", help="Most files in one upload.")
]
ReadOnlyOption = Annotated[
    bool,
    typer.Option(
        "--read-only",
        help="With --kb on Milvus: a stateless search node, serving search and ask from the "
        "Milvus collections; the directory needs only ragline.toml.",
    ),
]
CorsOption = Annotated[
    list[str] | None,
    typer.Option("--cors-origin", help="An origin browsers may call from (repeatable)."),
]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _api_key(kb: Path | None, api_key_env: str | None, no_auth: bool, host: str) -> str | None:
    """The shared key of a ``--kb`` server; refuses to serve without keys unless asked to,
    and then only on loopback."""
    import os

    if no_auth:
        if not _is_loopback(host):
            raise RaglineError(f"--no-auth serves only a loopback address, not {host!r}")
        return None
    if kb is None:
        return None
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if not api_key:
        where = f"${api_key_env} is not set" if api_key_env else "no --api-key-env"
        raise RaglineError(f"{where}: give a key, or --no-auth to serve without one")
    return api_key


def _limits(max_request_mb: float, max_file_mb: float, max_files: int) -> Limits:
    """The service's size limits from the command line's megabytes."""
    from ragline.serve.service import Limits

    megabyte = 1024 * 1024
    return Limits(round(max_request_mb * megabyte), round(max_file_mb * megabyte), max_files)


def serve(
    kb: ServeKbOption = None,
    data: DataOption = None,
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    generator: ServeGeneratorOption = None,
    api_key_env: ApiKeyEnvOption = None,
    no_auth: NoAuthOption = False,
    cors_origin: CorsOption = None,
    max_request_mb: MaxRequestOption = 64.0,
    max_file_mb: MaxFileOption = 32.0,
    max_files: MaxFilesOption = 200,
    read_only: ReadOnlyOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Serve knowledge bases over HTTP: collections, search, cited answers, an
    OpenAI-compatible /v1 API. Every route but /health needs a key unless --no-auth."""
    from ragline._optional import require

    uvicorn = require("uvicorn", "serve")
    from ragline.serve.app import create_app
    from ragline.serve.collections import check_sources

    out = output(quiet=quiet, verbose=verbose)
    if not out.quiet:
        logging.getLogger("ragline.serve.access").setLevel(logging.INFO)  # a line per request
    check_sources(kb, data)
    application = create_app(
        kb,
        data=data,
        generator=generator,
        api_key=_api_key(kb, api_key_env, no_auth, host),
        no_auth=no_auth,
        cors_origins=cors_origin or (),
        limits=_limits(max_request_mb, max_file_mb, max_files),
        read_only=read_only,
    )
    state = application.state.ragline
    if state is not None:
        state.open()  # here, so that a knowledge base that cannot open is a one-line error
    shown = f"[{host}]" if ":" in host else host
    what = f"{kb}" if state else f"collections in {data}"
    facts = ("no API key",) if no_auth else ("API key required",)
    if state:
        facts = (f"generator {state.generator_name}", *facts)
    try:
        out.note(f"serving {what} at http://{shown}:{port} ({', '.join(facts)}); Ctrl-C stops")
        level = "info" if out.verbose else "error" if out.quiet else "warning"
        uvicorn.run(application, host=host, port=port, log_level=level)
    finally:
        application.state.service.collections.close()
