# SPDX-License-Identifier: GPL-3.0-or-later
"""HEALTHCHECK for the gateway: GET its own /health on loopback; exit 0 on 200, else 1.

Usage: http_health.py [PORT]  (default: the port of GATEWAY_LISTEN, else 8811)
HTTPS when GATEWAY_TLS_CERT_FILE is set; the certificate is not verified (loopback, the
gateway's own certificate), only the answer counts. Stdlib only: no curl in the image.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 2.0


def main(argv: list[str]) -> int:
    port = argv[1] if len(argv) > 1 else os.environ.get("GATEWAY_LISTEN", "0.0.0.0:8811").rsplit(":", 1)[-1]
    tls = bool(os.environ.get("GATEWAY_TLS_CERT_FILE"))
    context = None
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS, context=context) as response:
            body = response.read(512).decode("utf-8", "replace")
            print(f"{url}: {response.status} {body}")
            return 0 if response.status == 200 else 1
    except (OSError, urllib.error.URLError) as exc:
        print(f"{url}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
