#!/bin/sh
# The image's entrypoint: `llmcore proxy` on every interface, the port from LLMCORE_PORT.
# exec, so that the proxy is PID 1 and receives SIGTERM itself: it stops accepting, drains the
# requests in flight and exits 0 (see src/llmcore/entrypoints/proxy.py).
set -eu

workers="${LLMCORE_WORKERS:-1}"
if [ "$workers" != "1" ]; then
    # Refuse rather than quietly serve one process: an operator who asked for N workers sized for N.
    echo "llmcore-entrypoint: LLMCORE_WORKERS=$workers, but this llmcore serves one process per" \
         "container (llmcore proxy --workers has not landed yet). Set LLMCORE_WORKERS=1 and scale" \
         "with replicas instead." >&2
    exit 2
fi

exec llmcore proxy --host "${LLMCORE_HOST:-0.0.0.0}" --port "${LLMCORE_PORT:-4000}" "$@"
