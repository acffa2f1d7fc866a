"""deploy/kubernetes/ is valid Kubernetes, consistent with itself, and agrees with the proxy's code.

Offline: kubernetes-validate's bundled schemas for the cluster versions docs/deploy.md names, and
the base and the Vault overlay as ``kubectl apply -k`` would render them (tests/deploy/manifests.py).
"""
from __future__ import annotations

import copy
import inspect
import re
from pathlib import Path

import kubernetes_validate
import pytest

from llmcore.entrypoints import proxy
from tests.deploy.manifests import (
    KUBERNETES, KUBERNETES_VERSIONS, ROOT, env_of, find, kustomization, load_yaml, pod_spec, proxy_container, render,
)

BASE = render()
VAULT = render(KUBERNETES / "vault")
SELECTOR = {"app.kubernetes.io/name": "llmcore", "app.kubernetes.io/component": "proxy"}


def validation_cases() -> list[object]:
    return [pytest.param(obj, version, id=f"{label}-{obj['kind']}-{version}")
            for label, objects in (("base", BASE), ("vault", VAULT)) for obj in objects
            for version in KUBERNETES_VERSIONS]


@pytest.mark.parametrize(("manifest", "version"), validation_cases())
def test_every_rendered_object_is_valid_for_the_named_cluster_versions(manifest, version):
    kubernetes_validate.validate(manifest, version, strict=True)


def test_strict_validation_rejects_a_misspelt_field():
    """The check above can fail: a typo that kubectl would drop silently is an error here."""
    broken = copy.deepcopy(find(BASE, "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_docs_name_the_validated_cluster_versions():
    deploy_md = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for version in KUBERNETES_VERSIONS:
        assert re.search(rf"\b{re.escape(version.rsplit('.', 1)[0])}\b", deploy_md), version
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"for version in {' '.join(KUBERNETES_VERSIONS)}; do" in ci


@pytest.mark.parametrize("directory", [KUBERNETES, KUBERNETES / "vault"], ids=["base", "vault"])
def test_everything_a_kustomization_names_exists(directory: Path):
    spec = kustomization(directory)
    named = [*spec.get("resources", []), *(p["path"] for p in spec.get("patches", [])),
             *(f.rpartition("=")[2] for g in spec.get("configMapGenerator", []) for f in g["files"])]
    assert named
    for item in named:
        assert (directory / item).exists(), f"{directory.relative_to(ROOT)}/kustomization.yaml names missing {item}"


def test_every_manifest_file_is_in_the_kustomization():
    listed = set(kustomization()["resources"]) | {"kustomization.yaml", "llmcore.yaml"}
    assert {p.name for p in KUBERNETES.glob("*.yaml")} == listed


def test_labels_and_selectors_agree():
    deployment = find(BASE, "Deployment")
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == SELECTOR
    assert SELECTOR.items() <= template_labels.items()
    assert find(BASE, "Service")["spec"]["selector"] == SELECTOR
    assert find(BASE, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == SELECTOR
    for spread in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]:
        assert spread["labelSelector"]["matchLabels"] == SELECTOR
    target = find(BASE, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count; an apply must not reset it"


def test_the_pod_mounts_what_it_references():
    spec = pod_spec(BASE)
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in proxy_container(BASE)["volumeMounts"]}
    assert set(mounts) == set(volumes)
    config_map = find(BASE, "ConfigMap")
    assert volumes["config"]["configMap"]["name"] == config_map["metadata"]["name"]
    config_path = Path(env_of(proxy_container(BASE))["LLMCORE_CONFIG"])
    assert str(config_path.parent) == mounts["config"] and config_path.name in config_map["data"]
    assert spec["serviceAccountName"] == find(BASE, "ServiceAccount")["metadata"]["name"]
    # Every file: reference in the config lies under the secret mount, and /tmp is writable.
    references = re.findall(r"file:(\S+)", config_map["data"]["llmcore.yaml"])
    assert references and all(Path(r).parent == Path(mounts["keys"]) for r in references)
    assert mounts["tmp"] == "/tmp" and "emptyDir" in volumes["tmp"]


def test_the_pod_is_locked_down():
    spec = pod_spec(BASE)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["automountServiceAccountToken"] is False
    container = proxy_container(BASE)["securityContext"]
    assert container == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                         "capabilities": {"drop": ["ALL"]}}


def test_probes_and_port_are_what_the_proxy_serves():
    app = proxy.create_app(_catalog_runtime())
    served = {r.resource.canonical for r in app.router.routes() if r.method == "GET"}
    container = proxy_container(BASE)
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health" in served
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/readiness" in served
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
    assert int(env_of(container)["LLMCORE_PORT"]) == port
    service_port = find(BASE, "Service")["spec"]["ports"][0]
    assert service_port["targetPort"] == "http" and service_port["port"] == port
    annotations = find(BASE, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] in served


def test_the_grace_period_covers_the_prestop_sleep_and_the_proxys_drain():
    drain = inspect.signature(proxy.run).parameters["grace_seconds"].default
    spec = pod_spec(BASE)
    command = proxy_container(BASE)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    assert pre_stop >= 3, "endpoint removal needs a few seconds to reach every kube-proxy"
    assert spec["terminationGracePeriodSeconds"] >= pre_stop + drain + 2


def cpu_cores(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def mebibytes(quantity: str) -> float:
    return float(quantity.removesuffix("Mi")) if quantity.endswith("Mi") else float(quantity.removesuffix("Gi")) * 1024


def test_resources_are_sized_per_worker():
    """LLMCORE_WORKERS is a count `llmcore proxy --workers` takes; CPU is 500m requested and at most one
    core per worker (one worker runs Python on one core); memory covers the master plus each worker."""
    from llmcore.entrypoints.proxy_options import parse_workers

    container = proxy_container(BASE)
    workers = parse_workers(env_of(container)["LLMCORE_WORKERS"])
    assert workers >= 2, "the example runs several workers per pod"
    resources = container["resources"]
    assert cpu_cores(resources["requests"]["cpu"]) == 0.5 * workers
    assert cpu_cores(resources["limits"]["cpu"]) == 1.0 * workers
    # docs/performance.md, "Workers": the master's PSS ~93 MiB, each worker's ~145 MiB after load.
    assert mebibytes(resources["requests"]["memory"]) >= 1.27 * (93 + 145 * workers)
    assert mebibytes(resources["limits"]["memory"]) >= 2 * (93 + 145 * workers)


def test_the_vault_overlay_replaces_the_secret_volume_with_the_injector():
    spec = pod_spec(VAULT)
    annotations = find(VAULT, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["vault.hashicorp.com/agent-inject"] == "true"
    assert "keys" not in {v["name"] for v in spec["volumes"]}
    assert "/var/run/secrets/llmcore" not in {m["mountPath"] for m in proxy_container(VAULT)["volumeMounts"]}
    config = find(VAULT, "ConfigMap")["data"]["llmcore.yaml"]
    for name in re.findall(r"file:/var/run/secrets/llmcore/(\S+)", config):
        assert annotations[f"vault.hashicorp.com/secret-volume-path-{name}"] == "/var/run/secrets/llmcore"
        assert f"vault.hashicorp.com/agent-inject-template-{name}" in annotations
    assert spec["automountServiceAccountToken"] is True  # the agent logs in with the pod's token


def test_the_config_map_is_in_the_litellm_schema():
    config = load_yaml(KUBERNETES / "llmcore.yaml")
    assert set(config) <= {"model_list", "litellm_settings", "general_settings", "router_settings"}
    grok = config["model_list"][0]
    assert grok["model_name"] == "grok-code-fast-1"
    assert grok["litellm_params"]["api_key"] == "file:/var/run/secrets/llmcore/grok-api-key"


def _catalog_runtime():
    from llmcore.bootstrap import build_runtime

    return build_runtime(None, env={})
