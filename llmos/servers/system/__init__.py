"""The machine itself: CPU, memory, disks, processes, network, battery, temperatures, GPU, environment.

Everything is read-only except `kill_process`. CPU percentages are measured over a short window (≤0.2 s)
so every answer describes "now", never an average since some earlier call.

Modules: hardware (overview, disks, battery, temperatures, GPU), processes, network, session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTRUCTIONS = ("Facts about this computer (CPU, memory, disks, processes, network, battery, temperatures, GPU, "
                "environment) and ending a process by PID.")


def build_server(settings: dict[str, Any]) -> MCPServer:
    from llmos.servers import common, tooling
    from llmos.servers.system import hardware, network, processes, session

    server = common.new_server("system", INSTRUCTIONS)
    tools = [*hardware.OVERVIEW, *processes.TOOLS, *network.TOOLS, *hardware.SENSORS, *session.TOOLS]
    tooling.register(server, processes.SystemContext.from_settings(settings), tools)
    return server
