"""The MCP server: tools and document resources, each request answered through the
caller's :class:`~ragline.mcp.gate.Gate` (so one server serves callers with different
rights, as the HTTP service does).

Tools are :data:`~ragline.mcp.tools.TOOLS`, their input schemas the JSON schemas of their
argument models; a caller that may not write is not shown the write tools, and calling one
anyway is refused. Each document is a resource, ``ragline://{collection}/documents/{doc_id}``
(the id percent-encoded), listed a page at a time. A tool that fails answers an error
result with a one-line reason (the client's model can read it); knowledge-base work runs in
a worker thread, as the HTTP routes' does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from ragline._optional import require

require("mcp", "mcp")

import anyio  # noqa: E402
from mcp import types  # noqa: E402
from mcp.server.context import ServerRequestContext  # noqa: E402
from mcp.server.lowlevel import Server  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from ragline import __version__  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.mcp.gate import Gate  # noqa: E402
from ragline.mcp.tools import TOOLS, Tool  # noqa: E402

GateFor = Callable[[ServerRequestContext[Any, Any]], Gate]
"""The gate of the caller behind one request."""

SCHEME = "ragline"
PAGE = 200
"""Resources listed per page."""
RESOURCE_NOT_FOUND = -32002
"""The error code the MCP specification gives an unknown resource."""


def document_uri(collection: str, doc_id: str) -> str:
    """The resource URI of a document.

    >>> document_uri("handbook", "my-docs/notes.md")
    'ragline://handbook/documents/my-docs%2Fnotes.md'
    """
    return f"{SCHEME}://{collection}/documents/{quote(doc_id, safe='')}"


def parse_uri(uri: str) -> tuple[str, str]:
    """(collection, document id) of a document URI; MCPError if it is not one."""
    head, sep, encoded = uri.partition("/documents/")
    prefix = f"{SCHEME}://"
    if not (sep and head.startswith(prefix) and encoded):
        raise MCPError(RESOURCE_NOT_FOUND, f"not a ragline document URI: {uri[:200]!r}")
    return head[len(prefix) :], unquote(encoded)


def _schema(tool: Tool) -> dict[str, Any]:
    return tool.arguments.model_json_schema()


def _result(payload: dict[str, Any] | None, error: str | None = None) -> types.CallToolResult:
    if error is not None:
        return types.CallToolResult(content=[types.TextContent(text=error)], is_error=True)
    text = json.dumps(payload, ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=payload)


def _run(gate: Gate, tool: Tool, arguments: dict[str, Any]) -> types.CallToolResult:
    """Run ``tool`` for ``gate``'s caller; a bad argument or a refusal is an error result."""
    try:
        args = tool.arguments.model_validate(arguments)
        return _result(tool.run(gate.target(args.collection, tool.role), args))
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "arguments"
        return _result(None, f"{tool.name}: {where}: {first['msg']}")
    except RaglineError as e:
        return _result(None, f"{tool.name}: {' '.join(str(e).split())}")


def _documents(gate: Gate, offset: int) -> tuple[list[types.Resource], str | None]:
    """One page of the documents the caller may read (collections in order, documents in id
    order), from the ``offset``-th on, and the cursor of the next page (None: no more)."""
    resources: list[types.Resource] = []
    position = 0  # where the current collection's documents start in the whole listing
    for name in gate.collections():
        catalog = gate.target(name, "read").kb.catalog
        count = catalog.counts()[0]
        wanted = PAGE - len(resources)
        if wanted > 0 and position + count > offset:
            start = max(0, offset - position)
            for doc in catalog.documents(limit=wanted, offset=start):
                title = str(doc.metadata.get("title") or doc.id)
                uri = document_uri(name, doc.id)
                resources.append(types.Resource(uri=uri, name=title, mime_type="text/plain"))
        position += count
    return resources, str(offset + PAGE) if position > offset + PAGE else None


def _read(gate: Gate, uri: str) -> types.ReadResourceResult:
    collection, doc_id = parse_uri(uri)
    try:
        document = gate.target(collection, "read").kb.document(doc_id)
    except RaglineError as e:
        raise MCPError(RESOURCE_NOT_FOUND, str(e)) from e
    if document is None:
        raise MCPError(RESOURCE_NOT_FOUND, f"no document {doc_id[:200]!r} in {collection!r}")
    contents = types.TextResourceContents(uri=uri, text=document.text, mime_type="text/plain")
    return types.ReadResourceResult(contents=[contents])


def build_server(gate_for: GateFor) -> Server[Any]:
    """An MCP server whose every request is answered for the gate ``gate_for`` gives."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        writes = gate_for(ctx).may_write()
        shown = [t for t in TOOLS.values() if t.role == "read" or writes]
        return types.ListToolsResult(
            tools=[
                types.Tool(name=t.name, description=t.description, input_schema=_schema(t))
                for t in shown
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = TOOLS.get(params.name)
        if tool is None:
            return _result(None, f"no tool {params.name[:80]!r} (tools: {', '.join(TOOLS)})")
        gate = gate_for(ctx)
        return await anyio.to_thread.run_sync(_run, gate, tool, params.arguments or {})

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        cursor = params.cursor if params else None
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        page, following = await anyio.to_thread.run_sync(_documents, gate_for(ctx), offset)
        return types.ListResourcesResult(resources=page, next_cursor=following)

    async def list_templates(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        template = types.ResourceTemplate(
            uri_template=f"{SCHEME}://{{collection}}/documents/{{doc_id}}",
            name="document",
            description="A document's text (doc_id percent-encoded).",
            mime_type="text/plain",
        )
        return types.ListResourceTemplatesResult(resource_templates=[template])

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return await anyio.to_thread.run_sync(_read, gate_for(ctx), params.uri)

    return Server(
        "ragline",
        version=__version__,
        instructions="Search a ragline knowledge base and answer from it with checked "
        "citations; documents are resources.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )
