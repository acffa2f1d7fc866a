"""Every adapter harness runs every contract test: the scripted fake, the Grok adapter (real
LiteLLM over real HTTP to the fake xAI server) and the Anthropic route (real LiteLLM over real
HTTP to the fake Anthropic Messages server)."""
import pytest

from llmcore.testing.contract import CompletionContract
from llmcore.testing.harnesses import HARNESSES, make_harness


class TestCompletionContract(CompletionContract):
    @pytest.fixture(params=sorted(HARNESSES))
    def harness(self, request):
        yield from make_harness(request.param)
