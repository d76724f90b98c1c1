"""A desktop entry's Exec line: its quoting, its field codes (%f %u %F %U %i %c %k), and the argv it gives
for an optional file or URL."""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlparse

from llmos.servers.apps.desktop import DesktopEntry
from llmos.servers.common import ToolError

# A scheme has two letters or more: "C:\\Program Files\\…" (a made-up Windows path) is not a URL to open.
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def split_exec(line: str) -> list[str]:
    """Exec quoting (not a shell's): double quotes only, inside which \\" \\` \\$ \\\\ are escapes."""
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = escaped = False
    for char in line:
        if escaped:
            current.append(char if char in '"`$\\' else "\\" + char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted, in_arg = not quoted, True
        elif char in " \t" and not quoted:
            if in_arg:
                args.append("".join(current))
            current, in_arg = [], False
        else:
            current.append(char)
            in_arg = True
    if quoted:
        raise ToolError("The application's Exec line has an unclosed quote, so it cannot be started.")
    return args + ["".join(current)] if in_arg else args


def as_file(target: str, who: str) -> str:
    if target.startswith("file://"):
        return unquote(urlparse(target).path)
    if target.startswith("file:"):  # measured: Qwen2.5-Coder-1.5B wrote "file:~/shopping.txt"
        return os.path.abspath(os.path.expanduser(unquote(target[len("file:"):])))
    if URL.match(target):
        raise ToolError(f"{who} opens local files, not URLs like {target}.")
    return os.path.abspath(os.path.expanduser(target))


def command(entry: DesktopEntry, target: str | None) -> list[str]:
    """The argv for ``entry``: %f %u %F %U take the target (%F %U as a list, so none without one); %i %c %k
    expand as the spec says, so an argument like `--name %c` is never left dangling; %d %n %v… vanish."""
    args = split_exec(entry.get("Exec"))
    takes = {code for code in "fFuU" if any(f"%{code}" in arg for arg in args)}
    if target and not takes:
        # Said as the call to make: told "start it without one", the 0.5B sent the same target again.
        raise ToolError(f"{entry.name} does not take files or URLs. To start it, call launch_app with app "
                        f"{entry.name!r} and no target; to open {target!r}, use open_with_default.")
    value = None
    if target:  # %f/%F want a local path; %u/%U take a URL or a path
        value = as_file(target, entry.name) if takes <= {"f", "F"} else (
            target if URL.match(target) else os.path.abspath(os.path.expanduser(target)))
    codes = {"f": value, "F": value, "u": value, "U": value, "c": entry.name, "k": entry.path, "%": "%"}
    out: list[str] = []
    for arg in args:
        if arg in ("%F", "%U"):
            out += [value] if value else []
        elif arg == "%i":
            out += ["--icon", entry.get("Icon")] if entry.get("Icon") else []
        elif (expanded := re.sub(r"%(.)", lambda m: codes.get(m[1]) or "", arg)) or not arg:
            out.append(expanded)  # an argument that was only an empty field code is dropped
    return out
