"""Every legal SSE form from the upstream reaches an OpenAI client through the proxy whole (FIELD-REPORTS F1)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmcore.testing.fake_xai import Fault
from tests.e2e.wire_deployment import GENERIC, WireDeployment, wire_deployment
from tests.schema_oracle import validate
from tests.sse_forms import SSE_FORMS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WireDeployment]:
    with wire_deployment(tmp_path_factory.mktemp("sse-forms")) as running:
        yield running


@pytest.mark.parametrize("form", sorted(SSE_FORMS))
def test_the_openai_client_receives_the_whole_answer(deployment: WireDeployment, form: str) -> None:
    deployment.generic.script(Fault.status(200, SSE_FORMS[form], "text/event-stream"))
    with deployment.client().chat.completions.stream(model=GENERIC, messages=HI) as stream:
        final = stream.get_final_completion()
    assert (final.choices[0].message.content, final.choices[0].finish_reason) == ("Hello world", "stop")


@pytest.mark.parametrize("form", sorted(SSE_FORMS))
def test_the_relayed_chunks_are_plain_schema_valid_sse(deployment: WireDeployment, form: str) -> None:
    deployment.generic.script(Fault.status(200, SSE_FORMS[form], "text/event-stream"))
    chunks = deployment.sse({"model": GENERIC, "messages": HI})
    for chunk in chunks:
        validate(chunk, "CreateChatCompletionStreamResponse")
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello world"
