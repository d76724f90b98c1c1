"""The filesystem server: look at, search, change and delete files — inside allowed roots, reversibly.

One module per job (reading, searching, writing, deleting); each tool is a plain function taking the
server's state (`state.Fs`) first, registered here with its annotations and the facts it declares as MCP
`_meta` (undo can reverse it, which arguments are paths). Submodules are imported when the server is built,
so `llmos undo` can use `trash` and `reverse` without loading the MCP SDK.
"""

from __future__ import annotations

from typing import Any


def build_server(settings: dict[str, Any]) -> Any:
    from llmos.servers.common import ADDITIVE, DESTRUCTIVE, READ_ONLY, new_server
    from llmos.servers.filesystem import deleting, reading, searching, writing
    from llmos.servers.filesystem.state import Fs, walk_limit
    from llmos.servers.sandbox import Sandbox
    from llmos.servers.tooling import Tool, facts, register
    from llmos.servers.undo import UndoJournal

    fs = Fs(Sandbox.from_settings(settings), UndoJournal(), walk_limit=walk_limit(settings))
    server = new_server("filesystem", "Files and folders on this computer: list, read, search, create, move, "
                        "and delete (to the trash, undoable). Paths may use ~.")
    looking, reading_content = facts(paths=["path"]), facts(paths=["path"], content=True)
    register(server, fs, [
        Tool(reading.list_directory, READ_ONLY, looking), Tool(reading.tree, READ_ONLY, looking),
        Tool(reading.stat, READ_ONLY, looking), Tool(reading.read_file, READ_ONLY, reading_content),
        Tool(searching.search_files, READ_ONLY, looking), Tool(searching.search_content, READ_ONLY, reading_content),
        Tool(searching.find_largest, READ_ONLY, looking), Tool(searching.disk_usage, READ_ONLY, looking),
        Tool(writing.create_file, ADDITIVE, facts(reversible=True, paths=["path"])),
        Tool(writing.write_file, DESTRUCTIVE, facts(reversible=True, paths=["path"])),
        Tool(writing.append_file, DESTRUCTIVE, facts(reversible=True, paths=["path"])),
        Tool(writing.make_directory, ADDITIVE, facts(reversible=True, paths=["path"])),
        Tool(writing.copy, ADDITIVE, facts(reversible=True, paths=["source", "destination"])),
        Tool(deleting.move, DESTRUCTIVE, facts(reversible=True, paths=["source", "destination"])),
        Tool(deleting.delete, DESTRUCTIVE, facts(reversible=True, paths=["path"])),
        Tool(deleting.delete_permanently, DESTRUCTIVE, facts(reversible=False, paths=["path"])),
    ])
    return server
