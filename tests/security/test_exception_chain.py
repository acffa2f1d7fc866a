"""An upstream that quotes the key back must not put it in the traceback of the error llmcore raises.

Regression: the UpstreamError's own text was masked, but it is raised ``from``
LiteLLM's exception, which (with the OpenAI SDK's beneath it) quoted the
upstream's error body verbatim. ``traceback.format_exception``, a host's
``logging.exception`` and a host's loguru sink all print the chain, so the
key was printed too. The boundary now masks the chained exceptions' text.
"""
from __future__ import annotations

import io
import json
import logging
import secrets
import traceback
from collections.abc import Iterator

import pytest
from loguru import logger

from llmcore.bootstrap import build
from llmcore.domain.core import Core
from llmcore.domain.secret import Secret
from llmcore.errors import UpstreamError
from llmcore.testing.fake_xai import FakeXAIServer, Fault

KEY_SHAPED = "xai-canary-"  # masked by shape as well as by name
NOT_KEY_SHAPED = "partner-canary-"  # only the model's own key list can mask it

ENTRY = """\
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_key: os.environ/M_API_KEY
      api_base: os.environ/M_BASE_URL
      max_retries: 0
"""


@pytest.fixture(scope="module", params=[KEY_SHAPED, NOT_KEY_SHAPED])
def key(request: pytest.FixtureRequest) -> str:
    return str(request.param) + secrets.token_hex(12)


@pytest.fixture(scope="module")
def upstream(key: str) -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=key) as server:
        yield server


@pytest.fixture(scope="module")
def core(upstream: FakeXAIServer, key: str, tmp_path_factory: pytest.TempPathFactory) -> Core:
    config = tmp_path_factory.mktemp("chain") / "llmcore.yaml"
    config.write_text(ENTRY, "utf-8")
    return build(config, {"M_API_KEY": key, "M_BASE_URL": upstream.base_url})


def echoing(status: int, key: str) -> Fault:
    return Fault.status(status, json.dumps({"error": {"message": f"refused for {key}", "type": "x"}}))


def raised(core: Core, stream: bool) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        if stream:
            with core.stream("m", [{"role": "user", "content": "hi"}]) as session:
                list(session)
        else:
            core.complete("m", [{"role": "user", "content": "hi"}])
    return caught.value


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 503])
def test_the_traceback_of_an_upstream_error_never_shows_an_echoed_key(
    core: Core, upstream: FakeXAIServer, key: str, status: int, stream: bool,
) -> None:
    upstream.script(echoing(status, key))
    error = raised(core, stream)

    printed = "".join(traceback.format_exception(error))
    assert error.__cause__ is not None and "refused for" in printed  # the chain is still there, for debugging
    assert key not in printed and key[:12] not in printed
    assert Secret(key).mask in printed

    host_log = io.StringIO()
    host = logging.getLogger(f"host-{secrets.token_hex(4)}")
    host.addHandler(logging.StreamHandler(host_log))
    host.propagate = False
    loguru_log = io.StringIO()
    # diagnose=True would print LiteLLM's frame locals, raw kwargs and key included: loguru's docs say never
    # in production, and no masking of text can help there. The chain's text is what must be clean.
    sink = logger.add(loguru_log, diagnose=False)
    try:
        host.exception("llm call failed", exc_info=error)
        logger.opt(exception=error).error("llm call failed")
    finally:
        logger.remove(sink)
    assert "Traceback" in host_log.getvalue() and "Traceback" in loguru_log.getvalue()
    assert key[:12] not in host_log.getvalue()
    assert key[:12] not in loguru_log.getvalue()


def test_mask_chain_masks_args_and_messages_along_causes_and_contexts() -> None:
    from llmcore.adapters.litellm_errors import mask_chain  # imports LiteLLM's error table module, not LiteLLM

    key = NOT_KEY_SHAPED + secrets.token_hex(12)
    shaped = KEY_SHAPED + secrets.token_hex(12)

    class WithMessage(Exception):
        def __init__(self, message: str) -> None:
            self.message = message
            super().__init__(message)

        def __str__(self) -> str:
            return self.message

    try:
        try:
            try:
                raise OSError(f"connect failed for {shaped}")
            except OSError as low:
                raise WithMessage(f"Error code: 500 - {key}") from low
        except WithMessage:
            raise RuntimeError("wrapper", {"kept": "as is"}) from None
    except RuntimeError as top:
        outer = top

    mask_chain(outer, [Secret(key)])

    printed = "".join(traceback.format_exception(outer.__context__))  # type: ignore[arg-type]
    assert key not in printed and shaped not in printed
    assert Secret(key).mask in printed and Secret(shaped).mask in printed
    assert outer.args == ("wrapper", {"kept": "as is"})


def test_mask_chain_without_known_secrets_still_masks_anything_key_shaped() -> None:
    from llmcore.adapters.litellm_errors import mask_chain

    shaped = KEY_SHAPED + secrets.token_hex(12)
    error = ValueError(f"Authorization: Bearer {shaped}")
    mask_chain(error)
    assert shaped not in str(error) and Secret(shaped).mask in str(error)
