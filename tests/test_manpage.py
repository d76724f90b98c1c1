"""The man page (man/llmos.1): renders without a warning, documents exactly the commands and options that
`--help` lists (walked from the real CLI, so a new option without a man page entry fails here), matches the
exit statuses and slash commands in the code, and is installed with the package."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parent.parent
MANPAGE = ROOT / "man" / "llmos.1"
HELP_NAMES = {"--help", "-h"}
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)")


# ---- reading the roff source -------------------------------------------------------------------------------

def _plain(text: str) -> str:
    """Roff text without font changes and with the usual escapes turned into the characters they print."""
    text = re.sub(r"\\f(\[[^\]]*\]|\([A-Za-z]{2}|[A-Za-z0-9])", "", text)
    for escape, char in (("\\-", "-"), ("\\ ", " "), ("\\~", " "), ("\\&", ""), ("\\%", ""), ("\\e", "\\"),
                         ("\\(dq", '"'), ("\\(em", "--"), ("\\(bu", "*"), ("\\(->", "->")):
        text = text.replace(escape, char)
    return text


def _arguments(rest: str) -> list[str]:
    """A macro's arguments: separated by spaces, double quotes group (and "" inside quotes is a quote)."""
    args, i = [], 0
    while i < len(rest):
        if rest[i] == " ":
            i += 1
        elif rest[i] == '"':
            j, buf = i + 1, []
            while j < len(rest):
                if rest[j] == '"':
                    if rest[j + 1:j + 2] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(rest[j])
                j += 1
            args.append("".join(buf))
            i = j + 1
        else:
            j = rest.find(" ", i)
            j = len(rest) if j < 0 else j
            args.append(rest[i:j])
            i = j
    return args


def _line_text(line: str) -> str:
    """What one source line prints, as plain text (font macros resolved, requests dropped)."""
    if line.startswith(".\\\""):
        return ""
    if not line.startswith("."):
        return _plain(line)
    name, _, rest = line[1:].partition(" ")
    if name in ("B", "I", "SM", "SB"):
        return _plain(" ".join(_arguments(rest)))
    if name in ("BR", "RB", "BI", "IB", "RI", "IR"):
        return _plain("".join(_arguments(rest)))
    if name in ("SH", "SS"):
        return _plain(" ".join(_arguments(rest)))
    return ""


def _source() -> list[str]:
    return MANPAGE.read_text(encoding="ascii").splitlines()


def _sections(macro: str, lines: list[str]) -> dict[str, list[str]]:
    """Heading (plain text) -> the source lines under it, for .SH or .SS headings."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        if line.startswith(f".{macro} ") or line == f".{macro}":
            current = found.setdefault(_line_text(line).strip(), [])
        elif macro == "SS" and line.startswith(".SH"):
            current = None
        elif current is not None:
            current.append(line)
    return found


def _tags(lines: list[str]) -> list[str]:
    """The tag of every .TP paragraph: the line after .TP, as plain text."""
    return [_line_text(lines[i + 1]).strip() for i, line in enumerate(lines[:-1])
            if line == ".TP" or line.startswith(".TP ")]


def _options_in_tags(lines: list[str]) -> set[str]:
    return {match for tag in _tags(lines) for match in _OPTION.findall(tag)}


def _man_sections() -> dict[str, list[str]]:
    return _sections("SH", _source())


def _man_commands() -> dict[str, list[str]]:
    """'llmos config show' -> the source lines of its subsection under COMMANDS."""
    return _sections("SS", _man_sections()["COMMANDS"])


# ---- walking the real command line -------------------------------------------------------------------------

def _cli_tree() -> dict[tuple[str, ...], set[str]]:
    """Every command path (the root is ()) -> its option names as --help lists them, without -h/--help."""
    from llmos.cli import app

    tree: dict[tuple[str, ...], set[str]] = {}

    def walk(command, path: tuple[str, ...]) -> None:
        options: set[str] = set()
        for param in command.params:
            if param.param_type_name != "option" or getattr(param, "hidden", False):
                continue
            options.update(name for name in (*param.opts, *param.secondary_opts) if name not in HELP_NAMES)
        tree[path] = options
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return tree


def _heading(path: tuple[str, ...]) -> str:
    return " ".join(("llmos", *path))


# ---- the tests ---------------------------------------------------------------------------------------------

def test_man_page_is_ascii_roff():
    data = MANPAGE.read_bytes()
    bad = sorted({b for b in data if b > 127})
    assert not bad, f"{MANPAGE} has non-ASCII bytes {bad}: write them as roff escapes (\\(em, \\(bu, \\(->)"
    assert data.startswith(b".\\\"") or data.startswith(b".TH"), "the page should start with a comment or .TH"
    assert re.search(rb"^\.TH LLMOS 1 ", data, re.M), "missing the .TH LLMOS 1 header"


def test_renders_without_warnings():
    groff = shutil.which("groff")
    if groff is None:
        pytest.fail("groff is not installed, so man/llmos.1 cannot be checked: install it "
                    "(Debian/Ubuntu: apt-get install groff-base)")
    # The default terminal width, and a narrow one: a word too long to break is a warning too.
    for width in ("78n", "60n"):
        result = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", f"-rLL={width}", str(MANPAGE)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and not result.stderr.strip(), (
            f"groff -man -ww (line length {width}) reported:\n{result.stderr}")


def test_renders_the_main_sections():
    groff = shutil.which("groff")
    if groff is None:
        pytest.fail("groff is not installed: apt-get install groff-base")
    result = subprocess.run([groff, "-man", "-Tascii", "-P-cbou", str(MANPAGE)], capture_output=True,
                            text=True, timeout=60, check=True)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "INTERACTIVE SHELL",
                    "CONFIGURATION", "ENVIRONMENT", "EXIT STATUS", "FILES", "SAFETY", "SHELL COMPLETION",
                    "EXAMPLES", "SEE ALSO"):
        assert re.search(rf"^{heading}$", result.stdout, re.M), f"the rendered page has no {heading} section"
    assert "llmos - a local-first natural-language shell" in result.stdout


def test_lists_every_command_and_option_of_the_cli():
    tree = _cli_tree()
    assert ("run",) in tree and ("config", "show") in tree, "walking the CLI found too little"
    sections = _man_sections()
    commands = _man_commands()
    synopsis = " ".join(_line_text(line) for line in sections["SYNOPSIS"])
    problems = []
    for path, options in sorted(tree.items()):
        if not path:
            missing = options - _options_in_tags(sections["OPTIONS"])
            if missing:
                problems.append(f"OPTIONS: no entry for {', '.join(sorted(missing))}")
            continue
        heading = _heading(path)
        if heading not in commands:
            problems.append(f"COMMANDS: no '.SS {heading}' subsection")
            continue
        missing = options - _options_in_tags(commands[heading])
        if missing:
            problems.append(f"{heading}: no .TP entry for {', '.join(sorted(missing))}")
        if len(path) == 1 and not re.search(rf"\b{re.escape(heading)}\b", synopsis):
            problems.append(f"SYNOPSIS: does not mention {heading}")
    assert not problems, "man/llmos.1 is out of date with `llmos --help`:\n  " + "\n  ".join(problems)


def test_documents_nothing_the_cli_does_not_have():
    tree = _cli_tree()
    sections = _man_sections()
    problems = []
    extra = _options_in_tags(sections["OPTIONS"]) - tree[()] - HELP_NAMES
    if extra:
        problems.append(f"OPTIONS: {', '.join(sorted(extra))} not in `llmos --help`")
    known = {_heading(path): options for path, options in tree.items() if path}
    for heading, lines in _man_commands().items():
        if heading not in known:
            problems.append(f"COMMANDS: '{heading}' is not a command of the CLI")
            continue
        extra = _options_in_tags(lines) - known[heading] - HELP_NAMES
        if extra:
            problems.append(f"{heading}: {', '.join(sorted(extra))} not in `{heading} --help`")
    assert not problems, "man/llmos.1 documents things the CLI does not have:\n  " + "\n  ".join(problems)


def test_exit_statuses_match_the_code():
    from llmos.errors import ExitStatus

    documented = set(_tags(_man_sections()["EXIT STATUS"]))
    assert documented == {str(int(status)) for status in ExitStatus}


def test_slash_commands_match_the_shell():
    from llmos.repl.commands import COMMANDS

    tags = _tags(_man_sections()["INTERACTIVE SHELL"])
    documented = {tag.split()[0] for tag in tags if tag.startswith("/")}
    assert documented == {f"/{name}" for name in COMMANDS}


def test_names_the_package_version():
    from llmos import __version__

    header = next(line for line in _source() if line.startswith(".TH "))
    assert f"llmos {__version__}" in _arguments(header[4:]), f"update the version in {header!r}"


def test_installed_with_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data_files = pyproject.get("tool", {}).get("setuptools", {}).get("data-files", {})
    assert "man/llmos.1" in data_files.get("share/man/man1", []), (
        'pyproject.toml must declare [tool.setuptools.data-files] "share/man/man1" = ["man/llmos.1"]')
    assert MANPAGE.is_file()
