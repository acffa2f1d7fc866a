import pytest

from llmcore.domain.chat import Message
from llmcore.domain.errors import ParamNotSupportedError
from llmcore.domain.param_policy import ParamPolicy
from tests.unit.config_helpers import registry_from

POLICY = ParamPolicy()
USER = (Message(role="user", content="hi"),)


@pytest.fixture
def grok(canary):
    return registry_from(None, {"GROK_API_KEY": canary}).resolve("grok-code-fast-1")


@pytest.mark.parametrize("param", ["presence_penalty", "frequency_penalty", "stop", "reasoning_effort",
                                   "reasoning"])
def test_drops_each_param_xai_rejects_with_a_reason(grok, param):
    result = POLICY.apply(grok, {param: 0, "temperature": 0.2}, USER)
    assert dict(result.params) == {"temperature": 0.2}
    (adjustment,) = result.adjustments
    assert adjustment.param == param and adjustment.action == "dropped"
    assert "400" in adjustment.reason


def test_presence_penalty_zero_is_dropped_too(grok):
    assert POLICY.apply(grok, {"presence_penalty": 0}, USER).params == {}


def test_explicit_nulls_are_not_sent_and_not_reported(grok):
    result = POLICY.apply(grok, {"stop": None, "temperature": None}, USER)
    assert result.params == {} and result.adjustments == ()


def test_keeps_tools_tool_choice_and_response_format_while_supported(grok):
    params = {"tools": [{"type": "function"}], "tool_choice": "auto", "response_format": {"type": "json_object"}}
    result = POLICY.apply(grok, params, USER)
    assert dict(result.params) == params
    assert result.adjustments == ()


def test_capability_off_drops_the_params_it_gates(grok):
    from attrs import evolve

    spec = evolve(grok, capabilities=evolve(grok.capabilities, tools=False, response_format=False))
    result = POLICY.apply(spec, {"tools": [], "parallel_tool_calls": True, "response_format": {}}, USER)
    assert result.params == {}
    assert {a.param for a in result.adjustments} == {"tools", "parallel_tool_calls", "response_format"}
    assert all("capabilities say" in a.reason for a in result.adjustments)


def test_with_drop_params_off_an_unsupported_param_is_refused(grok):
    from attrs import evolve

    spec = evolve(grok, param_rules=evolve(grok.param_rules, drop_params=False))
    with pytest.raises(ParamNotSupportedError) as info:
        POLICY.apply(spec, {"stop": ["x"]}, USER)
    assert info.value.param == "stop"
    assert "set drop_params: true" in str(info.value)


def test_unknown_params_are_not_passed_through(grok):
    result = POLICY.apply(grok, {"temprature": 0.1}, USER)
    assert result.params == {}
    assert result.adjustments[0].reason == "not an OpenAI chat-completions parameter"


def test_renames_by_rule(grok):
    from attrs import evolve

    spec = evolve(grok, param_rules=evolve(grok.param_rules, rename={"max_completion_tokens": "max_tokens"}))
    result = POLICY.apply(spec, {"max_completion_tokens": 10}, USER)
    assert dict(result.params) == {"max_tokens": 10}
    assert result.adjustments[0].action == "renamed" and result.adjustments[0].new_name == "max_tokens"


def test_strips_name_from_non_user_messages_only(grok):
    messages = (
        Message(role="system", content="s", name="sys"),
        Message(role="user", content="u", name="alice"),
        Message(role="assistant", content="a", name="bot"),
    )
    result = POLICY.apply(grok, {}, messages)
    assert [m.name for m in result.messages] == [None, "alice", None]
    assert [a.param for a in result.adjustments] == ["messages[0].name", "messages[2].name"]
    assert all(a.action == "transformed" for a in result.adjustments)


def test_message_parsing_names_the_bad_message():
    from llmcore.domain.chat import InvalidMessageError

    with pytest.raises(InvalidMessageError, match=r"messages\[1\].role"):
        [Message.from_dict(m, i) for i, m in enumerate([{"role": "user"}, {"role": "robot"}])]
    with pytest.raises(InvalidMessageError, match=r"messages\[0\] must be an object"):
        Message.from_dict("hi")  # type: ignore[arg-type]
    extra = Message.from_dict({"role": "tool", "content": "r", "tool_call_id": "c1"})
    assert extra.to_dict() == {"role": "tool", "content": "r", "tool_call_id": "c1"}
    assert Message.from_dict(extra) is extra
