"""``llmcore certify``: prove configured models against their real upstream, within a budget, with a report.

An application of the public API (``Core``), not part of the domain: the
checks send requests the way any service does and judge the answers.

- ``checks``: the seven checks, in order, with what each may cost;
- ``budget``: the estimate before a check and the running cost after it;
- ``runner``: narrows the config to one alias and runs the checks;
- ``report``: the JSON report (``report.schema.json``) and its Markdown twin;
- ``fake_upstream``: ``--upstream fake``, the shipped fake xAI server in-process;
- ``command``: the command without its click shell.

Importing this package imports no LiteLLM and no HTTP server.
"""
from __future__ import annotations

CHECK_IDS = ("plain", "stream", "reasoning", "dropped_params", "tool_call", "error_path", "served_model")
UPSTREAMS = ("configured", "fake")
DEFAULT_BUDGET_USD = 0.05

__all__ = ["CHECK_IDS", "DEFAULT_BUDGET_USD", "UPSTREAMS"]
