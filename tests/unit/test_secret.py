import pickle

import pytest

from llmcore.domain.redaction import redact, truncate
from llmcore.domain.secret import Secret, mask_value


def test_repr_str_and_format_show_only_the_mask(canary):
    secret = Secret(canary)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret:>60}", repr([secret]), repr({"k": secret})):
        assert canary not in shown
        assert canary[-4:] in shown
    assert secret.reveal() == canary


def test_mask_keeps_a_short_prefix_and_the_last_four_characters():
    assert mask_value("xai-abcdefghijklmnop1234") == "xai-…1234"
    assert mask_value("sk-proj-abcdefghijklmnop9876") == "sk-…9876"
    assert mask_value("nodashesatallhere9999") == "…9999"


def test_short_values_are_masked_completely():
    assert mask_value("short") == "****"
    assert str(Secret("")) == "****"


def test_secrets_compare_in_constant_time_and_match_presented_values(canary):
    assert Secret(canary) == Secret(canary)
    assert Secret(canary) != Secret(canary + "x")
    assert Secret(canary).matches(canary)
    assert not Secret(canary).matches(canary[:-1])
    assert Secret(canary).__eq__("plain") is NotImplemented


def test_a_secret_cannot_be_pickled(canary):
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret(canary))


def test_redact_masks_known_secrets_and_key_shaped_words(canary):
    text = f"key={canary} header Authorization: Bearer abcdefghijklmnop and sk-{'z' * 30} plain"
    out = redact(text, [Secret(canary)])
    assert canary not in out
    assert "abcdefghijklmnop" not in out
    assert "z" * 30 not in out
    assert out.endswith("plain")


def test_redact_masks_an_unknown_xai_key_inside_a_url():
    url = "https://api.x.ai/v1?api_key=supersecretvalue123&x=1"
    assert "supersecretvalue123" not in redact(url)
    assert "xai-" + "q" * 30 not in redact("error for xai-" + "q" * 30)


def test_redact_leaves_plain_text_alone():
    assert redact("") == ""
    assert redact("nothing to see here") == "nothing to see here"


def test_truncate_marks_what_it_cut():
    assert truncate("abc", 5) == "abc"
    assert truncate("a" * 10, 4) == "aaaa… [6 more characters]"
