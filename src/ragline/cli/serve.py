"""``ragline serve``: one knowledge base over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from ragline.cli.common import KbOption, QuietOption, VerboseOption, output

HostOption = Annotated[
    str,
    typer.Option(metavar="ADDRESS", help="Address to listen on (127.0.0.1: this machine only)."),
]
ServeGeneratorOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Generator for /ask and /v1/chat/completions (default: the knowledge base's).",
    ),
]
ApiKeyEnvOption = Annotated[
    str | None,
    typer.Option(
        metavar="VARIABLE",
        help="Environment variable holding an API key; when set, every route but "
        "/health needs 'Authorization: Bearer <key>'.",
    ),
]


def serve(
    kb: KbOption,
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    generator: ServeGeneratorOption = None,
    api_key_env: ApiKeyEnvOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Serve a knowledge base over HTTP: /search, /ask and an OpenAI-compatible /v1 API."""
    import os

    from ragline._optional import require

    uvicorn = require("uvicorn", "serve")
    from ragline.serve.app import create_app

    out = output(quiet=quiet, verbose=verbose)
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        out.warn(f"warning: ${api_key_env} is not set: serving without an API key")
    application = create_app(kb, generator=generator, api_key=api_key or None)
    state = application.state.ragline
    state.open()  # here, so that a knowledge base that cannot open is a one-line error
    shown = f"[{host}]" if ":" in host else host
    try:
        out.note(
            f"serving {kb} at http://{shown}:{port} (generator {state.generator_name}, "
            f"{'API key required' if api_key else 'no API key'}); Ctrl-C stops"
        )
        level = "info" if out.verbose else "error" if out.quiet else "warning"
        uvicorn.run(application, host=host, port=port, log_level=level)
    finally:
        state.close()
