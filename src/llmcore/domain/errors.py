"""The errors llmcore raises. Only these leave the library.

::

    LLMCoreError
    ├── ConfigError                    the config file itself is wrong (all problems listed)
    ├── UnknownModelError              no model with that alias is configured
    ├── ModelUnavailableError          configured, but refused: bad credentials, wrong environment
    ├── ParamNotSupportedError         a param the model does not take, with drop_params off
    ├── InternalError                  a bug in llmcore's own code: never retried, never re-sent
    └── UpstreamError                  the provider answered badly or not at all
        ├── TransientUpstreamError     retried by the retry policy
        │   ├── RateLimitError         429 with room to retry (retry_after, seconds)
        │   ├── UpstreamUnavailableError   5xx, refused or dropped connection
        │   ├── UpstreamTimeoutError   no answer in time (client timeout, 504)
        │   └── StreamIncompleteError  a stream broke or ended before its finish reason (``reason``)
        ├── PermanentUpstreamError     never retried
        │   ├── UpstreamAuthError      401, 403, xAI's 400 "Incorrect API key"
        │   ├── QuotaExceededError     xAI's 429 for spent credits or the spend limit
        │   └── InvalidRequestError    any other 4xx

Every message says what to do, and no message or repr contains a key: the
upstream text is redacted and truncated before it is stored.
"""
from __future__ import annotations

from collections.abc import Sequence

from llmcore.domain.redaction import redact, truncate


class LLMCoreError(Exception):
    """Base of every error llmcore raises."""


class ConfigError(LLMCoreError):
    """The configuration is invalid. ``problems`` lists every problem found, not only the first.

    A problem may quote the wrong value, and a key pasted into the wrong field is
    still a key: anything key-shaped in a problem is masked.
    """

    def __init__(self, problems: Sequence[str] | str, source: str | None = None) -> None:
        self.problems = tuple(redact(p) for p in ((problems,) if isinstance(problems, str) else problems))
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = where + self.problems[0]
        else:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{where}{len(self.problems)} problems:\n{listed}"
        super().__init__(message)


class UnknownModelError(LLMCoreError):
    """No configured model has this alias."""

    def __init__(self, alias: str, known: Sequence[str] = ()) -> None:
        self.alias = alias
        self.known = tuple(known)
        choices = ", ".join(self.known) or "none"
        super().__init__(
            f"unknown model {alias!r}: configured models are {choices}; "
            "add an entry to model_list in the config file to serve another"
        )


class ModelUnavailableError(LLMCoreError):
    """The model is configured but cannot serve; ``reason`` says why and how to fix it."""

    def __init__(self, alias: str, reason: str) -> None:
        self.alias = alias
        self.reason = reason
        super().__init__(f"model {alias!r} is unavailable: {reason}")


class ParamNotSupportedError(LLMCoreError):
    """A request param the model does not take, refused because drop_params is off."""

    def __init__(self, model: str, param: str, reason: str) -> None:
        self.model = model
        self.param = param
        self.reason = reason
        super().__init__(
            f"model {model!r} does not support parameter {param!r} ({reason}); "
            "remove it from the request, or set drop_params: true to have it dropped"
        )


class InternalError(LLMCoreError):
    """A bug in llmcore's own code (not LiteLLM's, the SDK's or the network's), e.g. an answer it cannot convert.

    Never retried and never re-sent: the upstream may have answered (and billed) already.
    ``request_id`` names the request for the bug report; ``model`` the alias it was for; the
    original exception is chained as ``__cause__`` (its text stays out of the message, which
    a proxy client reads).
    """

    def __init__(self, what: str, *, model: str = "", request_id: str | None = None) -> None:
        self.model = model
        self.request_id = request_id
        about = f" for {model}" if model else ""
        super().__init__(
            f"internal error in llmcore{about} (request id {request_id or 'none'}): {what}; this is a bug in "
            "llmcore, not in the provider or the request: report it with the request id; it was not retried"
        )


class UpstreamError(LLMCoreError):
    """The upstream provider failed. ``upstream_text`` is redacted and truncated."""

    retryable = False
    default_hint = "check the provider's status and the request"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider: str = "",
        model: str = "",
        upstream_text: str = "",
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.provider = provider
        self.model = model
        self.upstream_text = truncate(redact(upstream_text.strip()), 500)
        self.hint = hint or self.default_hint
        parts = [redact(message)]
        if status_code is not None:
            parts.append(f"(HTTP {status_code} from {provider or 'upstream'} for {model or 'the model'})")
        if self.upstream_text:
            parts.append(f"upstream said: {self.upstream_text}")
        parts.append(f"- {self.hint}")
        super().__init__(" ".join(parts))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, model={self.model!r})"


class TransientUpstreamError(UpstreamError):
    """A failure that may pass: the retry policy retries these."""

    retryable = True
    default_hint = "retry later; llmcore already retried as configured (litellm_params.max_retries)"


class RateLimitError(TransientUpstreamError):
    """429 rate limit; ``retry_after`` is the wait the provider asked for, in seconds, if any."""

    default_hint = "slow down or raise the rate limit with the provider"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]  # UpstreamError's keywords, passed on as given


class UpstreamUnavailableError(TransientUpstreamError):
    """5xx from the provider or a refused/dropped connection."""

    default_hint = "the provider or the network failed; check the base URL and the provider's status"


class UpstreamTimeoutError(TransientUpstreamError):
    """No answer within the model's timeout."""

    default_hint = "raise litellm_params.timeout for this model or retry later"


class StreamIncompleteError(TransientUpstreamError):
    """A stream broke or ended before its finish reason.

    ``reason`` is one of ``connection_lost``, ``no_finish_reason``,
    ``no_events``. Before the first chunk it is retried like any transient
    error; after it, the stream session ends cleanly with ``complete == False``
    and raises this only when the caller asked for ``raise_on_incomplete``.
    """

    default_hint = "the partial output is in session.text; retry the request"

    def __init__(self, message: str, *, reason: str, **kwargs: object) -> None:
        self.reason = reason
        super().__init__(message, **kwargs)  # type: ignore[arg-type]  # UpstreamError's keywords, passed on as given


class PermanentUpstreamError(UpstreamError):
    """A failure that retrying cannot fix."""


class UpstreamAuthError(PermanentUpstreamError):
    """The provider refused the credentials (401, 403, xAI's 400 "Incorrect API key")."""

    default_hint = "check the model's API key (GROK_API_KEY or api_key on the model entry) and its team's access"


class QuotaExceededError(PermanentUpstreamError):
    """The account has no credits left or hit its spending limit; never retried."""

    default_hint = "add credits or raise the spending limit in the provider's console"


class InvalidRequestError(PermanentUpstreamError):
    """The provider rejected the request (4xx other than auth and rate limits)."""

    default_hint = "fix the request; the upstream text says what it rejected"
