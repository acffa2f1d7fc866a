"""Developer aid: one completion and one streamed completion with grok-code-fast-1 through llmcore.

    export GROK_API_KEY=...                   # from your secret store; never in a file
    export GROK_BASE_URL=https://api.x.ai/v1
    python demo/grok/test_grok_code_fast_1.py

It uses only the public API, prints the answer, the reasoning, usage, cost and every param
llmcore dropped. Not a pytest test (despite its name, kept for the people who know it by it).
"""
from __future__ import annotations

import os
import sys

import llmcore
from llmcore.errors import LLMCoreError

__test__ = False  # keep pytest from collecting this file

MODEL = "grok-code-fast-1"
HOW_TO_SET = {
    "GROK_API_KEY": "export GROK_API_KEY=<your xAI key from https://console.x.ai>",
    "GROK_BASE_URL": "export GROK_BASE_URL=https://api.x.ai/v1",
}
PROMPT = [
    {"role": "system", "content": "You are a concise coding assistant."},
    {"role": "user", "content": "Write a Python one-liner that reverses a string."},
]


def check_environment(env: dict[str, str]) -> str | None:
    """Why the demo cannot run, or None. Judged by llmcore itself, so the rules are the library's."""
    for name in HOW_TO_SET:
        if name not in env:
            return f"{name} is not set: {HOW_TO_SET[name]}"
    status = llmcore.load(env=env).registry.status(MODEL)
    if not status.available:
        return f"{status.reason} ({HOW_TO_SET['GROK_API_KEY']}; {HOW_TO_SET['GROK_BASE_URL']})"
    return None


def show_usage(label: str, usage: llmcore.Usage | None) -> None:
    if usage is None:
        print(f"{label} usage: not reported")
        return
    cost = f"${usage.cost_usd:.6f} ({usage.cost_source})" if usage.cost_usd is not None else "unknown"
    print(f"{label} usage: prompt {usage.prompt_tokens} (cached {usage.cached_tokens}), completion "
          f"{usage.completion_tokens}, reasoning {usage.reasoning_tokens}, total {usage.total_tokens}; cost {cost}")


def main() -> int:
    env = {name: os.environ[name] for name in HOW_TO_SET if name in os.environ}
    problem = check_environment(env)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    core = llmcore.load(env=env)
    try:
        # presence_penalty is here on purpose: xAI rejects it, llmcore drops it and says so.
        response = core.complete(MODEL, PROMPT, temperature=0.2, presence_penalty=0)
        print(f"answer ({response.model}): {response.content}")
        print(f"reasoning: {(response.reasoning_content or '')[:200]}")
        for adjustment in response.adjustments:
            print(f"dropped: {adjustment.param} ({adjustment.reason})")
        for warning in response.warnings:
            print(f"warning: {warning}")
        show_usage("completion", response.usage)

        with core.stream(MODEL, PROMPT) as session:
            print("stream: ", end="")
            for chunk in session:
                if chunk.reasoning_content:
                    print(f"\033[2m{chunk.reasoning_content}\033[0m", end="", flush=True)
                if chunk.content:
                    print(chunk.content, end="", flush=True)
            print()
        notes = " (" + "; ".join(session.warnings) + ")" if session.warnings else ""
        print(f"stream complete: {session.complete}{notes}")
        show_usage("stream", session.usage)
    except LLMCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0 if session.complete else 1


if __name__ == "__main__":
    sys.exit(main())
