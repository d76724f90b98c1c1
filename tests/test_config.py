"""Configuration layers, precedence, origins and the errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmos.config import default_config_text, load_config
from llmos.errors import ConfigError
from tests.conftest import write_user_config


def write_system_config(home: Path, text: str) -> Path:
    path = home / "etc" / "llm-config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_alone_give_the_documented_providers() -> None:
    config = load_config(environ={})
    assert list(config.providers()) == ["ollama", "embedded", "claude", "openai"]
    assert config.providers()["ollama"].num_ctx == 4096
    assert config.router.fallback_chain == ("ollama", "embedded", "claude", "openai")
    assert str(config.origins["router.local_first"]) == "default"


def test_shipped_etc_file_is_the_builtin_default() -> None:
    shipped = Path(__file__).parent.parent / "etc" / "llm-os" / "llm-config.yaml"
    assert shipped.read_text(encoding="utf-8") == default_config_text()


def test_each_layer_overrides_the_one_before_and_records_its_origin(isolated_home: Path) -> None:
    system = write_system_config(isolated_home, "router:\n  max_retries: 5\n  health_ttl_s: 10\n  backoff_base_s: 1\n")
    user = write_user_config(isolated_home, "router:\n  health_ttl_s: 20\n  backoff_base_s: 2\n")
    config = load_config(flags={"router.backoff_base_s": 4},
                         environ={"LLMOS_ROUTER__HEALTH_TTL_S": "40", "LLMOS_ROUTER__BACKOFF_BASE_S": "3"})
    rc = config.router
    assert (rc.max_retries, rc.health_ttl_s, rc.backoff_base_s) == (5, 40, 4)
    assert config.origins["router.max_retries"].layer == "system"
    assert config.origins["router.max_retries"].source == str(system)
    assert config.origins["router.max_retries"].line == 2
    assert config.origins["router.health_ttl_s"].layer == "env"
    assert config.origins["router.backoff_base_s"].layer == "flag"
    assert config.origins["router.local_first"].layer == "default"
    assert ("user", str(user), True) in config.files


def test_user_file_adds_an_openai_compatible_provider(isolated_home: Path) -> None:
    write_user_config(isolated_home, """\
providers:
  box:
    type: openai-compatible
    base_url: http://127.0.0.1:9/v1
    models: {default: m}
""")
    providers = load_config(environ={}).providers()
    assert providers["box"].type == "openai-compatible" and providers["box"].is_local
    assert providers["ollama"].enabled  # the defaults are still there


def test_ollama_host_sets_the_ollama_url() -> None:
    assert load_config(environ={"OLLAMA_HOST": "10.0.0.5:11434"}).providers()["ollama"].base_url == \
        "http://10.0.0.5:11434"
    assert load_config(environ={"OLLAMA_HOST": "0.0.0.0"}).providers()["ollama"].base_url == \
        "http://127.0.0.1:11434"


def test_malformed_yaml_names_file_and_line(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "router:\n  local_first: true\n  fallback_chain: [ollama, claude\n")
    with pytest.raises(ConfigError) as err:
        load_config(environ={})
    assert str(path) in str(err.value)
    assert "invalid YAML" in str(err.value)
    assert f"{path}:4:" in str(err.value) or f"{path}:3:" in str(err.value)


def test_wrong_type_names_file_line_key_and_expectation(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "router:\n  local_first: true\n  max_retries: lots\n")
    with pytest.raises(ConfigError) as err:
        load_config(environ={})
    message = str(err.value)
    assert f"{path}:3: router.max_retries: expected a whole number, got 'lots'" in message


def test_boolean_is_not_accepted_as_a_number(isolated_home: Path) -> None:
    write_user_config(isolated_home, "router:\n  backoff_base_s: true\n")
    with pytest.raises(ConfigError, match="router.backoff_base_s: expected a number"):
        load_config(environ={})


def test_unknown_provider_type_is_an_error(isolated_home: Path) -> None:
    write_user_config(isolated_home, "providers:\n  x:\n    type: gemini\n")
    with pytest.raises(ConfigError, match=r"llm.yaml:3: providers.x.type: expected one of ollama"):
        load_config(environ={})


def test_new_provider_without_type_is_an_error(isolated_home: Path) -> None:
    write_user_config(isolated_home, "providers:\n  x:\n    base_url: http://h/v1\n")
    with pytest.raises(ConfigError, match=r"providers.x: missing 'type'"):
        load_config(environ={})


def test_unknown_keys_are_warned_about_not_ignored(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "router:\n  local_frist: false\nroutr: {}\n")
    config = load_config(environ={})
    assert any(f"{path}:2: router.local_frist: unknown key" in w for w in config.warnings)
    assert any(f"{path}:3: routr: unknown key" in w for w in config.warnings)
    assert config.router.local_first is True


def test_environment_values_are_typed_and_checked() -> None:
    assert load_config(environ={"LLMOS_ROUTER__LOCAL_FIRST": "false"}).router.local_first is False
    expected = r"environment \(LLMOS_ROUTER__MAX_RETRIES\): router.max_retries: expected a whole number"
    with pytest.raises(ConfigError, match=expected):
        load_config(environ={"LLMOS_ROUTER__MAX_RETRIES": "many"})


def test_flag_naming_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        load_config(flags={"router.default_provider": "nope"}, environ={})


def test_top_level_must_be_a_mapping(isolated_home: Path) -> None:
    write_user_config(isolated_home, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(environ={})


def test_system_dir_is_relocatable(isolated_home: Path) -> None:
    write_system_config(isolated_home, "context:\n  reserve_tokens: 7\n")
    config = load_config(environ={})
    assert config.get("context.reserve_tokens") == 7
    assert config.files[0] == ("system", str(isolated_home / "etc" / "llm-config.yaml"), True)


# ---- defaults once: the documented YAML is the only place a default is written -------------------------

def test_typed_views_read_every_default_from_the_documented_yaml() -> None:
    import yaml

    documented = yaml.safe_load(default_config_text())
    config = load_config(environ={})
    r, c, p = config.router, config.context, config.performance
    assert (r.local_first, r.cost_optimization, r.max_retries, r.backoff_base_s, r.health_ttl_s,
            r.connect_timeout_s) == tuple(documented["router"][k] for k in (
                "local_first", "cost_optimization", "max_retries", "backoff_base_s", "health_ttl_s",
                "connect_timeout_s"))
    assert (c.reserve_tokens, c.max_tokens, c.keep_messages) == tuple(
        documented["context"][k] for k in ("reserve_tokens", "max_tokens", "keep_messages"))
    assert (p.streaming, p.timeout, p.concurrent_tools) == tuple(
        documented["performance"][k] for k in ("streaming", "timeout", "concurrent_tools"))


def test_provider_dataclass_fallbacks_equal_the_documented_values() -> None:
    """ProviderConfig keeps fallbacks only for adapters built by hand; they must not drift from the YAML."""
    import yaml

    from llmos.config import ProviderConfig

    documented = yaml.safe_load(default_config_text())
    bare = ProviderConfig(name="x", type="ollama")
    assert bare.keep_alive == documented["providers"]["ollama"]["keep_alive"]
    assert bare.num_ctx == documented["providers"]["ollama"]["num_ctx"]
    assert bare.timeout == documented["performance"]["timeout"]
    assert bare.connect_timeout == documented["router"]["connect_timeout_s"]


def test_a_provider_without_its_own_timeout_uses_performance_timeout(isolated_home: Path) -> None:
    write_user_config(isolated_home, "performance:\n  timeout: 45\nproviders:\n  box:\n    type: openai-compatible\n"
                      "    base_url: http://127.0.0.1:9/v1\n  remote:\n    type: ollama\n    base_url: http://h:1\n"
                      "    timeout: 600\n")
    providers = load_config(environ={}).providers()
    assert providers["box"].timeout == 45 and providers["claude"].timeout == 45
    assert providers["remote"].timeout == 600
    assert providers["remote"].num_ctx == 4096 and providers["remote"].keep_alive == "5m"  # from the ollama entry


def test_concurrent_tools_older_boolean_spelling(isolated_home: Path) -> None:
    write_user_config(isolated_home, "performance:\n  concurrent_tools: false\n")
    assert load_config(environ={}).performance.concurrent_tools == 1
    write_user_config(isolated_home, "performance:\n  concurrent_tools: true\n")
    assert load_config(environ={}).performance.concurrent_tools == 4


def test_constrained_must_be_true_false_or_auto(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "agent:\n  constrained: sometimes\n")
    with pytest.raises(ConfigError, match=rf"{path}:2: agent.constrained: expected true, false or auto"):
        load_config(environ={})


def test_constrained_auto_rule() -> None:
    from llmos.config import ProviderConfig
    from llmos.config.auto import constrained, parameter_count

    assert parameter_count("qwen2.5:0.5b") == 0.5e9 and parameter_count("SmolLM2-135M-Instruct") == 135e6
    assert parameter_count("deepseek-r1:1.5b") == 1.5e9 and parameter_count("llama3.2:3b") == 3e9
    assert parameter_count("gpt-4o") is None and parameter_count("llama3.2") is None
    ollama = ProviderConfig(name="ollama", type="ollama")
    cloud = ProviderConfig(name="openai", type="openai", context_window=128_000)
    embedded = ProviderConfig(name="embedded", type="embedded")
    assert constrained("auto", ollama, "qwen2.5:0.5b", 4096)
    assert not constrained("auto", ollama, "qwen2.5:7b", 8192)
    assert constrained("auto", ollama, "mystery-model", 2048)  # a small context is a small model's
    assert constrained("auto", embedded, "qwen2.5-coder-7b.gguf", 32768)
    assert not constrained("auto", cloud, "gpt-4o-mini", 128_000)
    assert constrained(True, cloud, "gpt-4o", None) and not constrained(False, ollama, "x:0.5b", 512)


def test_constrained_auto_decides_the_agent_setting(isolated_home: Path) -> None:
    from llmos.agent.setup import agent_settings
    from llmos.llm.router import Router

    def settings_for(model: str) -> bool:
        write_user_config(isolated_home, "agent:\n  constrained: auto\nproviders:\n  claude: {enabled: false}\n"
                          f"  openai: {{enabled: false}}\n  ollama:\n    models: {{default: {model}}}\n")
        config = load_config(environ={})
        return agent_settings(config, router=Router(config)).constrained

    assert settings_for("qwen2.5:0.5b") is True
    assert settings_for("qwen2.5:14b") is False


def test_duplicate_key_in_one_file_names_both_lines(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "router:\n  max_retries: 1\n  max_retries: 2\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: router.max_retries: duplicate key \(first set on line 2"):
        load_config(environ={})


def test_preferences_default_provider_beats_router_default_in_the_same_file(isolated_home: Path) -> None:
    write_user_config(isolated_home, "router:\n  default_provider: openai\npreferences:\n  default_provider: claude\n")
    config = load_config(environ={})
    assert config.router.default_provider == "claude"
    assert config.origins["router.default_provider"].written_as == "preferences.default_provider"


def test_unknown_default_or_fallback_provider_names_file_and_line(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "preferences:\n  default_provider: gemini\n")
    with pytest.raises(ConfigError, match=rf"{path}:2: preferences.default_provider: unknown provider 'gemini'"):
        load_config(environ={})
    path = write_user_config(isolated_home, "router:\n  fallback_provider: nope\n")
    with pytest.raises(ConfigError, match=rf"{path}:2: router.fallback_provider: unknown provider 'nope'"):
        load_config(environ={})


def test_garbage_ollama_host_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"environment \(OLLAMA_HOST\): providers.ollama.base_url: not a valid URL"):
        load_config(environ={"OLLAMA_HOST": "::garbage::"})


def test_base_url_must_be_a_url(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "providers:\n  ollama:\n    base_url: localhost:99999\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: providers.ollama.base_url: expected an http"):
        load_config(environ={})
