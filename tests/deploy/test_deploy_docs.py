"""docs/deploy.md's docker and kubectl commands name what deploy/ defines (neither runs here).

Each command of its bash blocks is read as a command line: files and directories it names exist,
and the image, Secret, Secret keys, Deployment and namespace it names are the ones the Dockerfile,
the manifests and the config use. tests/e2e/test_docs_commands.py sends these commands here.
"""
from __future__ import annotations

import re
import shlex

import pytest

from tests.deploy.manifests import KUBERNETES, ROOT, find, kustomization, pod_spec, render

DEPLOY_MD = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
BASE = render()


def commands() -> list[str]:
    found = []
    for body in re.findall(r"```bash\n(.*?)```", DEPLOY_MD, re.S):
        for line in body.replace("\\\n", " ").splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found


COMMANDS = commands()


def image_reference() -> str:
    image = kustomization()["images"][0]
    return f"{image['name']}:{image['newTag']}"


def test_the_docs_show_docker_and_kubectl_commands():
    assert any(c.startswith("docker build") for c in COMMANDS)
    assert any(c.startswith("kubectl apply -k") for c in COMMANDS)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("docker ")])
def test_docker_commands_build_and_run_the_described_image(command: str):
    argv = shlex.split(command)
    if argv[1] == "build":
        assert argv[argv.index("-f") + 1] == "deploy/Dockerfile" and argv[-1] == "."
        assert argv[argv.index("-t") + 1] == image_reference()
    elif argv[1] == "run":
        assert argv[-1] == image_reference()
        # The key is passed from the caller's environment by name, never as a value on the line.
        passed = [argv[i + 1] for i, word in enumerate(argv) if word == "-e"]
        assert all("=" not in p or not p.split("=")[0].endswith("KEY") for p in passed), passed
        assert "--read-only" in argv  # what the Deployment's readOnlyRootFilesystem also asks
        for mount in (argv[i + 1] for i, word in enumerate(argv) if word == "-v"):
            target = mount.split(":")[1]
            assert f"LLMCORE_CONFIG={target}" in argv
    else:
        assert argv[1] == "inspect" and "State.Health" in command


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith("kubectl ")])
def test_kubectl_commands_name_what_the_manifests_define(command: str):
    deployment = find(BASE, "Deployment")["metadata"]["name"]
    secret_volume = next(v["secret"] for v in pod_spec(BASE)["volumes"] if "secret" in v)
    config = (KUBERNETES / "llmcore.yaml").read_text(encoding="utf-8")
    for part in command.split(" | "):
        argv = shlex.split(part)  # `<(printf %s "$KEY")` splits into words too; only its name part is read
        if "-k" in argv:
            assert (ROOT / argv[argv.index("-k") + 1] / "kustomization.yaml").exists()
        for word in argv:
            if word.startswith("deployment/"):
                assert word == f"deployment/{deployment}"
        if "secret" in argv and "generic" in argv:
            assert argv[argv.index("generic") + 1] == secret_volume["secretName"]
            keys = [w.split("=")[1] for w in argv if w.startswith("--from-file=")]
            assert keys and all(f"file:/var/run/secrets/llmcore/{k}" in config for k in keys)
            assert not any(w.startswith("--from-literal") for w in argv), "a key on the command line"
        if "-n" in argv:
            assert argv[argv.index("-n") + 1] == "llmcore"
