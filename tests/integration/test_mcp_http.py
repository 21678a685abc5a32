"""The MCP SDK's own client against ``/mcp`` of a real ``ragline serve --data`` subprocess
on 127.0.0.1: the service's keys and scoping hold there too (a read key gets no write
tools, a collection-scoped key sees only its collection, no key is a 401)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

mcp = pytest.importorskip("mcp")
httpx = pytest.importorskip("httpx")
httpx2 = pytest.importorskip("httpx2")

from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from serve_data import QUESTION, make_data  # noqa: E402

pytestmark = pytest.mark.integration

STARTUP_SECONDS = 60
WRITE_TOOLS = {"add_document", "delete_document"}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], str]]:
    root = tmp_path_factory.mktemp("mcp-http")
    return root, make_data(root)


@pytest.fixture(scope="module")
def server(data: tuple[Path, dict[tuple[str, str], str]]) -> Iterator[str]:
    with serve("--data", str(data[0])) as url:
        yield url


@contextmanager
def serve(*args: str) -> Iterator[str]:
    """``ragline serve ARGS`` on a free port of 127.0.0.1 until the test is done: its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "ragline.cli", "serve", *args]
    command += ["--port", str(port), "--generator", "extractive", "--quiet"]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(command, env=os.environ, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "ragline serve did not start"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def session(url: str, key: str, check: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``check(client)`` over streamable HTTP with ``key`` as the bearer token."""

    async def run() -> None:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120)
        async with http, mcp.Client(streamable_http_client(f"{url}/mcp", http_client=http)) as c:
            await check(c)

    asyncio.run(run())


def test_collection_read_key_sees_its_collection_only(server: str, data: Any) -> None:
    async def check(client: Any) -> None:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"search", "ask", "get_document", "get_chunk"}
        found = await client.call_tool("search", {"query": "gravity of the Moon", "k": 1})
        hit = found.structured_content["hits"][0]
        assert (hit["doc_id"], hit["chunk_id"], hit["span"][0]) == ("tides", "tides#0", 0)
        answer = (await client.call_tool("ask", {"question": QUESTION})).structured_content
        assert answer["citations"][0]["doc_id"] == "tides" and answer["citations"][0]["supported"]
        other = await client.call_tool("search", {"query": "tides", "collection": "beta"})
        assert other.is_error and other.content[0].text == "search: no collection 'beta'"
        write = await client.call_tool("add_document", {"doc_id": "x", "text": "y"})
        assert write.is_error and "may not write collection 'alpha'" in write.content[0].text
        uris = [r.uri for r in (await client.list_resources()).resources]
        assert uris == ["ragline://alpha/documents/pasta", "ragline://alpha/documents/tides"]
        with pytest.raises(mcp.MCPError, match="no collection 'beta'"):
            await client.read_resource("ragline://beta/documents/tides")

    session(server, data[1]["alpha", "read"], check)


def test_write_key_on_every_collection_writes_where_it_names(server: str, data: Any) -> None:
    async def check(client: Any) -> None:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names >= WRITE_TOOLS
        unnamed = await client.call_tool("search", {"query": "tides"})
        assert (
            unnamed.is_error and "give 'collection': one of alpha, beta" in unnamed.content[0].text
        )
        text = "Zorl is a frozen lake north of Quellport."
        added = await client.call_tool(
            "add_document", {"doc_id": "zorl", "text": text, "collection": "beta"}
        )
        assert added.structured_content["added"] == 1
        found = await client.call_tool(
            "search", {"query": "frozen lake Zorl", "k": 1, "collection": "beta"}
        )
        assert found.structured_content["hits"][0]["doc_id"] == "zorl"
        uris = [r.uri for r in (await client.list_resources()).resources]
        assert "ragline://beta/documents/zorl" in uris and len(uris) == 5
        deleted = await client.call_tool(
            "delete_document", {"doc_id": "zorl", "collection": "beta"}
        )
        assert deleted.structured_content == {"deleted": "zorl"}

    session(server, data[1]["*", "write"], check)


def test_no_key_or_a_wrong_key_is_refused(server: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    assert httpx.post(f"{server}/mcp", json=body).status_code == 401
    wrong = {"Authorization": "Bearer rl_not-a-key"}
    assert httpx.post(f"{server}/mcp", json=body, headers=wrong).status_code == 401


def test_mcp_requests_are_counted_under_their_route(server: str, data: Any) -> None:
    admin = {"Authorization": f"Bearer {data[1]['*', 'admin']}"}
    metrics = httpx.get(f"{server}/metrics", headers=admin).text
    assert 'ragline_requests_total{method="POST",route="/mcp",status="200"}' in metrics


def test_a_server_without_keys_answers_loopback_hosts_only(data: Any) -> None:
    """``--kb --no-auth``: one collection, no key; the SDK's DNS-rebinding protection
    refuses a request whose Host is not a loopback address."""
    with serve("--kb", str(data[0] / "alpha"), "--no-auth") as url:

        async def check(client: Any) -> None:
            found = await client.call_tool("search", {"query": "gravity of the Moon", "k": 1})
            assert found.structured_content["hits"][0]["doc_id"] == "tides"

        session(url, "unused", check)
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        accept = {"Accept": "application/json, text/event-stream"}
        rebound = httpx.post(f"{url}/mcp", json=body, headers={**accept, "Host": "evil.example"})
        assert rebound.status_code in (400, 403, 421)
