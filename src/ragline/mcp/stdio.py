"""``ragline mcp``: one knowledge base served to one MCP client over stdin and stdout."""

from __future__ import annotations

from ragline._optional import require
from ragline.kb import KnowledgeBase
from ragline.mcp.gate import LocalGate
from ragline.mcp.tools import Target


def serve_stdio(
    kb: KnowledgeBase, *, allow_write: bool = False, generator: str | None = None
) -> None:
    """Serve ``kb`` (as the collection named after its folder) over stdio until the client
    hangs up. Read-only unless ``allow_write``; answers use ``generator`` (default: the
    knowledge base's). stdout carries the protocol alone, so logs go to stderr."""
    anyio = require("anyio", "mcp")
    require("mcp", "mcp")
    from mcp.server.stdio import stdio_server

    from ragline.mcp.server import build_server

    name = kb.path.resolve().name
    gate = LocalGate(name, Target(kb, lambda: generator), allow_write=allow_write)
    server = build_server(lambda ctx: gate)

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)
