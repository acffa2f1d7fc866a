"""What llmcore knows about one configured model: the value every service reads."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

from attrs import field, frozen

from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.ranges import count, non_negative, optional, positive, positive_count
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices, UsageConvention


# The completion adapters a model may be served by (Decision 18): LiteLLM (every provider) or the
# native OpenAI-compatible fast path.
AdapterName = Literal["litellm", "native"]
ADAPTERS: tuple[AdapterName, ...] = ("litellm", "native")


@frozen(kw_only=True)
class Capabilities:
    """What the model accepts; the param policy and the CLI read these flags, never provider names."""

    streaming: bool = True
    reasoning: bool = False
    tools: bool = True
    tool_choice: bool = True
    response_format: bool = True
    vision: bool = False
    max_input_tokens: int | None = field(default=None, validator=optional(positive_count))
    max_output_tokens: int | None = field(default=None, validator=optional(positive_count))


@frozen(kw_only=True)
class ParamRules:
    """How request params are fitted to the model.

    ``drop`` lists params the upstream rejects (dropped, or refused when
    ``drop_params`` is off), ``reasons`` says why for the log; ``rename`` maps a param to the name the upstream
    takes; ``strip_name_from_non_user`` removes ``name`` from messages whose
    role is not ``user`` (xAI answers 400 to those).
    """

    drop: tuple[str, ...] = field(default=(), converter=tuple[str, ...])
    reasons: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    rename: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    strip_name_from_non_user: bool = False
    drop_params: bool = True


@frozen(kw_only=True)
class RetryPolicy:
    """Retries after the first try, for transient errors only; waits in seconds.

    Raises InvalidSettingError (a ValueError naming the field) for a negative or non-finite value.
    """

    max_retries: int = field(default=2, validator=count)
    backoff_base: float = field(default=0.5, validator=non_negative)
    backoff_max: float = field(default=8.0, validator=non_negative)
    retry_after_max: float = field(default=60.0, validator=non_negative)


@frozen(kw_only=True)
class Lifecycle:
    """Where the model is in its provider's lifecycle."""

    deprecation_date: dt.date | None = None
    successor: str | None = None
    served_by: str | None = None

    def warning(self, today: dt.date | None = None) -> str | None:
        """One line for operators, e.g. "retired upstream 2026-05-15, served by grok-4.3, ..."."""
        if self.deprecation_date is None and self.served_by is None:
            return None
        parts = []
        if self.deprecation_date is not None:
            today = today or dt.date.today()
            verb = "retired" if self.deprecation_date <= today else "retires"
            parts.append(f"{verb} upstream {self.deprecation_date.isoformat()}")
        if self.served_by:
            parts.append(f"served by {self.served_by}")
        if self.successor:
            parts.append(f"successor {self.successor}")
        return ", ".join(parts)


@frozen(kw_only=True)
class Credentials:
    """The key and base URL as resolved, with where each came from and why it failed, if it did.

    ``*_source`` names the origin (``entry (os.environ/GROK_API_KEY)``, ``env
    GROK_API_KEY``, ``default``); ``*_problem`` is set when the reference could
    not be resolved (file missing, variable unset); ``key_hint`` says how to
    provide a key. ``key_required`` is False for a provider LiteLLM authenticates
    without an api_key (the AWS chain, Google ADC, an Azure AD token, a local
    server); ``api_key_source`` then names that mechanism. ``base_url_required``
    is False when LiteLLM knows the provider's endpoint itself.
    """

    api_key: Secret | None = None
    api_key_source: str = "none"
    api_key_problem: str | None = None
    base_url: str | None = None
    base_url_source: str = "none"
    base_url_problem: str | None = None
    key_hint: str = "add api_key to the model entry"
    base_url_hint: str = "add api_base to the model entry"
    key_required: bool = True
    base_url_required: bool = True


@frozen(kw_only=True)
class Deployment:
    """One deployment of an alias: LiteLLM's repeated ``model_name`` (load balancing, Decision 13).

    ``id`` is ``model_info.id`` when the entry sets one, else a stable id llmcore derives;
    ``weight``, ``rpm`` and ``tpm`` are LiteLLM's simple-shuffle inputs (at entry or
    ``litellm_params`` level); ``order`` is LiteLLM's deployment priority (lower first).
    """

    id: str = ""
    weight: float | None = None
    rpm: int | None = None
    tpm: int | None = None
    order: int | None = None


@frozen(kw_only=True)
class ModelSpec:
    """A configured model: its public alias, where it is served, and every rule that applies to it."""

    alias: str
    upstream_model: str
    provider: str = "openai_compatible"
    route: str = "openai"
    credentials: Credentials = field(factory=Credentials)
    capabilities: Capabilities = field(factory=Capabilities)
    param_rules: ParamRules = field(factory=ParamRules)
    retry: RetryPolicy = field(factory=RetryPolicy)
    timeout: float = field(default=600.0, validator=positive)  # seconds
    stream_timeout: float | None = field(default=None, validator=optional(positive))
    prices: Prices = field(factory=Prices)
    lifecycle: Lifecycle = field(factory=Lifecycle)
    environments: tuple[str, ...] = field(default=(), converter=tuple[str, ...])
    extra_headers: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    sources: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    deployment: Deployment = field(factory=Deployment)
    usage_convention: UsageConvention = "reasoning_in_completion"
    # The provider's own LiteLLM params (api_version, aws_region_name, vertex_project, organization, ...),
    # passed to LiteLLM as written; credential-bearing ones (aws_secret_access_key, vertex_credentials,
    # azure_ad_token, ...) live apart as Secrets and are revealed only when the call is built.
    provider_params: Mapping[str, object] = field(factory=dict, converter=frozen_mapping)
    secret_params: Mapping[str, Secret] = field(factory=dict, converter=frozen_mapping)
    # Set when the config itself says llmcore cannot serve this entry (a mode other than chat, a provider
    # LiteLLM does not know): the registry reports the model unavailable with this reason.
    unservable: str | None = None
    # Which completion adapter serves this model (model_info.adapter; Decision 18).
    adapter: AdapterName = "litellm"

    @property
    def api_key(self) -> Secret | None:
        return self.credentials.api_key

    @property
    def base_url(self) -> str | None:
        return self.credentials.base_url

    @property
    def litellm_model(self) -> str:
        """The model string LiteLLM routes on, e.g. ``openai/grok-code-fast-1`` (a bare name has no route)."""
        return f"{self.route}/{self.upstream_model}" if self.route else self.upstream_model
