"""``llmcore certify ALIAS...`` end to end, minus click: refuse, start the fake if asked, certify, report.

Every alias is judged before anything is sent (unknown, unavailable for its
key or base URL, no prices: an LLMCoreError the CLI answers with exit 2), and
none of that imports LiteLLM; the Core, and with it LiteLLM, is built only
for an alias about to be certified.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.certify.report import document, terminal_lines, write_reports
from llmcore.certify.runner import Subject, Upstream, certify, subject_for
from llmcore.domain.core import Core
from llmcore.domain.errors import ConfigError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.registry import ModelRegistry
from llmcore.domain.secret import Secret

EXIT_OK, EXIT_FAILED = 0, 1


def warm_up_adapter() -> None:
    """Load the completion adapter's heavy parts (LiteLLM: ~3 s) before check 1, so its latency is the request's."""
    from llmcore.bootstrap import default_completion

    warm_up = getattr(default_completion(), "warm_up", None)
    if warm_up is not None:
        warm_up()


@contextmanager
def _prepared(
    config: LoadedConfig, alias: str, environment: str | None, upstream: Upstream, fake_fault: str | None,
) -> Iterator[tuple[Subject, Callable[[str], None], list[Secret]]]:
    """The alias ready to run, the hook called before each check, and any key made up for the run."""
    if upstream == "configured":
        yield subject_for(config, alias, environment), lambda check_id: None, []
        return
    from llmcore.certify.fake_upstream import fake_upstream

    spec = ModelRegistry(config.specs, environment=environment).spec(alias)
    with fake_upstream(spec, fake_fault) as fake:
        yield subject_for(config, alias, environment, point=fake.point), fake.before_check, [fake.key]


def _check_fake_routes(config: LoadedConfig, aliases: Sequence[str], environment: str | None) -> None:
    from llmcore.certify.fake_upstream import FAKE_ROUTES

    registry = ModelRegistry(config.specs, environment=environment)
    for alias in aliases:
        spec: ModelSpec = registry.spec(alias)
        if spec.route not in FAKE_ROUTES:
            raise ConfigError(f"{alias}: --upstream fake serves xAI's OpenAI-compatible API only; this model "
                              f"routes as {spec.litellm_model}", config.source)


def run(
    *, config: LoadedConfig, env: Mapping[str, str], aliases: Sequence[str], budget_usd: float,
    out_dir: Path | None, upstream: Upstream, fake_fault: str | None,
    build_core: Callable[[LoadedConfig], Core], start_logging: Callable[[Sequence[Secret | str]], None],
    echo: Callable[[str], None], json_output: bool = False, warm_up: Callable[[], None] = warm_up_adapter,
) -> int:
    """Certify each alias in turn; 0 when every check of every alias passed, 1 otherwise (LLMCoreError: refused)."""
    environment = env.get("LLMCORE_ENV") or None
    if upstream == "configured":
        for alias in aliases:  # refuse at once, before the first paid request
            subject_for(config, alias, environment)
    else:
        _check_fake_routes(config, aliases, environment)
    code = EXIT_OK
    documents = []
    for alias in aliases:
        with _prepared(config, alias, environment, upstream, fake_fault) as (subject, before_check, made_up):
            secrets: list[Secret | str] = [*config.secrets(), *made_up]
            start_logging(secrets)
            with build_core(subject.config) as core:
                run_of_alias = certify(subject, core, budget_usd=budget_usd, upstream=upstream,
                                       before_check=before_check, warm_up=warm_up)
        doc = document(run_of_alias, secrets)
        documents.append(doc)
        if not json_output:
            for line in terminal_lines(doc):
                echo(line)
        if out_dir is not None:
            json_path, md_path = write_reports(doc, out_dir)
            if not json_output:
                echo(f"reports: {json_path} and {md_path}")
        if doc["result"] != "passed":
            code = EXIT_FAILED
    if json_output:
        echo(json.dumps(documents, indent=2, ensure_ascii=False))
    return code
