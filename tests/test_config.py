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
    with pytest.raises(ConfigError, match="environment: router.max_retries: expected a whole number"):
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
