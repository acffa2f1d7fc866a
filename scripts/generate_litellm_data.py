"""Generate src/llmcore/adapters/data/litellm_config.json from the locked LiteLLM (run at lock time).

llmcore must not import LiteLLM to read a config (``import litellm`` costs ~3 s),
yet which providers exist and which config keys LiteLLM's proxy accepts must
come from LiteLLM itself, not a hand-kept list. This script imports the locked
LiteLLM once, reads its own types, signatures and proxy source, and writes the
answer as data. tests/unit/test_litellm_data.py runs ``generate()`` and fails
when the committed file no longer matches the installed LiteLLM.

Usage: ``LITELLM_OFFLINE_MODE=true LITELLM_LOCAL_MODEL_COST_MAP=True python scripts/generate_litellm_data.py``

Where each set comes from (LiteLLM 1.110.2 paths, under site-packages/litellm/):

- ``providers``: the ``LlmProviders`` enum (types/utils.py), the names ``model: <provider>/...`` routes on.
- top level: ``ConfigYAML`` (proxy/_types.py) and every ``config.get("X")`` in proxy/proxy_server.py.
- ``model_list[]``: ``Deployment`` (types/router.py) and every ``deployment.get("X")`` the Router makes
  (entry-level ``rpm``/``tpm`` are read there).
- ``litellm_params``: ``LiteLLM_Params`` (types/router.py), the parameters of ``litellm.completion``, its
  ``all_litellm_params``, every ``kwargs.get("X")`` in main.py and every ``litellm_params.get("X")`` the Router
  makes (``weight``, ``order``).
- ``model_info``: the Router's ``ModelInfo``, the ``ModelInfo`` TypedDict of types/utils.py, every
  ``model_info.get("X")`` in LiteLLM's source, and every key of the bundled model map (``supports_*``,
  ``mode``, ...), which the proxy accepts in ``model_info`` as well.
- ``litellm_settings``: LiteLLM's proxy sets every key as an attribute of the ``litellm`` module
  (proxy_server.py ``setattr(litellm, key, value)``), so the accepted keys are the module's settings
  (its non-callable public attributes right after ``import litellm``: run this in a fresh process, as
  a LiteLLM that has served calls carries more, e.g. ``logging_callback_manager``) and the keys the
  proxy handles itself (``key == "X"``). The proxy sets any other key too, to no effect: llmcore
  warns (config_schema.LENIENT_PLACES).
- ``router_settings``: the parameters of ``Router.__init__`` (the proxy passes exactly these to the Router;
  any other key it logs as ignored, and so does llmcore: see config_schema.LENIENT_PLACES).
- ``general_settings``: ``ConfigGeneralSettings`` (proxy/_types.py) and every ``general_settings.get("X")`` /
  ``general_settings["X"]`` in the proxy's source.
- ``credential_params``: the ``litellm_params`` that carry credentials: names of ``LiteLLM_Params`` outside its
  pricing fields that name a key, secret, token, password or credentials (not a file path or a limit).
- ``provider_params``: the other connection params LiteLLM groups in ``CredentialLiteLLMParams``
  (``api_version``, ``aws_region_name``, ``vertex_project``, ...) plus ``organization``.
"""
from __future__ import annotations

import importlib.metadata
import inspect
import json
import os
import re
import sys
import types
from pathlib import Path
from typing import Any, get_type_hints

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "llmcore" / "adapters" / "data" / "litellm_config.json"

_CREDENTIAL = re.compile(r"(^|_)(key|secret|token|password|credentials)(_|$)")
_NOT_CREDENTIAL = re.compile(r"(_file|_limit)$")


def _scan(root: Path, pattern: str, files: str = "**/*.py") -> set[str]:
    regex = re.compile(pattern)
    found: set[str] = set()
    for path in sorted(root.glob(files)):
        found.update(regex.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def _get_calls(name: str) -> str:
    # name.get("key"...) and name["key"]; the negative lookbehind keeps e.g. section_config.get out of config.get.
    return rf'(?<![\w.]){name}(?:\.get\(\s*|\[\s*)["\'](\w+)["\']'


# Keys LiteLLM reads in shapes the scans above do not catch (a loop over names, a settings view). Each is
# checked to appear as a string literal in the cited file, so a LiteLLM that stops reading it fails the guard.
READ_ELSEWHERE: dict[str, tuple[tuple[str, str], ...]] = {
    "litellm_params": (
        ("weight", "router_strategy/simple_shuffle.py"),  # for metric in ("weight", "rpm", "tpm")
        ("order", "litellm_core_utils/routing_groups.py"),  # deployment priority
    ),
    "litellm_settings": (
        ("websearch_interception_params", "integrations/websearch_interception/handler.py"),
        ("code_interpreter_interception_params", "integrations/code_interpreter_interception/handler.py"),
        ("debug", "proxy/common_utils/debug_utils.py"),  # the proxy's debug switches, read from the settings
        ("detailed_debug", "proxy/common_utils/debug_utils.py"),
    ),
    "model_info": (("adaptive_router_preferences", "router_rust/steps/prerouting.py"),),
    "": (("include", "proxy/common_utils/config_includes.py"),),
}


def _read_elsewhere(root: Path, place: str) -> set[str]:
    found = set()
    for key, relative in READ_ELSEWHERE.get(place, ()):
        text = (root / relative).read_text(encoding="utf-8")
        if f'"{key}"' not in text:
            raise SystemExit(f"{relative} no longer mentions {key!r}; review READ_ELSEWHERE in {__file__}")
        found.add(key)
    return found


def generate() -> dict[str, Any]:
    """Everything the config loader needs from the installed LiteLLM, as JSON-ready data."""
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    from litellm.proxy._types import ConfigGeneralSettings, ConfigYAML
    from litellm.types import utils as litellm_types
    from litellm.types.router import (
        CredentialLiteLLMParams,
        CustomPricingLiteLLMParams,
        Deployment,
        LiteLLM_Params,
    )
    from litellm.types.router import ModelInfo as RouterModelInfo

    root = Path(litellm.__file__).parent
    proxy = root / "proxy"
    router_files = "router*.py"
    model_map = json.loads((root / "model_prices_and_context_window_backup.json").read_text(encoding="utf-8"))

    top = set(ConfigYAML.model_fields) | _scan(proxy, _get_calls("config"), "proxy_server.py") \
        | _read_elsewhere(root, "")
    entry = set(Deployment.model_fields) | _scan(root, _get_calls("_?deployment"), "router*/**/*.py") \
        | _scan(root, _get_calls("_?deployment"), router_files)
    completion_params = set(inspect.signature(litellm.completion).parameters) - {"kwargs", "args"}
    # LiteLLM passes every litellm_param to litellm.completion, which reads its own kwargs (mock_timeout, ...).
    params = set(LiteLLM_Params.model_fields) | completion_params | set(litellm_types.all_litellm_params) \
        | _scan(root, _get_calls("kwargs"), "main.py") \
        | _scan(root, _get_calls("litellm_params"), router_files) | _read_elsewhere(root, "litellm_params")
    info = set(RouterModelInfo.model_fields) | set(get_type_hints(litellm_types.ModelInfo)) \
        | _scan(root, _get_calls("model_info")) | _read_elsewhere(root, "model_info") \
        | {key for value in model_map.values() if isinstance(value, dict) for key in value}
    module_settings = {
        name for name, value in vars(litellm).items()
        if not name.startswith("_") and not callable(value) and not isinstance(value, types.ModuleType)
    }
    special = _scan(proxy, r'\bkey == ["\'](\w+)["\']', "proxy_server.py") | _read_elsewhere(root, "litellm_settings") \
        | _scan(root, _get_calls("litellm_settings"))
    router = set(inspect.signature(litellm.Router.__init__).parameters) - {"self"}
    general = set(ConfigGeneralSettings.model_fields) | _scan(proxy, _get_calls("general_settings"))

    pricing = set(CustomPricingLiteLLMParams.model_fields)
    credentials = {
        name for name in LiteLLM_Params.model_fields
        if name not in pricing and _CREDENTIAL.search(name) and not _NOT_CREDENTIAL.search(name)
    } - {"api_key"}
    provider = (set(CredentialLiteLLMParams.model_fields) - credentials - {"api_key", "api_base"}) | {"organization"}
    return {
        "litellm_version": importlib.metadata.version("litellm"),
        "providers": sorted(p.value for p in litellm.LlmProviders),
        "keys": {
            "": sorted(top),
            "model_list[]": sorted(entry),
            "litellm_params": sorted(params),
            "model_info": sorted(info),
            "litellm_settings": sorted(module_settings | special),
            "router_settings": sorted(router),
            "general_settings": sorted(general),
        },
        "credential_params": sorted(credentials),
        "provider_params": sorted(provider),
    }


def render(data: dict[str, Any]) -> str:
    """The file's text: stable key order, one name a line, so a LiteLLM upgrade reads as a small diff."""
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Write the data file; with ``--stdout`` print it instead (the guard test compares that)."""
    text = render(generate())
    if "--stdout" in argv:
        sys.stdout.write(text)
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
