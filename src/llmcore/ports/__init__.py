"""Ports: the Protocols the core needs from the outside world."""
from llmcore.ports.completion import AsyncCompletionPort, CompletionPort, DuplexCompletionPort
from llmcore.ports.resources import PooledResources
from llmcore.ports.secret_source import Resolved, SecretSource
from llmcore.ports.telemetry import Telemetry

__all__ = [
    "AsyncCompletionPort", "CompletionPort", "DuplexCompletionPort", "PooledResources", "Resolved", "SecretSource",
    "Telemetry",
]
