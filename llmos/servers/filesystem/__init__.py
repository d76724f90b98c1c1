"""The filesystem server: look at, search, change and delete files — inside allowed roots, reversibly.

One module per job (reading, searching, writing, deleting); each tool is a plain function taking the
server's state (`state.Fs`) first, registered here with its annotations and the facts it declares as MCP
`_meta` (undo can reverse it, which arguments are paths). Submodules are imported when the server is built,
so `llmos undo` can use `trash` and `reverse` without loading the MCP SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build_server(settings: dict[str, Any]) -> Any:
    from llmos.servers.tooling import facts
    from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, new_server, register
    from llmos.servers.filesystem import deleting, reading, searching, writing
    from llmos.servers.filesystem.state import Fs, walk_limit
    from llmos.servers.sandbox import Sandbox
    from llmos.servers.undo import UndoJournal

    fs = Fs(Sandbox.from_settings(settings), UndoJournal(), walk_limit=walk_limit(settings))
    server = new_server("filesystem", "Files and folders on this computer: list, read, search, create, move, "
                        "and delete (to the trash, undoable). Paths may use ~.")
    looking = facts(paths=["path"])
    tools: list[tuple[Callable[..., Any], Any, dict[str, Any]]] = [
        (reading.list_directory, READ_ONLY, looking), (reading.tree, READ_ONLY, looking),
        (reading.stat, READ_ONLY, looking), (reading.read_file, READ_ONLY, looking),
        (searching.search_files, READ_ONLY, looking), (searching.search_content, READ_ONLY, looking),
        (searching.find_largest, READ_ONLY, looking), (searching.disk_usage, READ_ONLY, looking),
        (writing.create_file, ADDITIVE, facts(reversible=True, paths=["path"])),
        (writing.write_file, DESTRUCTIVE, facts(reversible=True, paths=["path"])),
        (writing.append_file, DESTRUCTIVE, facts(reversible=True, paths=["path"])),
        (writing.make_directory, ADDITIVE, facts(reversible=True, paths=["path"])),
        (writing.copy, ADDITIVE, facts(reversible=True, paths=["source", "destination"])),
        (deleting.move, DESTRUCTIVE, facts(reversible=True, paths=["source", "destination"])),
        (deleting.delete, DESTRUCTIVE, facts(reversible=True, paths=["path"])),
        (deleting.delete_permanently, DESTRUCTIVE, facts(reversible=False, paths=["path"])),
    ]
    for fn, preset, meta in tools:
        register(server, fn, fs, annotations=preset, meta=meta)
    return server
