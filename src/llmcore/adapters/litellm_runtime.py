"""The one place LiteLLM is imported: lazily, offline, quiet, once per process.

``import litellm`` costs ~3 s and ~3,000 modules, and at import it fetches
its remote cost map from GitHub unless told not to (FACTS.md section 2(g)).
So nothing imports it at module level: :func:`litellm_module` does, on the
first completion, after setting the offline switches the operator has not set
themselves. Afterwards it makes LiteLLM quiet: no "Give Feedback" prints to
stdout, and its stdlib loggers lose their own handlers (which print to
stdout) and propagate WARNING and above to whatever the host application
installed on the root logger (the CLI and proxy route it into loguru).

Importing LiteLLM also adds ``ignore`` entries to the process's warning
filters (``_process_defaults.py``: pydantic's instance-attribute deprecation,
protected namespaces); llmcore leaves them, as LiteLLM's stream path relies on
the first (it reads ``model_fields`` on instances for every empty delta).
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from types import ModuleType
from typing import Any

# Set before the first import, only when unset: an operator who wants the live
# cost map (or LiteLLM's other network lookups) can still say so. Offline mode
# also gates the beta-header, blog-post and tokenizer fetchers. The SDK has no
# telemetry switch to set: in 1.110.2 only the proxy has an (opt-in) exporter.
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


def litellm_module() -> ModuleType:
    """The configured ``litellm`` module, importing and configuring it on the first call (thread-safe)."""
    global _module
    module = _module
    if module is not None:
        return module
    with _lock:
        if _module is None:
            for name, value in OFFLINE_ENV:
                os.environ.setdefault(name, value)
            import litellm

            _configure(litellm)
            _module = litellm
        return _module


def is_loaded() -> bool:
    """True once :func:`litellm_module` has imported LiteLLM (tests check that ``import llmcore`` does not)."""
    return _module is not None


def _configure(litellm: Any) -> None:
    # Every mapped exception otherwise print()s a "Give Feedback / Get Help" banner to stdout.
    litellm.suppress_debug_info = True
    # On sync streams LiteLLM otherwise runs its logging in a new event loop per chunk (FACTS.md section 7).
    if hasattr(litellm, "disable_streaming_logging"):
        litellm.disable_streaming_logging = True
    quiet_litellm_loggers()


def quiet_litellm_loggers() -> None:
    """LiteLLM's loggers at WARNING, without their own stdout/stderr handlers, propagating to the host's.

    Their own filters (LiteLLM's secret redaction and truncation) stay on the
    loggers, so what propagates is already redacted once; the host's sinks mask again.
    """
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def close_sync_clients() -> None:
    """Close the sync OpenAI clients LiteLLM cached, and drop them so the next call builds a fresh one.

    LiteLLM keeps them for the process (10 min TTL); left open at exit, their pooled
    connections are reported as unclosed sockets. Nothing to do if LiteLLM was never loaded.
    """
    if _module is None:
        return
    import openai

    cache = _module.in_memory_llm_clients_cache
    for key, client in list(cache.cache_dict.items()):
        if isinstance(client, openai.OpenAI):
            with contextlib.suppress(Exception):  # closing is cleanup; one bad client must not keep the others
                client.close()
            cache.delete_cache(key)


async def close_async_clients() -> None:
    """Close LiteLLM's cached async clients (and its shared aiohttp handler), and drop them from its cache.

    Run it in the loop that used them, while it runs: LiteLLM keys them by event loop, and an aiohttp
    session can only be closed from its own loop. Dropped, not just closed, so a later call (another
    Core, the next request) builds a fresh client instead of finding a closed one in the cache.
    """
    if _module is None:
        return
    import openai

    cache = _module.in_memory_llm_clients_cache
    before = [key for key, client in cache.cache_dict.items() if not isinstance(client, openai.OpenAI)]
    with contextlib.suppress(Exception):
        await _module.close_litellm_async_clients()
    for key in before:
        cache.delete_cache(key)
