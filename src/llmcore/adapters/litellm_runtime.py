"""The one place LiteLLM is imported: lazily, offline, once per process; quiet where the process is ours.

``import litellm`` costs ~3 s and ~3,000 modules, and at import it fetches
its remote cost map from GitHub unless told not to (FACTS.md section 2(g)).
So nothing imports it at module level: :func:`litellm_module` does, on the
first completion.

Two modes, because a library is a guest in its host's process (issue 12):

- **Library mode** (``import llmcore`` in someone's service) changes none of
  the host's process-wide state: no environment variable is left set, LiteLLM's
  stdlib loggers keep the host's handlers and levels, and LiteLLM's global
  switches keep their values, with one exception below. LiteLLM reads its
  offline switches (``LITELLM_LOCAL_MODEL_COST_MAP``, ``LITELLM_OFFLINE_MODE``,
  ``LITELLM_MODE``) from the environment *at import* and offers no parameter
  for them, so they are set for the import only and restored right after
  (the only env reads that matter at import: the cost map, which is then never
  fetched; ``.env`` loading, which PRODUCTION mode skips). A host thread that
  reads those variables during that import sees them; that window is unavoidable.
- **Application mode** (:func:`own_process`, called by the CLI and the proxy,
  which own their process): the offline switches stay set for the whole
  process (so LiteLLM's lazy runtime fetchers, e.g. the Anthropic beta-header
  list and Hugging Face tokenizers, stay offline too); LiteLLM's loggers lose
  their own stdout handlers and propagate WARNING and above to the root logger
  (which the CLI and proxy route into loguru); sync streams skip LiteLLM's
  per-chunk logging loop (``disable_streaming_logging``, FACTS.md section 7).

The exception in library mode is ``litellm.suppress_debug_info = True``: without
it every mapped exception ``print()``s a "Give Feedback / Get Help" banner to the
host's stdout, and LiteLLM has no per-call switch for it. It changes no output
but that banner. In library mode LiteLLM's lazy runtime fetchers follow the
host's own ``LITELLM_OFFLINE_MODE``.

Importing LiteLLM also adds ``ignore`` entries to the process's warning
filters (``_process_defaults.py``: pydantic's instance-attribute deprecation,
protected namespaces); llmcore leaves them, as LiteLLM's stream path relies on
the first (it reads ``model_fields`` on instances for every empty delta).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# Each is set only when the operator has not set it: who wants the live cost map (or LiteLLM's
# other network lookups) can still say so. Offline mode also gates the beta-header, blog-post
# and tokenizer fetchers. The SDK has no telemetry switch to set: in 1.110.2 only the proxy has
# an (opt-in) exporter.
OFFLINE_ENV: tuple[tuple[str, str], ...] = (
    ("LITELLM_OFFLINE_MODE", "true"),
    ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
    # In its default "DEV" mode, ``import litellm`` runs ``dotenv.load_dotenv()``
    # (_process_defaults.py:23): a ``.env`` file found from the working directory
    # lands in os.environ, keys included. That is the host's business, not ours.
    ("LITELLM_MODE", "PRODUCTION"),
)
LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")

_lock = threading.Lock()
_module: ModuleType | None = None
_owns_process = False


def own_process() -> None:
    """Application mode (the CLI, the proxy): configure LiteLLM process-wide, now or when it is imported.

    Sets the offline switches the operator has not set, for the whole process. Never imports
    LiteLLM itself (commands that call no model stay fast); if it is imported already, its
    loggers and switches are configured at once.
    """
    global _owns_process
    with _lock:
        _owns_process = True
        for name, value in OFFLINE_ENV:
            os.environ.setdefault(name, value)
        if _module is not None:
            _configure_process(_module)


def litellm_module() -> ModuleType:
    """The configured ``litellm`` module, importing and configuring it on the first call (thread-safe)."""
    global _module
    module = _module
    if module is not None:
        return module
    with _lock:
        if _module is None:
            with _offline_for_import():
                import litellm

            # Without it every mapped exception print()s a banner to stdout; no per-call switch exists.
            litellm.suppress_debug_info = True
            if _owns_process:
                _configure_process(litellm)
            _module = litellm
        return _module


@contextlib.contextmanager
def _offline_for_import() -> Iterator[None]:
    """The offline switches the operator has not set, for the import only; then the environment as it was."""
    added = [name for name, _ in OFFLINE_ENV if name not in os.environ]
    for name, value in OFFLINE_ENV:
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        if not _owns_process:
            for name in added:
                os.environ.pop(name, None)


def is_loaded() -> bool:
    """True once :func:`litellm_module` has imported LiteLLM (tests check that ``import llmcore`` does not)."""
    return _module is not None


def _configure_process(litellm: Any) -> None:
    # On sync streams LiteLLM otherwise runs its logging in a new event loop per chunk (FACTS.md section 7).
    if hasattr(litellm, "disable_streaming_logging"):
        litellm.disable_streaming_logging = True
    quiet_litellm_loggers()


def quiet_litellm_loggers() -> None:
    """LiteLLM's loggers at WARNING, without their own stdout/stderr handlers, propagating to the host's.

    Application mode only. Their own filters (LiteLLM's secret redaction and truncation) stay on
    the loggers, so what propagates is already redacted once; the application's sinks mask again.
    """
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def close_sync_clients() -> None:
    """Close the sync HTTP clients LiteLLM cached (OpenAI SDK clients, and its own httpx handlers that
    routes such as ``anthropic/`` use), and drop them so the next call builds a fresh one.

    LiteLLM keeps them for the process (10 min TTL); left open at exit, their pooled
    connections are reported as unclosed sockets. Its module-level sync client (sync
    ``anthropic/`` streams) is closed too; it reopens on its next request. Nothing to do if
    LiteLLM was never loaded.
    """
    if _module is None:
        return
    cache = _module.in_memory_llm_clients_cache
    sync_kinds = _sync_client_kinds()
    for key, client in list(cache.cache_dict.items()):
        if isinstance(client, sync_kinds):
            with contextlib.suppress(Exception):  # closing is cleanup; one bad client must not keep the others
                client.close()
            cache.delete_cache(key)
    module_level = _module_level_client(_module, "module_level_client")
    if module_level is not None:
        with contextlib.suppress(Exception):
            module_level.close()


def _module_level_client(litellm: ModuleType, name: str) -> Any | None:
    """LiteLLM's module-level HTTP handler ``litellm.<name>`` if it has been made, without making it.

    ``module_level_client`` (sync ``HTTPHandler``) and ``module_level_aclient`` (``AsyncHTTPHandler``)
    are built lazily on first use (``litellm/_lazy_imports.py``) and kept as module attributes for
    the process, outside the client cache once it has been cleared: the ``anthropic/`` route streams
    through them (``llms/anthropic/chat/handler.py``, ``make_call``; ``streaming_handler.py``,
    ``fetch_stream`` / ``fetch_sync_stream``). Both rebuild their httpx client on the next request
    once it is closed, so closing them is safe. Reading ``vars()`` keeps a never-used one unbuilt.
    """
    return vars(litellm).get(name)


def _sync_client_kinds() -> tuple[type[Any], ...]:
    import httpx
    import openai
    from litellm.llms.custom_httpx.http_handler import HTTPHandler

    return (openai.OpenAI, HTTPHandler, httpx.Client)


async def close_async_clients() -> None:
    """Close LiteLLM's cached async clients (and its shared aiohttp handler), and drop them from its cache.

    Run it in the loop that used them, while it runs: LiteLLM keys them by event loop, and an aiohttp
    session can only be closed from its own loop. Dropped, not just closed, so a later call (another
    Core, the next request) builds a fresh client instead of finding a closed one in the cache.
    LiteLLM's module-level async client (async ``anthropic/`` streams), which stays outside the cache,
    is closed too when its pooled session belongs to this loop.
    """
    if _module is None:
        return
    cache = _module.in_memory_llm_clients_cache
    sync_kinds = _sync_client_kinds()
    before = [key for key, client in cache.cache_dict.items() if not isinstance(client, sync_kinds)]
    with contextlib.suppress(Exception):
        await _module.close_litellm_async_clients()
    for key in before:
        cache.delete_cache(key)
    # After the first close the module-level async client is no longer in the cache, yet LiteLLM
    # keeps using it (it rebuilds its httpx client): each later loop's pooled connection would
    # outlive its loop, and LiteLLM's own recycling cannot close a transport of a closed loop.
    module_level = _module_level_client(_module, "module_level_aclient")
    if module_level is not None and _pooled_in_this_loop(module_level):
        with contextlib.suppress(Exception):
            await module_level.close()


def _pooled_in_this_loop(handler: Any) -> bool:
    """False when ``handler``'s aiohttp session belongs to another event loop (e.g. another thread's).

    An aiohttp session may only be closed from its own loop; that loop's owner closes it there.
    A handler on plain httpx transport (``litellm.disable_aiohttp_transport``) has no session to ask.
    """
    transport = getattr(getattr(handler, "_client", None), "_transport", None)
    loop = getattr(getattr(transport, "client", None), "_loop", None)
    return loop is None or loop is asyncio.get_running_loop()
