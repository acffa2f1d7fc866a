"""json_codec: orjson on the hot paths, with the stdlib deciding whatever orjson refuses (nothing that worked fails)."""
from __future__ import annotations

import json
import math
from types import MappingProxyType

import pytest

from llmcore.adapters.json_codec import dumps, loads

CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1773345575, "model": "grok-code-fast-1",
         "choices": [{"index": 0, "delta": {"content": "olá \u2603 \U0001f600"}, "logprobs": {"content": [
             {"token": "ol", "logprob": -0.0001, "bytes": [111, 108]}]}, "finish_reason": None}],
         "system_fingerprint": "fp_x"}


def test_reads_and_writes_a_chunk_as_the_stdlib_does_under_json_equality() -> None:
    assert loads(json.dumps(CHUNK)) == CHUNK
    assert loads(json.dumps(CHUNK).encode()) == CHUNK
    assert json.loads(dumps(CHUNK)) == CHUNK
    assert "olá ☃".encode() in dumps(CHUNK)  # UTF-8 as itself, compact
    assert b", " not in dumps(CHUNK) and b": " not in dumps(CHUNK)


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": 1e400}', '{"a": "\\ud800"}'])
def test_what_orjson_refuses_to_read_the_stdlib_reads(text: str) -> None:
    assert loads(text).keys() == {"a"}


def test_what_is_not_json_raises_the_stdlibs_error() -> None:
    with pytest.raises(json.JSONDecodeError, match="Expecting value: line 1 column 1"):
        loads("not json")
    with pytest.raises(ValueError):
        loads(b"\xff\xfe{}")


def test_what_orjson_refuses_to_write_the_stdlib_writes() -> None:
    assert json.loads(dumps({1: "int key"})) == {"1": "int key"}
    assert json.loads(dumps({"big": 2**70})) == {"big": 2**70}
    assert "é".encode() in dumps({1: "é"})


def test_default_turns_read_only_mappings_into_objects_and_the_rest_raises_type_error() -> None:
    def plain(value: object) -> object:
        if isinstance(value, MappingProxyType):
            return dict(value)
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    assert json.loads(dumps({"m": MappingProxyType({"k": 1})}, default=plain)) == {"m": {"k": 1}}
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        dumps({"s": {1}}, default=plain)
    assert math.isnan(loads(b'{"x": NaN}')["x"])
