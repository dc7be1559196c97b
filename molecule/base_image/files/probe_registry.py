"""Ask a registry URL anonymously, trusting only its CA and then only the system store.

Prints {"with_ca": <HTTP status>, "without_ca": <status or TLS error>} as JSON.
"""

import json
import ssl
import sys
import urllib.error
import urllib.request


def ask(url, context):
    try:
        with urllib.request.urlopen(url, context=context, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return "certificate verify failed"
        return str(reason)


url, ca = sys.argv[1], sys.argv[2]
with_ca = ask(url, ssl.create_default_context(cafile=ca))
without_ca = ask(url, ssl.create_default_context())
print(json.dumps({"with_ca": with_ca, "without_ca": without_ca}))
