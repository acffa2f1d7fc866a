"""Reading deploy/: the Kubernetes manifests as kustomize would render them, and the Dockerfile.

Only what tests/deploy needs, without kustomize or Docker (neither runs here): the kustomization's
resources, its ConfigMap generator (name and data; kustomize adds a content hash to the name and
rewrites the references, which changes nothing checked here), and strategic-merge patches for
the fields the Vault overlay touches: maps merge, lists of named items merge by their Kubernetes
merge key, and ``$patch: delete`` removes an item.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
DOCKERFILE = DEPLOY / "Dockerfile"

# The cluster versions docs/deploy.md names: the newest two that kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.36.0", "1.37.0")

# patchMergeKey of each list the patches touch (Kubernetes API reference, core/v1 PodSpec, Container).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "volumeMounts": "mountPath",
              "env": "name", "ports": "containerPort"}

Manifest = dict[str, Any]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def kustomization(directory: Path = KUBERNETES) -> dict[str, Any]:
    return load_yaml(directory / "kustomization.yaml")


def generated_config_maps(directory: Path = KUBERNETES) -> list[Manifest]:
    """The ConfigMaps the kustomization's ``configMapGenerator`` makes (``files:`` entries only)."""
    made = []
    for generator in kustomization(directory).get("configMapGenerator", []):
        data = {}
        for entry in generator["files"]:
            key, _, source = entry.rpartition("=")
            data[key or Path(source).name] = (directory / source).read_text(encoding="utf-8")
        made.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    return made


def render(directory: Path = KUBERNETES) -> list[Manifest]:
    """Every object ``kubectl apply -k directory`` would send (patches applied, generators run)."""
    spec = kustomization(directory)
    objects: list[Manifest] = []
    for resource in spec.get("resources", []):
        path = (directory / resource).resolve()
        if path.is_dir():
            objects += render(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    objects += generated_config_maps(directory)
    for patch in spec.get("patches", []):
        change = load_yaml(directory / patch["path"])
        target = find(objects, change["kind"], change["metadata"]["name"])
        objects[objects.index(target)] = strategic_merge(target, change)
    return objects


def find(objects: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    matches = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def strategic_merge(base: Any, patch: Any, field_name: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            merged[key] = strategic_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and field_name in MERGE_KEYS:
        key = MERGE_KEYS[field_name]
        merged_list = copy.deepcopy(base)
        for item in patch:
            index = next((i for i, old in enumerate(merged_list) if old.get(key) == item.get(key)), None)
            if item.get("$patch") == "delete":
                assert index is not None, f"$patch: delete of {field_name} {key}={item.get(key)} matches nothing"
                del merged_list[index]
            elif index is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return copy.deepcopy(patch)


def pod_spec(objects: list[Manifest]) -> dict[str, Any]:
    return find(objects, "Deployment")["spec"]["template"]["spec"]


def proxy_container(objects: list[Manifest]) -> dict[str, Any]:
    containers = pod_spec(objects)["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


# --- the Dockerfile ----------------------------------------------------------------------------------

def dockerfile_instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    pairs = []
    for line in logical:
        instruction, _, arguments = line.strip().partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def copy_sources(text: str | None = None) -> list[str]:
    """What each COPY takes from the build context (not ``--from=`` another stage)."""
    sources = []
    for instruction, arguments in dockerfile_instructions(text):
        if instruction != "COPY" or "--from=" in arguments:
            continue
        words = [w for w in arguments.split() if not w.startswith("--")]
        sources += words[:-1]
    return sources


def env_values(text: str | None = None) -> dict[str, str]:
    """Every ``ENV NAME=value`` of the final stage."""
    instructions = dockerfile_instructions(text)
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    values = {}
    for instruction, arguments in instructions[last_from:]:
        if instruction == "ENV":
            values.update(re.findall(r"(\w+)=(\S+)", arguments))
    return values
