"""Canaries for every new credential: Anthropic and Azure keys, an Azure AD token, AWS secrets in secret_params.

Each canary is made at run time. None may appear in ``config check`` (text and ``--json``, run as
a subprocess at trace level), in a repr, in an error an upstream echoed the credential into, in
the proxy's answers, or in the logs; and no upstream may receive another provider's credential.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import openai
import pytest
from loguru import logger

from llmcore.adapters.litellm_errors import Translation, translate
from llmcore.bootstrap import build_runtime
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_anthropic import FakeAnthropicServer, anthropic_error
from llmcore.testing.fake_azure import FakeAzureOpenAIServer, azure_error

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

PARTIAL = 12
HELLO = [{"role": "user", "content": "hi"}]
CONFIG = """\
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, max_retries: 0}
  - model_name: azure-ad
    litellm_params: {model: azure/gpt-4o-mini, max_retries: 0}
  - model_name: claude-broken
    litellm_params: {model: anthropic/claude-haiku-4-5, api_key: os.environ/BROKEN_ANTHROPIC_KEY}
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""


def canary(prefix: str) -> str:
    return f"{prefix}-canary-{secrets.token_hex(12)}"


def assert_clean(text: str, *values: str) -> None:
    for value in values:
        assert value[:PARTIAL] not in text, f"a canary ({value[:4]}...) leaked"


@pytest.fixture
def keys() -> dict[str, str]:
    return {name: canary(prefix) for name, prefix in (
        ("ANTHROPIC_API_KEY", "sk-ant"), ("AZURE_AD_TOKEN", "aad"), ("BROKEN_ANTHROPIC_KEY", "brk"),
        ("LLMCORE_MASTER_KEY", "mk"), ("OPENAI_API_KEY", "sk"), ("AZURE_OPENAI_API_KEY_UNUSED", "az"))}


def test_config_check_text_and_json_show_sources_never_values(tmp_path: Path, keys: dict[str, str]) -> None:
    config = tmp_path / "llmcore.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **keys, "AZURE_API_BASE": "https://r.example",
           "BROKEN_ANTHROPIC_KEY": keys["BROKEN_ANTHROPIC_KEY"] + "\n"}
    outputs = []
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "llmcore.entrypoints.cli", "--log-level", "trace", "--config", str(config),
             "config", "check", *extra],
            env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    assert "env ANTHROPIC_API_KEY" in text and "azure_ad_token (env AZURE_AD_TOKEN)" in text
    assert "contains whitespace" in text
    assert_clean(text, *keys.values())


def test_secret_params_are_masked_in_reprs_and_in_upstream_echoes() -> None:
    aws = canary("aws")
    spec = ModelSpec(alias="b", upstream_model="anthropic.claude", provider="bedrock", route="bedrock",
                     credentials=Credentials(key_required=False, base_url_required=False),
                     provider_params={"aws_region_name": "eu-west-1"},
                     secret_params={"aws_secret_access_key": Secret(aws)})
    assert_clean(repr(spec) + str(spec), aws)
    echoed = RuntimeError(f"The security token {aws} included in the request is invalid")
    error = translate(echoed, Translation(spec))
    assert_clean(str(error) + repr(error) + str(error.upstream_text), aws)


def test_the_proxy_masks_provider_credentials_an_upstream_echoes(keys: dict[str, str]) -> None:
    sink: list[str] = []
    with FakeAnthropicServer(api_key=keys["ANTHROPIC_API_KEY"]) as anthropic, \
            FakeAzureOpenAIServer(api_key=keys["AZURE_AD_TOKEN"]) as azure, \
            _tmp_config() as config:
        env = {**keys, "ANTHROPIC_BASE_URL": anthropic.url, "AZURE_API_BASE": azure.url,
               "AZURE_API_VERSION": "2024-10-21"}
        anthropic.script(*[anthropic_error(400, "invalid_request_error",
                                           f"key {keys['ANTHROPIC_API_KEY']} rejected")] * 2)
        azure.script(*[azure_error(400, "BadRequest", f"token {keys['AZURE_AD_TOKEN']} is malformed")] * 2)
        runtime = build_runtime(config, env)
        logger.enable("llmcore")
        sink_id = logger.add(sink.append, level="TRACE", format="{message} {extra}")
        try:
            with BackgroundProxy(runtime) as proxy, httpx.Client(trust_env=False, timeout=30) as http:
                headers = {"Authorization": f"Bearer {keys['LLMCORE_MASTER_KEY']}"}
                answers = [http.post(f"{proxy.base_url}/chat/completions", headers=headers,
                                     json={"model": model, "messages": HELLO, "stream": stream})
                           for model in ("claude", "azure-ad") for stream in (False, True)]
                answers.append(http.get(f"{proxy.url}/health/readiness", headers=headers))
                client = openai.OpenAI(base_url=proxy.base_url, api_key=keys["LLMCORE_MASTER_KEY"], max_retries=0,
                                       http_client=openai.DefaultHttpxClient(trust_env=False))
                with client:
                    assert client.chat.completions.create(model="azure-ad", messages=HELLO).choices[0].message.content
        finally:
            logger.remove(sink_id)
            logger.disable("llmcore")
    assert [a.status_code for a in answers[:4]] == [400, 400, 400, 400]
    text = "\n".join(a.text + json.dumps(dict(a.headers)) for a in answers) + "\n".join(sink)
    assert "Anthropic rejected the request" in text and "Azure OpenAI rejected the request" in text
    assert_clean(text, *keys.values())
    # The Azure AD token went to Azure as a bearer token, and only there; Anthropic saw only its key.
    assert {tuple(r.credential_tails.items()) for r in azure.requests} == {
        (("authorization", keys["AZURE_AD_TOKEN"][-4:]),)}
    assert {tuple(r.credential_tails.items()) for r in anthropic.requests} == {
        (("x-api-key", keys["ANTHROPIC_API_KEY"][-4:]),)}


class _tmp_config:
    def __enter__(self) -> Path:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "llmcore.yaml"
        path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
        return path

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()
