# SPDX-License-Identifier: GPL-3.0-or-later
"""An agent that never stops during a token rotation: it opens an MCP session through every gateway in turn and lists
the tools, each time with the token its token file holds at that moment (the test moves it to the new token), until
the stop file appears. It writes how many sessions succeeded per token (by digest prefix) and every failure."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import pathlib

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def session(url: str, token: str) -> int:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=15) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return len((await client.list_tools()).tools)


async def run(urls: list[str], token_file: pathlib.Path, stop_file: pathlib.Path, out: pathlib.Path) -> None:
    ok: dict[str, int] = {}
    failures: list[str] = []
    while not stop_file.exists():
        for url in urls:
            token = token_file.read_text(encoding="utf-8").strip()
            label = hashlib.sha256(token.encode()).hexdigest()[:12]
            try:
                if await session(url, token) == 0:
                    raise RuntimeError("no tools listed")
                ok[label] = ok.get(label, 0) + 1
            except Exception as exc:  # pylint: disable=broad-exception-caught  # every failure counts, whatever its type
                failures.append(f"{url} token {label}: {type(exc).__name__}: {exc}"[:300])
        out.write_text(json.dumps({"ok": ok, "failed": len(failures), "failures": failures[:20]}), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token-file", type=pathlib.Path, required=True)
    parser.add_argument("--stop-file", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    asyncio.run(run(args.urls, args.token_file, args.stop_file, args.out))


if __name__ == "__main__":
    main()
