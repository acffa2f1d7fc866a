"""The image's HEALTHCHECK: exit 0 when the proxy in this container answers GET /health with 200.

Slim Python images have no curl; this uses only the standard library. The port is the proxy's
(LLMCORE_PORT, default 4000); the whole check gives up after LLMCORE_HEALTHCHECK_TIMEOUT seconds
(default 4, under the HEALTHCHECK's --timeout). Exit 1 says why on stderr.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("LLMCORE_PORT", "4000")
    timeout = float(os.environ.get("LLMCORE_HEALTHCHECK_TIMEOUT", "4"))
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        print(f"llmcore-healthcheck: GET {url} failed: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"llmcore-healthcheck: GET {url} answered {status}, not 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
