"""``ragline mcp``: a knowledge base as a Model Context Protocol server over stdio, for an
MCP client (an assistant, an IDE) that starts it as a subprocess."""

from __future__ import annotations

from typing import Annotated

import typer

from ragline.cli.common import KbOption, QuietOption, VerboseOption, output

AllowWriteOption = Annotated[
    bool,
    typer.Option("--allow-write", help="Offer the add_document and delete_document tools."),
]
McpGeneratorOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Generator of the ask tool (default: the knowledge base's)."),
]


def serve_mcp(
    kb: KbOption,
    allow_write: AllowWriteOption = False,
    generator: McpGeneratorOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Serve a knowledge base to an MCP client over stdio: tools search, ask, get_document
    and get_chunk, documents as resources; read-only unless --allow-write."""
    from ragline.kb import KnowledgeBase
    from ragline.mcp.stdio import serve_stdio

    out = output(quiet=quiet, verbose=verbose)
    access = "read-write" if allow_write else "read-only"
    with KnowledgeBase.open(kb) as knowledge_base:
        out.note(f"serving {kb} over MCP on stdio ({access}); the client's hang-up stops it")
        serve_stdio(knowledge_base, allow_write=allow_write, generator=generator)
