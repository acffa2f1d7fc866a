"""``llmcore smoke``: the offline end-to-end run, with no network and no real key.

It starts the fake xAI server (real recorded grok-code-fast-1 answers) and the
proxy on ephemeral loopback ports, with a stub key built at run time; sends
one plain and one streamed request for ``grok-code-fast-1`` through the proxy
with the official ``openai`` client; then prints both answers, the log lines
the run produced and the ``llmcore_*`` metrics. Exit 0 when both worked.

The plain request carries ``presence_penalty=0``, which xAI refuses for
reasoning models: the log shows llmcore dropping it and the fake server's
record shows it never went upstream.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from llmcore.domain.secret import Secret

MODEL = "grok-code-fast-1"
PROMPT = [{"role": "user", "content": "Say hi in Portuguese."}]
REASONING_EXCERPT = 160
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")
LOOPBACK_HOSTS = "127.0.0.1,localhost"
CONFIG = """\
# Written by `llmcore smoke`: one Grok model, its key and base URL from the environment.
model_list:
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
"""


def run_smoke(out: TextIO = sys.stdout, json_output: bool = False) -> int:
    """Run the smoke test, print its report to ``out``; 0 when both requests worked, 1 otherwise."""
    from llmcore.adapters.log_setup import configure_logging, reset_logging
    from llmcore.adapters.litellm_runtime import own_process

    own_process()  # smoke runs as its own process (llmcore smoke): LiteLLM offline and quiet process-wide
    stub_key = "xai-smoke-" + secrets.token_hex(8)
    log_lines: list[str] = []
    configure_logging(level="INFO", json=json_output, secrets=[stub_key], sink=log_lines.append)
    saved_no_proxy = {name: os.environ.get(name) for name in NO_PROXY_VARS}
    try:
        _bypass_proxies_for_loopback()
        report = _run(stub_key)
    finally:
        _restore(saved_no_proxy)
        reset_logging()
    report["logs"] = [json.loads(line) for line in log_lines] if json_output else [
        line.rstrip("\n") for line in log_lines]
    if json_output:
        out.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        _print_report(report, out)
    return 0 if report["ok"] else 1


def _bypass_proxies_for_loopback() -> None:
    """An HTTP(S)_PROXY in the environment must not carry the run's loopback traffic (LiteLLM honours it)."""
    for name in NO_PROXY_VARS:
        current = os.environ.get(name, "")
        os.environ[name] = ",".join(filter(None, [current, LOOPBACK_HOSTS]))


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _run(stub_key: str) -> dict[str, Any]:
    import httpx
    import openai

    from llmcore.bootstrap import build_runtime
    from llmcore.entrypoints.proxy_thread import BackgroundProxy
    from llmcore.testing.fake_xai import FakeXAIServer

    report: dict[str, Any] = {"ok": False, "stub_key": Secret(stub_key).mask, "requests": {}, "metrics": []}
    with tempfile.TemporaryDirectory(prefix="llmcore-smoke-") as workdir, FakeXAIServer(api_key=stub_key) as fake:
        config = Path(workdir) / "llmcore.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        env = {"GROK_API_KEY": stub_key, "GROK_BASE_URL": fake.base_url}
        runtime = build_runtime(config, env)
        # trust_env=False: a proxy set in the environment must not see loopback traffic.
        with BackgroundProxy(runtime) as proxy, httpx.Client(trust_env=False, timeout=30) as http, \
                openai.OpenAI(base_url=proxy.base_url, api_key="smoke-client", max_retries=0,
                              http_client=openai.DefaultHttpxClient(trust_env=False, timeout=60)) as client:
            report.update(fake_url=fake.base_url, proxy_url=proxy.base_url)
            report["health"] = http.get(f"{proxy.url}/health").json()
            report["requests"]["plain"] = _attempt(lambda: _plain(client, fake))
            report["requests"]["stream"] = _attempt(lambda: _streamed(client))
            metrics = http.get(f"{proxy.url}/metrics").text
            report["metrics"] = [line for line in metrics.splitlines() if _shown_metric(line)]
    report["ok"] = all(r.get("ok") for r in report["requests"].values())
    return report


def _shown_metric(line: str) -> bool:
    """llmcore_* samples without histogram buckets and creation timestamps (count and sum stay)."""
    name = line.split("{", 1)[0].split(" ", 1)[0]
    return name.startswith("llmcore_") and not name.endswith(("_bucket", "_created"))


def _attempt(request: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"ok": True, **request()}
    except Exception as exc:  # the report says what failed; the exit code says that something did
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _usage(usage: Any) -> dict[str, Any]:
    details = usage.completion_tokens_details
    cached = usage.prompt_tokens_details
    return {
        "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": cached.cached_tokens if cached else 0,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": details.reasoning_tokens if details else 0,
        "total_tokens": usage.total_tokens,
        "cost_usd": (usage.model_extra or {}).get("cost_usd"),
    }


def _plain(client: Any, fake: Any) -> dict[str, Any]:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=PROMPT, presence_penalty=0)
    completion = raw.parse()
    message = completion.choices[0].message
    sent_upstream = fake.requests[-1].body_keys if fake.requests else ()
    return {
        "content": message.content,
        "reasoning": getattr(message, "reasoning_content", None) or "",
        "finish_reason": completion.choices[0].finish_reason,
        "usage": _usage(completion.usage),
        "request_id": raw.headers.get("x-request-id"),
        "overhead_ms": raw.headers.get("x-llmcore-overhead-ms"),
        "sent_presence_penalty": True,
        "presence_penalty_reached_upstream": "presence_penalty" in sent_upstream,
    }


def _streamed(client: Any) -> dict[str, Any]:
    content: list[str] = []
    reasoning: list[str] = []
    usage = None
    finish_reason = None
    chunks = 0
    stream = client.chat.completions.create(model=MODEL, messages=PROMPT, stream=True,
                                            stream_options={"include_usage": True})
    with stream:
        for chunk in stream:
            chunks += 1
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                content.append(choice.delta.content or "")
                reasoning.append(getattr(choice.delta, "reasoning_content", None) or "")
                finish_reason = choice.finish_reason or finish_reason
    if usage is None or finish_reason is None:
        raise RuntimeError(f"the stream ended without {'usage' if usage is None else 'a finish reason'}")
    return {"content": "".join(content), "reasoning": "".join(reasoning), "finish_reason": finish_reason,
            "usage": _usage(usage), "chunks": chunks}


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= REASONING_EXCERPT else flat[:REASONING_EXCERPT] + "…"


def _print_report(report: dict[str, Any], out: TextIO) -> None:
    write = out.write
    write("llmcore smoke: offline end-to-end run (no network, no real key)\n")
    write(f"  fake xAI server  {report.get('fake_url', '-')}\n")
    write(f"  llmcore proxy    {report.get('proxy_url', '-')}  /health: {report.get('health', '-')}\n")
    write(f"  stub key         {report['stub_key']} (built for this run)\n\n")
    titles = {"plain": "1. Plain request (sent presence_penalty=0, which xAI refuses)",
              "stream": "2. Streamed request (stream_options.include_usage)"}
    for name, title in titles.items():
        result = report["requests"].get(name, {"ok": False, "error": "not run"})
        write(f"{title}: {'OK' if result['ok'] else 'FAILED'}\n")
        if not result["ok"]:
            write(f"   error:      {result['error']}\n\n")
            continue
        usage = result["usage"]
        cost = "unknown" if usage["cost_usd"] is None else f"${usage['cost_usd']:.6f}"
        write(f"   content:    {result['content']!r}\n")
        write(f"   reasoning:  {_excerpt(result['reasoning'])!r}\n")
        write(f"   usage:      prompt {usage['prompt_tokens']} (cached {usage['cached_tokens']}), completion "
              f"{usage['completion_tokens']} (of which reasoning {usage['reasoning_tokens']}), total "
              f"{usage['total_tokens']}, cost {cost}\n")
        write(f"   finish:     {result['finish_reason']}\n")
        if name == "plain":
            reached = "yes (NOT dropped)" if result["presence_penalty_reached_upstream"] else "no: dropped by llmcore"
            write(f"   presence_penalty reached xAI: {reached}\n")
            write(f"   request id: {result['request_id']}, proxy overhead {result['overhead_ms']} ms\n")
        else:
            write(f"   chunks:     {result['chunks']}\n")
        write("\n")
    write(f"Log lines ({len(report['logs'])}):\n")
    for line in report["logs"]:
        write(f"   {line}\n")
    write("\nMetrics (llmcore_* samples, histogram buckets left out; GET /metrics has them all):\n")
    for line in report["metrics"]:
        write(f"   {line}\n")
    write(f"\nResult: {'OK: both requests worked' if report['ok'] else 'FAILED'}\n")


if __name__ == "__main__":
    sys.exit(run_smoke(json_output="--json" in sys.argv[1:]))
