"""Hostile or corrupted config files: each ends in exit 2 with one line naming file, line and key —
never a hang, a traceback or "unexpected error"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import write_user_config
from tests.inprocess import Completed, llmos

ALIAS_BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def config_show(*args: str) -> Completed:
    """`llmos config show` in-process (tests/inprocess.py: the same entry point and config loading)."""
    return llmos("config", "show", *args)


def assert_refused(out: Completed, *expected: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "unexpected error" not in out.stderr and "Traceback" not in out.stderr
    for text in expected:
        assert text in out.stderr, out.stderr
    assert out.stdout == ""  # nothing half-printed


def write_system(home: Path, raw: bytes) -> Path:
    path = home / "etc" / "llm-config.yaml"
    path.write_bytes(raw)
    return path


@pytest.mark.timeout(30)
@pytest.mark.parametrize("where", ["user", "system"])
def test_alias_bomb_is_refused_fast(isolated_home: Path, where: str) -> None:
    path = (write_user_config(isolated_home, ALIAS_BOMB) if where == "user"
            else write_system(isolated_home, ALIAS_BOMB.encode()))
    assert_refused(config_show(), str(path), "aliases")


@pytest.mark.timeout(30)
def test_alias_bomb_inside_a_known_section_is_refused(isolated_home: Path) -> None:
    text = ALIAS_BOMB.replace("\n", "\n  ").replace("a: &a", "x: &a", 1)
    path = write_user_config(isolated_home, "gate:\n  " + text.rstrip() + "\n")
    assert_refused(config_show("--json"), str(path), "aliases")


def test_recursive_alias_is_refused(isolated_home: Path) -> None:
    path = write_user_config(isolated_home, "servers:\n  filesystem: &loop\n    roots: [*loop]\n")
    out = config_show()
    assert out.returncode == 2 and str(path) in out.stderr and "Traceback" not in out.stderr


def test_a_few_aliases_still_work(isolated_home: Path) -> None:
    write_user_config(isolated_home, "x-models: &m {default: qwen2.5:3b}\nproviders:\n  ollama:\n    models: *m\n")
    out = config_show("--json")
    assert out.returncode == 0, out.stderr
    assert '"qwen2.5:3b"' in out.stdout


@pytest.mark.parametrize("text, first, second, key", [
    ("router:\n  max_retries: 1\n  local_first: true\n  max_retries: 9\n", 2, 4, "router.max_retries"),
    ("router:\n  local_first: true\ncontext:\n  reserve_tokens: 5\nrouter:\n  local_first: false\n", 1, 5, "router"),
    ("providers:\n  ollama:\n    base_url: http://a\n    base_url: http://b\n", 3, 4, "providers.ollama.base_url"),
])
def test_duplicate_keys_are_reported_with_both_lines(isolated_home: Path, text: str, first: int, second: int,
                                                     key: str) -> None:
    path = write_user_config(isolated_home, text)
    assert_refused(config_show(), f"{path}:{second}: {key}: duplicate key", f"line {first}", f"line {second}")


@pytest.mark.parametrize("where", ["user", "system"])
def test_latin1_config_is_named_with_its_line(isolated_home: Path, where: str) -> None:
    raw = "# configuration\nprovider:\n  ollama:\n    base_url: http://caf\u00e9.local\n".encode("latin-1")
    if where == "user":
        path = write_user_config(isolated_home, "")
        path.write_bytes(raw)
    else:
        path = write_system(isolated_home, raw)
    assert_refused(config_show(), f"{path}:4: not UTF-8", "Latin-1")


@pytest.mark.parametrize("raw", [b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", bytes(range(256)) * 4,
                                 b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_binary_config_is_refused_by_name(isolated_home: Path, raw: bytes) -> None:
    path = write_user_config(isolated_home, "")
    path.write_bytes(raw)
    assert_refused(config_show(), str(path), "binary file")


@pytest.mark.parametrize("text, line, key, problem", [
    ("performance:\n  timeout: -5\n", 2, "performance.timeout", "must be above 0, got -5"),
    ("performance:\n  timeout: 0\n", 2, "performance.timeout", "must be above 0, got 0"),
    ("providers:\n  claude:\n    timeout: -1.5\n", 3, "providers.claude.timeout", "must be above 0"),
    ("router:\n  connect_timeout_s: -3\n", 2, "router.connect_timeout_s", "must be above 0"),
    ("router:\n  max_retries: -1\n", 2, "router.max_retries", "must be at least 0, got -1"),
    ("agent:\n  tool_result_budget: -100\n", 2, "agent.tool_result_budget", "must be at least 1"),
    ("agent:\n  tool_prompt_budget: -1\n", 2, "agent.tool_prompt_budget", "must be at least 0"),
    ("agent:\n  max_steps: 0\n", 2, "agent.max_steps", "must be at least 1"),
    ("context:\n  reserve_tokens: -1024\n", 2, "context.reserve_tokens", "must be at least 0"),
    ("context:\n  max_tokens: -1\n", 2, "context.max_tokens", "must be at least 1"),
    ("context:\n  keep_messages: 0\n", 2, "context.keep_messages", "must be at least 1"),
    ("performance:\n  concurrent_tools: 0\n", 2, "performance.concurrent_tools", "must be at least 1"),
    ("pricing:\n  gpt-4o: {input: -2.5, output: 10}\n", 2, "pricing.gpt-4o.input", "must be at least 0"),
    ("picker:\n  vram_limit_mib: -8000\n", 2, "picker.vram_limit_mib", "must be at least 0"),
    ("performance:\n  timeout: .nan\n", 2, "performance.timeout", "expected a number of seconds, got nan"),
    ("router:\n  health_ttl_s: .inf\n", 2, "router.health_ttl_s", "expected a number, got inf"),
])
def test_numbers_out_of_range_name_file_line_and_key(isolated_home: Path, text: str, line: int, key: str,
                                                     problem: str) -> None:
    path = write_user_config(isolated_home, text)
    assert_refused(config_show(), f"{path}:{line}: {key}: {problem}")


def test_a_negative_number_in_the_environment_is_refused_too(isolated_home: Path) -> None:
    out = llmos("config", "show", env={"LLMOS_PERFORMANCE__TIMEOUT": "-1"})
    assert_refused(out, "environment (LLMOS_PERFORMANCE__TIMEOUT): performance.timeout: must be above 0")


@pytest.mark.parametrize("host", ["::garbage::", "http://[::1", "http://h:notaport", "h:70000"])
def test_garbage_ollama_host_is_refused_by_name(isolated_home: Path, host: str) -> None:
    out = llmos("run", "hi", env={"OLLAMA_HOST": host})
    assert_refused(out, "environment (OLLAMA_HOST): providers.ollama.base_url")


def test_mcp_config_file_that_is_a_directory(isolated_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mcp.json"
    folder.mkdir()
    path = write_user_config(isolated_home, f"mcp_config_file: {folder}\n")
    assert_refused(config_show(), f"{path}:1: mcp_config_file: {folder} is a directory")


def test_mcp_config_file_directory_stops_a_run_before_any_request(isolated_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "servers"
    folder.mkdir()
    write_user_config(isolated_home, f"mcp_config_file: {folder}\n")
    out = llmos("run", "hello")
    assert_refused(out, "is a directory")


def test_config_file_that_is_a_directory(isolated_home: Path) -> None:
    path = isolated_home / "config" / "llm-os" / "llm.yaml"
    path.mkdir(parents=True)
    assert_refused(config_show(), f"{path}: is a directory")


def test_unreadable_config_is_named(isolated_home: Path) -> None:
    if os.geteuid() == 0:
        target = isolated_home / "etc" / "llm-config.yaml"
        target.symlink_to(target)  # a symlink loop: unreadable even for root
    else:
        target = write_user_config(isolated_home, "router: {}\n")
        target.chmod(0)
    assert_refused(config_show(), str(target), "cannot read config file")


def _any_yaml_value():
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                        st.text(max_size=12))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=8)


def test_any_value_at_any_documented_key_is_loaded_or_refused_cleanly(isolated_home: Path) -> None:
    """Whatever a file puts at a documented key, loading ends in a Config or a ConfigError — nothing else."""
    import yaml
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from llmos.config import default_config_text, load_config
    from llmos.errors import ConfigError

    documented = yaml.safe_load(default_config_text())
    keys = [f"{section}.{key}" for section, body in documented.items() if isinstance(body, dict) for key in body]
    keys += ["providers.claude.models", "providers.ollama.default_model", "models.ollama", "models",
             "preferences.default_provider", "preferences.always_stream", "router.fallback_provider",
             "providers.claude.headers", "context.max_tokens", "performance.concurrent_tools"]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(keys), _any_yaml_value())
    def check(dotted: str, value: object) -> None:
        tree: dict = {}
        node = tree
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
        write_user_config(isolated_home, yaml.safe_dump(tree))
        try:
            config = load_config(environ={})
        except ConfigError:
            return
        config.providers()  # the typed views work on whatever was accepted
        config.router, config.context, config.performance  # noqa: B018

    check()
