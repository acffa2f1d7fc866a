"""Every row of the precedence table in docs/configuration.md, and every malformed-credential case."""
import pytest

from tests.unit.config_helpers import grok_config, registry_from, write_config

GROK = "grok-code-fast-1"


def status(registry):
    return registry.status(GROK)


# --- key precedence: entry > GROK_API_KEY > LLMCORE_API_KEY > nothing ----------------------------

def test_entry_literal_key_wins_over_every_env_var(tmp_path, canary):
    path = grok_config(tmp_path, f"api_key: {canary}")
    reg = registry_from(path, {"GROK_API_KEY": "xai-other-" + "a" * 20, "LLMCORE_API_KEY": "xai-g-" + "b" * 20})
    spec = reg.spec(GROK)
    assert spec.api_key.reveal() == canary
    assert spec.credentials.api_key_source == "entry (literal)"


def test_entry_env_reference_wins_and_names_its_source(tmp_path, canary):
    path = grok_config(tmp_path, "api_key: os.environ/TEAM_GROK_KEY")
    reg = registry_from(path, {"TEAM_GROK_KEY": canary, "GROK_API_KEY": "xai-other-" + "a" * 20})
    assert reg.spec(GROK).api_key.reveal() == canary
    assert status(reg).sources["api_key"] == "entry (os.environ/TEAM_GROK_KEY)"
    assert status(reg).available


def test_unresolvable_entry_reference_does_not_fall_back(tmp_path, canary):
    path = grok_config(tmp_path, "api_key: os.environ/TEAM_GROK_KEY")
    reg = registry_from(path, {"GROK_API_KEY": canary, "LLMCORE_API_KEY": canary})
    st = status(reg)
    assert not st.available
    assert "os.environ/TEAM_GROK_KEY" in st.reason
    assert "TEAM_GROK_KEY is not set" in st.reason


def test_model_env_var_wins_over_global(tmp_path, canary):
    reg = registry_from(None, {"GROK_API_KEY": canary, "LLMCORE_API_KEY": "xai-global-" + "c" * 20})
    assert reg.spec(GROK).api_key.reveal() == canary
    assert status(reg).sources["api_key"] == "env GROK_API_KEY"


def test_global_env_var_is_used_when_the_model_var_is_unset(tmp_path, canary):
    reg = registry_from(None, {"LLMCORE_API_KEY": canary})
    assert reg.spec(GROK).api_key.reveal() == canary
    assert status(reg).sources["api_key"] == "env LLMCORE_API_KEY"


def test_an_empty_model_var_is_used_and_judged_not_skipped(canary):
    reg = registry_from(None, {"GROK_API_KEY": "", "LLMCORE_API_KEY": canary})
    st = status(reg)
    assert not st.available
    assert "from env GROK_API_KEY is empty" in st.reason


def test_no_key_anywhere_names_the_variables_to_set():
    st = status(registry_from(None, {}))
    assert not st.available
    assert st.reason == (
        "no API key: set GROK_API_KEY or LLMCORE_API_KEY, or add api_key to the model entry"
    )


def test_openai_api_key_is_never_used_for_grok(canary):
    st = status(registry_from(None, {"OPENAI_API_KEY": canary, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    assert not st.available
    assert "GROK_API_KEY" in st.reason


# --- base URL precedence: entry > GROK_BASE_URL > LLMCORE_BASE_URL > profile default --------------

@pytest.mark.parametrize(("extra", "env", "expected_url", "expected_source"), [
    ("api_base: http://entry.test/v1", {"GROK_BASE_URL": "http://model.test/v1"},
     "http://entry.test/v1", "entry (literal)"),
    ("", {"GROK_BASE_URL": "http://model.test/v1", "LLMCORE_BASE_URL": "http://global.test/v1"},
     "http://model.test/v1", "env GROK_BASE_URL"),
    ("", {"LLMCORE_BASE_URL": "http://global.test/v1"}, "http://global.test/v1", "env LLMCORE_BASE_URL"),
    ("", {}, "https://api.x.ai/v1", "default"),
])
def test_base_url_precedence(tmp_path, canary, extra, env, expected_url, expected_source):
    path = grok_config(tmp_path, extra)
    reg = registry_from(path, {"GROK_API_KEY": canary, **env})
    assert reg.spec(GROK).base_url == expected_url
    assert status(reg).sources["api_base"] == expected_source
    assert status(reg).available


# --- mounted secret files --------------------------------------------------------------------------

def test_key_from_a_mounted_file_loses_its_final_newline(tmp_path, canary):
    secret_file = tmp_path / "grok-key"
    secret_file.write_text(canary + "\n", encoding="utf-8")
    path = grok_config(tmp_path, f"api_key: file:{secret_file}")
    reg = registry_from(path, {})
    assert reg.spec(GROK).api_key.reveal() == canary
    assert status(reg).available
    assert status(reg).sources["api_key"] == f"entry (file:{secret_file})"


def test_file_url_form_is_accepted(tmp_path, canary):
    secret_file = tmp_path / "k"
    secret_file.write_text(canary, encoding="utf-8")
    reg = registry_from(grok_config(tmp_path, f"api_key: file://{secret_file}"), {})
    assert reg.spec(GROK).api_key.reveal() == canary


def test_missing_secret_file_makes_the_model_unavailable_naming_the_path(tmp_path, canary):
    path = grok_config(tmp_path, "api_key: file:/run/secrets/nope")
    st = status(registry_from(path, {"GROK_API_KEY": canary}))
    assert not st.available
    assert "file:/run/secrets/nope, which does not exist" in st.reason


def test_directory_as_secret_file_is_explained(tmp_path):
    st = status(registry_from(grok_config(tmp_path, f"api_key: file:{tmp_path}"), {}))
    assert "is a directory" in st.reason


def test_unreadable_secret_file_is_explained(tmp_path):
    secret_file = tmp_path / "k"
    secret_file.write_bytes(b"\xff\xfe\x00bad")
    st = status(registry_from(grok_config(tmp_path, f"api_key: file:{secret_file}"), {}))
    assert "cannot be read (UnicodeDecodeError)" in st.reason


# --- malformed values --------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fragment"), [
    ("", "is empty"),
    ("   ", "is only whitespace"),
    ("xai-abc def-0123456789", "contains whitespace"),
    ("xai-abcdef0123456789\n", "contains whitespace"),
    ("xai-abc\x07def0123456789", "contains control characters"),
])
def test_malformed_keys_make_the_model_unavailable_with_a_reason(value, fragment):
    st = status(registry_from(None, {"GROK_API_KEY": value}))
    assert not st.available
    assert fragment in st.reason
    assert "GROK_API_KEY" in st.reason


@pytest.mark.parametrize(("url", "fragment"), [
    ("ftp://api.x.ai/v1", "not an http(s) URL with a host"),
    ("http://", "not an http(s) URL with a host"),
    ("api.x.ai/v1", "not an http(s) URL with a host"),
    (" https://api.x.ai/v1", "whitespace or control characters"),
    ("https://api.x.ai/v1\r\n", "whitespace or control characters"),
    ("http://[::1/v1", "not an http(s) URL with a host"),
])
def test_malformed_base_urls_make_the_model_unavailable(canary, url, fragment):
    st = status(registry_from(None, {"GROK_API_KEY": canary, "GROK_BASE_URL": url}))
    assert not st.available
    assert fragment in st.reason
    assert "GROK_BASE_URL" in st.reason


def test_a_bad_grok_key_leaves_a_second_model_available(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY}
          - model_name: local-coder
            litellm_params:
              model: openai/qwen-coder
              api_base: http://127.0.0.1:8000/v1
              api_key: os.environ/LOCAL_KEY
    """)
    reg = registry_from(path, {"GROK_API_KEY": "  ", "LOCAL_KEY": canary})
    assert not reg.status("grok-code-fast-1").available
    assert reg.status("local-coder").available
    assert reg.resolve("local-coder").api_key.reveal() == canary


def test_generic_provider_reads_env_names_from_the_entry(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: partner
            litellm_params: {model: openai/partner-large}
            model_info: {api_key_env: PARTNER_KEY, base_url_env: PARTNER_URL}
    """)
    reg = registry_from(path, {"PARTNER_KEY": canary, "PARTNER_URL": "http://127.0.0.1:7/v1"})
    spec = reg.resolve("partner")
    assert spec.provider == "openai"  # LiteLLM's provider name for the openai/ route (issue 10)
    assert spec.base_url == "http://127.0.0.1:7/v1"
    assert reg.status("partner").sources["api_key"] == "env PARTNER_KEY"


def test_generic_provider_without_base_url_says_how_to_set_one(tmp_path, canary):
    path = write_config(tmp_path, """
        model_list:
          - model_name: partner
            litellm_params: {model: openai/partner-large, api_key: os.environ/K}
            model_info: {provider: openai_compatible}
    """)
    st = registry_from(path, {"K": canary}).status("partner")
    assert not st.available
    assert st.reason == "no base URL: set LLMCORE_BASE_URL, or add api_base to the model entry"


def test_openai_route_without_base_url_is_openai_itself_with_its_own_key_only(tmp_path, canary):
    # LiteLLM sends openai/<model> without api_base to OpenAI: it is OpenAI's model, keyed by OPENAI_API_KEY
    # from the env given to llmcore (never LLMCORE_API_KEY, which is for llmcore's own profiles).
    path = write_config(tmp_path, """
        model_list:
          - model_name: partner
            litellm_params: {model: openai/partner-large}
    """)
    st = registry_from(path, {"LLMCORE_API_KEY": canary}).status("partner")
    assert st.provider == "openai" and not st.available and "OPENAI_API_KEY" in st.reason
    assert registry_from(path, {"OPENAI_API_KEY": canary}).status("partner").available


def test_model_outside_its_environments_is_unavailable(tmp_path, canary):
    path = grok_config(tmp_path, "")
    with path.open("a") as f:
        f.write("    model_info:\n      environments: [production]\n")
    reg = registry_from(path, {"GROK_API_KEY": canary}, environment="staging")
    st = status(reg)
    assert not st.available
    assert "not enabled in environment 'staging'" in st.reason
    assert registry_from(path, {"GROK_API_KEY": canary}, environment="production").status(GROK).available
