"""ragline as a Model Context Protocol server: search, cited answers and documents as MCP
tools and resources, over stdio (``ragline mcp``) or streamable HTTP (``/mcp`` of
``ragline serve``).

:mod:`~ragline.mcp.tools` says what each tool takes and returns, :mod:`~ragline.mcp.gate`
which knowledge bases a caller may use and how, :mod:`~ragline.mcp.server` answers the
protocol's requests through a gate, :mod:`~ragline.mcp.stdio` runs it for one knowledge
base and :mod:`~ragline.mcp.http` mounts it in the HTTP service under the service's keys.
"""
