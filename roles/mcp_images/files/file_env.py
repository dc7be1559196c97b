# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a server with NAME set from the file NAME_FILE names (Docker/Swarm secrets), then exec it.

Usage: file_env.py COMMAND [ARGS...]
Servers such as postgres-mcp read a secret (DATABASE_URI) from the environment only; secrets must
reach containers as files under /run/secrets, never as plain values in the service definition.
Only files under /run/secrets are read, and a NAME already set is left as it is.
"""

from __future__ import annotations

import os
import re
import sys

SECRETS_DIR = "/run/secrets/"
NAME = re.compile(r"^([A-Z][A-Z0-9_]*)_FILE$")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        raise SystemExit("usage: file_env.py COMMAND [ARGS...]")
    for key, path in list(os.environ.items()):
        match = NAME.match(key)
        if not match or match.group(1) in os.environ:
            continue
        if not os.path.realpath(path).startswith(SECRETS_DIR):
            raise SystemExit(f"file_env: {key}={path} is not under {SECRETS_DIR}; mount the secret there")
        try:
            with open(path, encoding="utf-8") as handle:
                os.environ[match.group(1)] = handle.read().rstrip("\r\n")
        except OSError as exc:
            raise SystemExit(f"file_env: {key}: cannot read {path}: {exc.strerror}") from None
    os.execv(argv[1], argv[1:])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
