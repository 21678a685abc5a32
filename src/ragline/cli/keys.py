"""``ragline keys``: create, list and revoke the API keys of a data directory.

A running ``ragline serve --data DIR`` re-reads the key file when it changes, so a new or
revoked key takes effect without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragline.cli.common import output, positive
from ragline.cli.help import WordsCommand, WordsGroup
from ragline.keystore import KEYS_FILE, ROLES, KeyStore

app = typer.Typer(
    cls=WordsGroup, no_args_is_help=True, help="API keys for 'ragline serve --data DIR'."
)

DataDirOption = Annotated[
    Path, typer.Option("--data", help="The data directory 'ragline serve --data' serves.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _store(data: Path) -> KeyStore:
    from ragline.errors import RaglineError

    if not data.is_dir():
        raise RaglineError(f"{data}: no such directory")
    return KeyStore(data / KEYS_FILE)


@app.command(cls=WordsCommand)
def create(
    data: DataDirOption,
    collection: Annotated[
        str, typer.Option(help="The collection the key is for, or '*' for every one.")
    ],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "read",
    expires: Annotated[
        float | None,
        typer.Option(
            metavar="DAYS",
            callback=positive,
            help="Days until the key stops working (default: never).",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Make a key and print it once: only its salted hash is stored."""
    out = output(as_json=json_output)
    key, record = _store(data).create(collection, role, expires_days=expires)
    if json_output:
        out.json({"key": key, **record.public()})
        return
    out.note(f"key {record.id}: {role} on {collection!r}; shown once, keep it safe:")
    out.print(key)


@app.command("list", cls=WordsCommand)
def list_keys(data: DataDirOption, json_output: JsonFlag = False) -> None:
    """The keys (id, collection, role, dates, revoked): never the keys themselves."""
    out = output(as_json=json_output)
    records = [r.public() for r in _store(data).records()]
    if json_output:
        out.json({"keys": records})
        return
    for r in records:
        state = "revoked" if r["revoked"] else "expired" if r["expired"] else "active"
        out.print(f"{r['id']}  {r['role']:<5}  {r['collection']}  {state}")


@app.command(cls=WordsCommand)
def revoke(
    data: DataDirOption, key_id: Annotated[str, typer.Argument(help="The key's id.")]
) -> None:
    """Revoke a key by its id; a running server refuses it from its next request."""
    record = _store(data).revoke(key_id)
    output().print(f"revoked key {record.id}")
