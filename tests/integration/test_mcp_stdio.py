"""The MCP SDK's own client against a real ``ragline mcp`` subprocess over stdio: tools
list, search with spans and scores, a cited answer, documents and chunks, resources, bad
arguments as one-line error results, and writes only with ``--allow-write``."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

mcp = pytest.importorskip("mcp")

from ragline import KnowledgeBase  # noqa: E402
from serve_data import CONFIG, DOCS, QUESTION  # noqa: E402

pytestmark = pytest.mark.integration

READ_TOOLS = ["search", "ask", "get_document", "get_chunk"]


@pytest.fixture(scope="module")
def kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "handbook"
    with KnowledgeBase.create(path, CONFIG) as kb:
        kb.add(DOCS)
    return path


def session(kb_path: Path, *flags: str, check: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``check(client)`` against ``ragline mcp --kb kb_path *flags`` over stdio."""
    command = ["-m", "ragline.cli", "mcp", "--kb", str(kb_path), "--generator", "extractive"]
    params = mcp.StdioServerParameters(
        command=sys.executable, args=[*command, *flags], env=dict(os.environ)
    )

    async def run() -> None:
        async with mcp.Client(params, read_timeout_seconds=120) as client:
            await check(client)

    asyncio.run(run())


def test_read_only_server_searches_answers_shows_and_refuses(kb_path: Path) -> None:
    async def check(client: Any) -> None:
        tools = (await client.list_tools()).tools
        assert [t.name for t in tools] == READ_TOOLS
        search = next(t for t in tools if t.name == "search")
        assert search.input_schema["properties"]["mode"]["anyOf"][0]["enum"] == [
            "hybrid",
            "dense",
            "bm25",
        ]

        found = await client.call_tool("search", {"query": "gravity of the Moon", "k": 2})
        assert not found.is_error
        top = found.structured_content["hits"][0]
        assert (top["doc_id"], top["chunk_id"]) == ("tides", "tides#0")
        assert top["span"] == [0, len(DOCS[0].text)] and top["score"] > 0

        bm25 = await client.call_tool(
            "search", {"query": "pasta", "mode": "bm25", "filters": {"topic": "science"}}
        )
        assert [h["doc_id"] for h in bm25.structured_content["hits"]] == []

        answer = (await client.call_tool("ask", {"question": QUESTION})).structured_content
        assert "gravity of the Moon" in answer["answer"] and not answer["abstained"]
        (citation,) = answer["citations"]
        assert citation["doc_id"] == "tides" and citation["supported"] is True

        document = (await client.call_tool("get_document", {"doc_id": "pasta"})).structured_content
        assert document["text"] == DOCS[1].text and document["chunks"][0]["chunk_id"] == "pasta#0"
        chunk = (await client.call_tool("get_chunk", {"chunk_id": "tides#0"})).structured_content
        assert chunk["doc_id"] == "tides" and chunk["span"] == [0, len(DOCS[0].text)]

        listed = (await client.list_resources()).resources
        uris = [r.uri for r in listed]
        assert uris == ["ragline://handbook/documents/pasta", "ragline://handbook/documents/tides"]
        read = await client.read_resource(uris[1])
        assert read.contents[0].text == DOCS[0].text
        await refuses_bad_calls(client)

    session(kb_path, check=check)


async def refuses_bad_calls(client: Any) -> None:
    """Bad arguments, unknown ids and writes to a read-only server: one-line error results."""
    calls = {
        ("search", "query: String should have at least 1 character"): {"query": ""},
        ("search", "k: Input should be less than or equal to 100"): {"query": "x", "k": 101},
        ("search", "filter on 'year': unknown operator 'zz'"): {
            "query": "x",
            "filters": {"year": {"zz": 1}},
        },
        ("get_document", "no document 'nope'"): {"doc_id": "nope"},
        ("get_chunk", "no chunk 'tides'"): {"chunk_id": "tides"},
        ("search", "no collection 'other'"): {"query": "x", "collection": "other"},
        ("add_document", "read-only (start it with --allow-write"): {"doc_id": "a", "text": "b"},
    }
    for (tool, reason), arguments in calls.items():
        result = await client.call_tool(tool, arguments)
        message = result.content[0].text
        assert result.is_error and reason in message and "\n" not in message, message


def test_allow_write_adds_and_deletes(kb_path: Path) -> None:
    async def check(client: Any) -> None:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == [*READ_TOOLS, "add_document", "delete_document"]
        text = "Zorl is a frozen lake north of Quellport."
        added = await client.call_tool(
            "add_document", {"doc_id": "zorl", "text": text, "metadata": {"topic": "places"}}
        )
        assert added.structured_content["added"] == 1
        found = await client.call_tool("search", {"query": "frozen lake Zorl", "k": 1})
        assert found.structured_content["hits"][0]["doc_id"] == "zorl"
        deleted = await client.call_tool("delete_document", {"doc_id": "zorl"})
        assert deleted.structured_content == {"deleted": "zorl"}
        again = await client.call_tool("delete_document", {"doc_id": "zorl"})
        assert again.is_error and "no document 'zorl'" in again.content[0].text

    session(kb_path, "--allow-write", check=check)
    with KnowledgeBase.open(kb_path) as kb:
        assert kb.document("zorl") is None and kb.info()["documents"] == 2
