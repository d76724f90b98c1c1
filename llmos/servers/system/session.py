"""The person's session: who, where, which desktop, shell and terminal."""

from __future__ import annotations

import os
import socket

from llmos.servers.common import READ_ONLY
from llmos.servers.system.models import Environment
from llmos.servers.tooling import Tool, facts


def environment_info() -> Environment:
    """The user's session: user name, home, shell, desktop, display, locale, terminal, PATH size."""
    import pwd

    env = os.environ
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no passwd entry (some containers)
        user = env.get("USER") or str(os.getuid())

    def first(*names: str) -> str | None:
        return next((env[n] for n in names if env.get(n)), None)

    return Environment(
        user=user, uid=os.getuid(), home=os.path.expanduser("~"), hostname=socket.gethostname(),
        shell=first("SHELL"),
        desktop=first("XDG_CURRENT_DESKTOP", "XDG_SESSION_DESKTOP", "DESKTOP_SESSION"),
        session_type=first("XDG_SESSION_TYPE"), display=first("WAYLAND_DISPLAY", "DISPLAY"),
        locale=first("LC_ALL", "LANG"), terminal=first("TERM"),
        path_dirs=len([d for d in env.get("PATH", "").split(os.pathsep) if d]))


TOOLS = [Tool(environment_info, READ_ONLY, facts(), title="Environment")]
