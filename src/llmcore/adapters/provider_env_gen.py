"""Generates ``data/provider_env.json``: every provider the locked LiteLLM knows, and the env vars it reads.

Run at lock time (after changing the LiteLLM pin), with LiteLLM installed:

    python -m llmcore.adapters.provider_env_gen            # rewrites the data file
    python -m llmcore.adapters.provider_env_gen --check    # exit 1 when the file is stale

The guard test (tests/unit/test_provider_env_data.py) runs :func:`generate` and fails when the
committed file differs, so a LiteLLM upgrade cannot leave llmcore with a stale provider list.
llmcore reads the file at run time without importing LiteLLM (``import llmcore`` stays light).

Sources, all in the installed LiteLLM:

- ``litellm.provider_list``: the providers and how LiteLLM names them;
- ``litellm.validate_environment(model="<provider>/x")`` with an empty environment: the env
  vars LiteLLM itself says a provider needs (``missing_keys``);
- ``get_secret("NAME")`` / ``get_secret_str("NAME")`` calls in ``litellm/main.py``, each name
  given to the provider whose (underscore-free) name is its longest prefix: the env vars
  LiteLLM falls back to for that provider's params, in the order LiteLLM tries them; then the
  same calls in the provider's own ``litellm/llms/<provider>/`` code (``ZAI_API_KEY``);
- ``litellm.get_llm_provider`` with an empty environment: the provider's default api_base;
- ``litellm.openai_compatible_providers``.
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).parent / "data" / "provider_env.json"

# Providers whose lookup starts an OAuth device login over the network (github_copilot, chatgpt):
# they are listed, but not probed, since a lock-time script must not reach the internet.
NOT_PROBED = frozenset({"github_copilot", "chatgpt"})

_SECRET_CALL = re.compile(r'get_secret(?:_str)?\(\s*"([A-Z0-9_]+)"')

# How an env var name maps to the LiteLLM param it fills; the first pattern that matches wins.
# A name matching none (AZURE_API_TYPE, OR_SITE_URL) is a setting llmcore has no param for.
_PARAM_OF_ENV: tuple[tuple[str, str], ...] = (
    (r"^AWS_", ""),  # the AWS credential chain: boto3's, never a LiteLLM param llmcore fills
    (r"_AD_TOKEN$", "azure_ad_token"),
    (r"_(API_BASE|BASE_URL)$", "api_base"),
    (r"_API_VERSION$", "api_version"),
    (r"_ORGANIZATION$", "organization"),
    (r"^VERTEXAI_PROJECT$", "vertex_project"),
    (r"^VERTEXAI_LOCATION$", "vertex_location"),
    (r"^VERTEXAI_CREDENTIALS$", "vertex_credentials"),
    (r"_(API_KEY|APIKEY|KEY|API_TOKEN)$", "api_key"),
)


def param_for_env(name: str) -> str:
    """The LiteLLM param an env var name fills (``api_key``, ``api_base``, ...), or "" for none."""
    return next((param for pattern, param in _PARAM_OF_ENV if re.search(pattern, name)), "")


@contextmanager
def _empty_environment() -> Iterator[None]:
    saved = dict(os.environ)
    keep = {k: v for k, v in saved.items() if k.startswith("LITELLM_") or k in ("PATH", "HOME")}
    os.environ.clear()
    os.environ.update(keep)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _squash(name: str) -> str:
    return name.upper().replace("_", "").replace("-", "")


def _main_py_names(litellm: Any) -> list[str]:
    source = (Path(litellm.__file__).parent / "main.py").read_text(encoding="utf-8")
    return list(dict.fromkeys(_SECRET_CALL.findall(source)))


def _provider_dir_names(litellm: Any, provider: str) -> list[str]:
    directory = Path(litellm.__file__).parent / "llms" / provider
    if not directory.is_dir():
        return []
    found: list[str] = []
    for path in sorted(directory.rglob("*.py")):
        found += _SECRET_CALL.findall(path.read_text(encoding="utf-8"))
    return list(dict.fromkeys(found))


def _owner(env_name: str, providers: Sequence[str]) -> str | None:
    squashed = _squash(env_name.rsplit("_", 1)[0]) + "_"
    matches = [p for p in providers if squashed.startswith(_squash(p)) and _squash(p)]
    return max(matches, key=lambda p: len(_squash(p)), default=None)


def generate() -> dict[str, Any]:
    """The data file's content, from the installed LiteLLM (imports it; ~3 s)."""
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    names = sorted(str(getattr(p, "value", p)) for p in litellm.provider_list)
    from_main: dict[str, list[str]] = {}
    for env_name in _main_py_names(litellm):
        owner = _owner(env_name, names)
        if owner is not None:
            from_main.setdefault(owner, []).append(env_name)
    from_dir = {name: [n for n in _provider_dir_names(litellm, name) if _owner(n, names) == name] for name in names}
    # litellm/__init__.py imports the list from its types without re-exporting it (no __all__ there).
    compatible = set(litellm.openai_compatible_providers)  # type: ignore[attr-defined]
    providers: dict[str, Any] = {}
    with _empty_environment():
        for name in names:
            required: list[str] = []
            default_base: str | None = None
            if name not in NOT_PROBED:
                try:
                    required = list(litellm.validate_environment(model=f"{name}/x")["missing_keys"])
                    default_base = litellm.get_llm_provider(model=f"{name}/x")[3]
                except Exception:  # a provider LiteLLM cannot route a bare "x" for: listed, without facts
                    pass
            envs: dict[str, list[str]] = {}
            # LiteLLM's order: main.py's fallbacks, then what validate_environment names, then the provider's code.
            for env_name in dict.fromkeys([*from_main.get(name, []), *required, *from_dir[name]]):
                param = param_for_env(env_name)
                if param:
                    envs.setdefault(param, []).append(env_name)
            providers[name] = {
                "env": envs,
                "required_env": required,
                "default_api_base": default_base if isinstance(default_base, str) else None,
                "openai_compatible": name in compatible,
            }
    return {"litellm_version": _version(), "providers": providers}


def _version() -> str:
    from importlib.metadata import version

    return version("litellm")


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fresh = render(generate())
    if "--check" in args:
        current = DATA_FILE.read_text(encoding="utf-8") if DATA_FILE.exists() else ""
        if current != fresh:
            print(f"{DATA_FILE} is stale for the installed LiteLLM; run python -m llmcore.adapters.provider_env_gen")
            return 1
        return 0
    DATA_FILE.write_text(fresh, encoding="utf-8")
    print(f"wrote {DATA_FILE} ({len(json.loads(fresh)['providers'])} providers)")
    return 0


if __name__ == "__main__":  # pragma: no cover - the guard test calls main() directly
    raise SystemExit(main())
