"""The error tree of llmcore (drawn in llmcore.domain.errors), for ``except llmcore.errors.X``."""
from llmcore.domain.chat import InvalidMessageError
from llmcore.domain.errors import (
    ConfigError,
    InvalidRequestError,
    LLMCoreError,
    ModelUnavailableError,
    ParamNotSupportedError,
    PermanentUpstreamError,
    QuotaExceededError,
    RateLimitError,
    StreamIncompleteError,
    TransientUpstreamError,
    UnknownModelError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

__all__ = [
    "ConfigError",
    "InvalidMessageError",
    "InvalidRequestError",
    "LLMCoreError",
    "ModelUnavailableError",
    "ParamNotSupportedError",
    "PermanentUpstreamError",
    "QuotaExceededError",
    "RateLimitError",
    "StreamIncompleteError",
    "TransientUpstreamError",
    "UnknownModelError",
    "UpstreamAuthError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
]
