#!/bin/sh
# The image's entrypoint: `llmcore proxy` on every interface, the port from LLMCORE_PORT and the
# worker processes from LLMCORE_WORKERS (a number, or auto: one per CPU the container may use).
# exec, so that the proxy is PID 1 and receives SIGTERM itself: it stops accepting, drains the
# requests in flight and exits 0, or 5 when the grace ran out with requests still open
# (src/llmcore/entrypoints/proxy_drain.py; with workers, gunicorn's master is PID 1).
set -eu

exec llmcore proxy --host "${LLMCORE_HOST:-0.0.0.0}" --port "${LLMCORE_PORT:-4000}" \
    --workers "${LLMCORE_WORKERS:-1}" "$@"
