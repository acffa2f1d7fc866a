"""Every public object, dumped through every generic tool a developer reaches for while debugging, shows no key.

The keys are canaries (a model key, a provider secret param and the master key). Each tool either
refuses (TypeError and the like: pickling a Secret, ``vars`` of a slotted object, ``attrs.asdict`` of
a non-attrs object) or produces something whose text (``repr`` and ``json.dumps(default=str)``)
holds no canary. The raw value stays reachable through ``Secret.reveal()`` alone.
"""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import pickle
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest

import llmcore
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.bootstrap import load_config
from llmcore.errors import ConfigError, InternalError, ModelUnavailableError, UpstreamAuthError

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "hi"}]


def _text(value: Any) -> str:
    return repr(value) + json.dumps(value, default=str, ensure_ascii=False)


def _copied(dump: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # A copy must stay as opaque as the original: dump the copy through attrs and cattrs as well.
    def tool(obj: Any) -> Any:
        duplicate = dump(obj)
        return [duplicate, _or_refused(attrs.asdict, duplicate), _or_refused(cattrs.unstructure, duplicate)]
    return tool


def _or_refused(tool: Callable[[Any], Any], obj: Any) -> Any:
    try:
        return tool(obj)
    except Exception as refused:  # noqa: BLE001 - refusing is the other correct answer
        return f"refused: {type(refused).__name__}"


TOOLS: dict[str, Callable[[Any], Any]] = {
    "repr": repr,
    "str": str,
    "format": lambda obj: f"{obj!s:>10}|{obj!r}",
    "attrs.asdict": attrs.asdict,
    "attrs.astuple": attrs.astuple,
    "cattrs.unstructure": cattrs.unstructure,
    "vars": vars,
    "__getstate__": lambda obj: obj.__getstate__(),
    "copy.copy": _copied(copy.copy),
    "copy.deepcopy": _copied(copy.deepcopy),
    "pickle": pickle.dumps,
    "dataclasses.asdict": dataclasses.asdict,
    "json.dumps(default=str)": lambda obj: json.dumps(obj, default=str),
    "json.dumps(default=vars)": lambda obj: json.dumps(obj, default=vars),
}


@pytest.fixture(scope="module")
def canaries() -> dict[str, str]:
    from tests.conftest import make_canary

    return {"GROK_API_KEY": make_canary(), "PARTNER_SECRET": make_canary("aws-canary"),
            "LLMCORE_MASTER_KEY": make_canary("sk-master-canary")}


@pytest.fixture(scope="module")
def objects(canaries: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    path: Path = tmp_path_factory.mktemp("opacity") / "llmcore.yaml"
    path.write_text(textwrap.dedent("""\
        model_list:
          - model_name: grok-code-fast-1
            litellm_params:
              model: openai/grok-code-fast-1
              api_key: os.environ/GROK_API_KEY
              api_base: http://127.0.0.1:9/v1
        general_settings:
          master_key: os.environ/LLMCORE_MASTER_KEY
        """), encoding="utf-8")
    scripted = ScriptedCompletion()
    core = llmcore.load(path, env=canaries, completion=scripted)
    config = load_config(path, canaries)
    spec = core.registry.resolve(GROK)
    # A provider's own credential param (Decision 12), as the config adapter builds it for e.g. bedrock/.
    partner = attrs.evolve(spec, alias="partner", route="bedrock", provider_params={"aws_region_name": "us-east-1"},
                           secret_params={"aws_secret_access_key": llmcore.Secret(canaries["PARTNER_SECRET"])})
    with core.stream(GROK, HELLO) as session:
        list(session)

    async def async_session() -> Any:
        async with core.astream(GROK, HELLO) as opened:
            return opened
    asession = asyncio.run(async_session())
    yield {
        "Core": core, "CoreSettings": core.settings, "LoadedConfig": config, "ModelSpec": spec,
        "Credentials": spec.credentials, "partner ModelSpec": partner, "ModelStatus": core.models()[0],
        "ChatResponse": core.complete(GROK, HELLO), "StreamSession": session, "AsyncStreamSession": asession,
        "Secret": spec.api_key, "UpstreamAuthError": UpstreamAuthError(
            f"refused {canaries['GROK_API_KEY']}", provider="xai", model=GROK, upstream_text=canaries["GROK_API_KEY"]),
        "ConfigError": ConfigError(f"bad key {canaries['GROK_API_KEY']}"),
        "ModelUnavailableError": ModelUnavailableError(GROK, "no key"),
        "InternalError": InternalError("boom", model=GROK, request_id="r1"),
    }
    core.close()


def test_the_canaries_are_really_in_the_objects(objects: dict[str, Any], canaries: dict[str, str]) -> None:
    assert objects["Secret"].reveal() == canaries["GROK_API_KEY"]
    assert objects["CoreSettings"].master_key.reveal() == canaries["LLMCORE_MASTER_KEY"]
    assert objects["partner ModelSpec"].secret_params["aws_secret_access_key"].reveal() == canaries["PARTNER_SECRET"]


def test_no_generic_tool_reveals_a_key_of_any_public_object(
    objects: dict[str, Any], canaries: dict[str, str],
) -> None:
    leaks, checked = [], 0
    for name, obj in objects.items():
        for tool_name, tool in TOOLS.items():
            checked += 1
            try:
                shown = _text(tool(obj))
            except Exception:  # noqa: BLE001 - the tool refused: nothing shown
                continue
            leaks += [f"{tool_name}({name})" for canary in canaries.values() if canary in shown]
    assert leaks == []
    assert checked == len(objects) * len(TOOLS) == 15 * 14


def test_a_secret_refuses_to_be_pickled_or_serialized_but_copies_as_itself(canaries: dict[str, str]) -> None:
    secret = llmcore.Secret(canaries["GROK_API_KEY"])
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(secret)
    with pytest.raises(TypeError, match="not serializable"):
        secret.__getstate__()
    with pytest.raises(TypeError):
        vars(secret)
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]
    assert copy.copy(secret) is secret and copy.deepcopy(secret) is secret
    assert attrs.asdict(attrs.evolve(objects_spec(secret)))["credentials"]["api_key"] is secret


def objects_spec(secret: llmcore.Secret) -> Any:
    from llmcore.domain.model_spec import Credentials, ModelSpec

    return ModelSpec(alias="a", upstream_model="m", credentials=Credentials(api_key=secret))
