"""Extract the response schemas llmcore's proxy must honour from OpenAI's openapi.yaml.

Usage: ``python tests/data/openapi/extract.py /path/to/openapi.yaml`` rewrites
``schemas.json`` beside this script: the named roots below and every schema they
reference (the transitive closure of their ``$ref``s into ``components.schemas``),
unchanged. The full spec is 2.9 MB; the extract keeps CI independent of paths
outside the clone. SOURCE.md says which commit the extract came from.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = (
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ListModelsResponse",
    "ErrorResponse",
    # The Responses API (POST /v1/responses): the response object and every stream event.
    "Response",
    "ResponseStreamEvent",
)
PREFIX = "#/components/schemas/"


def references(node: Any) -> set[str]:
    """Every schema name ``node`` points at with a ``$ref``."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PREFIX):
            found.add(ref[len(PREFIX):])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    wanted, pending = {}, list(ROOTS)
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        wanted[name] = schemas[name]
        pending.extend(sorted(references(schemas[name]) - set(wanted)))
    return {"openapi": spec["openapi"], "info_version": spec["info"]["version"],
            "roots": list(ROOTS), "schemas": dict(sorted(wanted.items()))}


def main(argv: list[str]) -> int:
    source = Path(argv[1])
    spec = yaml.safe_load(source.read_text("utf-8"))
    target = Path(__file__).with_name("schemas.json")
    target.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {target} ({len(extract(spec)['schemas'])} schemas)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
