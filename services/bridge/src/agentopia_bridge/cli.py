# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line: `--listen HOST:PORT -- <server command>` serves, `--check URL` health checks.

Only what the chosen mode needs is imported: `--check` runs without asyncio or the server (about
90 ms less per run), and neither mode loads ssl (see `run`).
"""

from __future__ import annotations

import argparse
import logging
import sys

import agentopia_bridge
from agentopia_bridge.config import Settings


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="agentopia-bridge", description=(agentopia_bridge.__doc__ or "").split("\n\n", maxsplit=1)[0]
    )
    parser.add_argument("--listen", default="0.0.0.0:8000", help="host:port to serve on (default 0.0.0.0:8000)")
    parser.add_argument("--check", metavar="URL", help="health check an MCP endpoint, exit 0 (healthy) or 1")
    parser.add_argument("--timeout", type=float, default=5.0, help="--check: seconds per HTTP call (default 5)")
    parser.add_argument("--max-body-bytes", type=int, default=Settings.max_body_bytes)
    parser.add_argument("--request-timeout", type=float, default=Settings.request_timeout)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the stdio server command and its args")
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if args.check is None and not args.command:
        parser.error("give the server command after --, e.g. -- mcp-server-time (or use --check URL)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.check is not None:
        from agentopia_bridge.check import check

        return check(args.check, args.timeout)
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        print(f"mcp_bridge: --listen must be host:port, got {args.listen!r}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(
        host=host.strip("[]") or "0.0.0.0",
        port=int(port),
        command=args.command,
        max_body_bytes=args.max_body_bytes,
        request_timeout=args.request_timeout,
    )
    import asyncio

    from agentopia_bridge.bridge import serve

    asyncio.run(serve(settings))
    return 0


def run() -> None:
    """The program's entry point (console script, `python -m agentopia_bridge`, the images' launcher)."""
    if "ssl" not in sys.modules:
        # asyncio loads ssl (libssl + libcrypto, ~4 MB RSS) for TLS transports the bridge never opens.
        sys.modules["ssl"] = None  # type: ignore[assignment]
    sys.exit(main())
