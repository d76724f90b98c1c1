"""Reading one YAML config document safely: UTF-8 only, bounded alias expansion, no duplicate keys.

PyYAML shares aliased nodes, so a "billion laughs" document loads quickly but explodes in anything that
walks it (checking, merging, printing). The expanded size is therefore measured on the node graph, with
a memo, before anything walks it.
"""

from __future__ import annotations

from typing import Any

import yaml

from llmos.errors import ConfigError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_ALIASES = 100  # a hand-written config rarely needs more than a handful
MAX_NODES = 50_000  # nodes after expanding aliases; the documented defaults have about 300


def decode(raw: bytes, source: str) -> str:
    """The text of a config file, or a ConfigError saying it is binary or not UTF-8."""
    if b"\x00" in raw:
        raise ConfigError(f"{source}: this is a binary file, not YAML text; replace it with a YAML config "
                          "(or delete it to use the defaults)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{source}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8 "
                          "(it may be Latin-1)") from None


def load(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """The document's data and the line of every dotted key; ConfigError for anything unsafe or malformed."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_size(node, source)
        lines: dict[str, int] = {}
        _collect_lines(node, "", lines, source)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return data, lines


def _check_size(root: yaml.Node, source: str) -> None:
    """Refuse documents whose aliases expand past the bound, or refer to themselves."""
    sizes: dict[int, int] = {}
    seen: dict[int, int] = {}  # node id -> how often it is referred to (more than once = an alias)
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        seen[key] = seen.get(key, 0) + 1
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: a YAML alias refers to itself; "
                              "recursive aliases are not allowed in a config")
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        in_progress.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: YAML aliases expand to more than "
                              f"{MAX_NODES:,} values; refusing to load this config (an alias bomb?)")
        return total

    size(root)
    aliases = sum(count - 1 for count in seen.values())
    if aliases > MAX_ALIASES:
        raise ConfigError(f"{source}: the config uses YAML aliases {aliases:,} times (at most {MAX_ALIASES} "
                          "are allowed); refusing to load it")


def _collect_lines(node: yaml.Node, prefix: str, out: dict[str, int], source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            line = key_node.start_mark.line + 1
            path = f"{prefix}.{name}" if prefix else name
            if name in first_line and name != "<<":
                raise ConfigError(f"{source}:{line}: {path}: duplicate key (first set on line {first_line[name]}, "
                                  f"again on line {line}); keep one")
            first_line[name] = line
            out[path] = line
            _collect_lines(value_node, path, out, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[f"{prefix}[{i}]"] = item.start_mark.line + 1
            _collect_lines(item, f"{prefix}[{i}]", out, source)
