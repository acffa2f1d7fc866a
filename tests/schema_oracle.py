"""OpenAI's published response schemas as a test oracle (tests/data/openapi/, see SOURCE.md there).

    validate(document, "CreateChatCompletionResponse")   # raises jsonschema.ValidationError

Every body the proxy returns is checked with this: a field the schema requires
is present, none has the wrong type. The shapes validated are counted in
``VALIDATED`` (schema name -> number of documents) for the suite's summary.
"""
from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).parent / "data" / "openapi" / "schemas.json"
ROOT_URI = "urn:openai-openapi"
VALIDATED: Counter[str] = Counter()


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema (``anyOf`` with null); everything else as it is."""
    if isinstance(node, dict):
        converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
        if node.get("nullable") is True:
            return {"anyOf": [converted, {"type": "null"}]}
        return converted
    if isinstance(node, list):
        return [json_schema(value) for value in node]
    return node


@functools.cache
def _registry() -> Registry:
    document = json.loads(SCHEMAS.read_text("utf-8"))
    root = {"components": {"schemas": json_schema(document["schemas"])}}
    return Registry().with_resource(ROOT_URI, Resource.from_contents(root, default_specification=DRAFT202012))


@functools.cache
def validator(name: str) -> Draft202012Validator:
    schema = {"$ref": f"{ROOT_URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=_registry())


def validate(document: Any, name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` is a valid ``name`` (a components.schemas key)."""
    validator(name).validate(document)
    VALIDATED[name] += 1
