"""A fake Azure OpenAI chat-completions API on 127.0.0.1, speaking Azure's wire format.

``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` with an ``api-key``
header (or ``Authorization: Bearer`` for an Azure AD token). Answers are OpenAI chat completions
as Azure sends them: ``model`` is the underlying model, not the deployment name, with
``prompt_filter_results`` and per-choice ``content_filter_results``; a stream starts with
Azure's choice-less filter-results chunk and, when ``stream_options.include_usage`` is set, ends
with a usage chunk with empty ``choices``. Errors: 401 ``{"error": {"code": "401", "message":
"Access denied due to invalid subscription key..."}}``, 404 ``DeploymentNotFound``, 400 without
``api-version``. Shapes from learn.microsoft.com (Azure OpenAI REST reference).
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from llmcore.testing.fake_upstream import ErrorReply, FakeUpstream, json_body, record_of, send_sse

REPLY_TEXT = ("Olá", " do", " Azure!")
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
UNDERLYING_MODEL = "gpt-4o-mini-2024-07-18"
_FILTERS = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}


def azure_error(status: int, code: str, message: str) -> ErrorReply:
    """An error in Azure OpenAI's shape."""
    return ErrorReply(status, {"error": {"code": code, "message": message}})


class FakeAzureOpenAIServer(FakeUpstream):
    """The fake Azure OpenAI resource; serves ``deployments``, accepts only ``api_key`` (any key when None)."""

    name = "fake-azure"

    def __init__(self, api_key: str | None = None, *, deployments: tuple[str, ...] = ("gpt-4o-mini",),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_key = api_key
        self._deployments = deployments

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/openai/deployments/{deployment}/chat/completions", self._chat)]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        scripted = self.record(record_of(request, body or {}))
        problem = self._problem(request, body)
        if problem is not None:
            return web.json_response(problem.body, status=problem.status)
        if scripted is not None:
            return web.json_response(scripted.body, status=scripted.status, headers=scripted.headers)
        assert body is not None
        if body.get("stream") is True:
            return await send_sse(request, [(None, json.dumps(c)) for c in _chunks(body)] + [(None, "[DONE]")])
        return web.json_response({
            **_head("chat.completion"),
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTERS}],
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None, "content_filter_results": _FILTERS,
                         "message": {"role": "assistant", "content": "".join(REPLY_TEXT), "refusal": None}}],
            "usage": dict(USAGE),
        })

    def _problem(self, request: web.Request, body: dict[str, Any] | None) -> ErrorReply | None:
        key = request.headers.get("api-key")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or None
        sent = key or bearer
        if sent is None or (self._api_key is not None and sent != self._api_key):
            return azure_error(401, "401", "Access denied due to invalid subscription key or wrong API endpoint. "
                               "Make sure to provide a valid key for an active subscription and use a correct "
                               "regional API endpoint for your resource.")
        if not request.query.get("api-version"):
            return azure_error(404, "404", "Resource not found")
        if request.match_info["deployment"] not in self._deployments:
            return azure_error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
        if body is None or "messages" not in body:
            return azure_error(400, "BadRequest", "'messages' is a required property")
        return None


def _head(kind: str) -> dict[str, Any]:
    return {"id": "chatcmpl-FakeAzure", "object": kind, "created": 1_764_400_000, "model": UNDERLYING_MODEL,
            "system_fingerprint": "fp_fakeazure"}


def _chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = [{
        "choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTERS}],
    }]
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}] + [{"content": t} for t in REPLY_TEXT]
    for delta in deltas:
        chunks.append({**_head("chat.completion.chunk"), "choices": [
            {"index": 0, "delta": delta, "finish_reason": None, "logprobs": None, "content_filter_results": {}}]})
    chunks.append({**_head("chat.completion.chunk"), "choices": [
        {"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None, "content_filter_results": {}}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**_head("chat.completion.chunk"), "choices": [], "usage": dict(USAGE)})
    return chunks
