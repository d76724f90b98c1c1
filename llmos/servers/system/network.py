"""This machine's network: interfaces, connection counts, listening ports. Local facts only: nothing here
sends a packet."""

from __future__ import annotations

import socket
from typing import Annotated, Any

import psutil
from pydantic import Field

from llmos.servers.common import READ_ONLY, cap
from llmos.servers.system.models import Address, Interface, Listener, Network
from llmos.servers.tooling import Tool, facts


def _interfaces() -> list[Interface]:
    families = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6", psutil.AF_LINK: "mac"}
    stats, addrs = psutil.net_if_stats(), psutil.net_if_addrs()
    interfaces = []
    for nic in sorted(set(stats) | set(addrs)):
        st = stats.get(nic)
        interfaces.append(Interface(
            name=nic, is_up=bool(st and st.isup), speed_mbps=(st.speed or None) if st else None,
            mtu=st.mtu if st else 0,
            addresses=[Address(family=families[a.family], address=a.address, netmask=a.netmask)
                       for a in addrs.get(nic, []) if a.family in families]))
    return interfaces


def _process_name(pid: int | None, names: dict[int, str | None]) -> str | None:
    if not pid:
        return None
    if pid not in names:
        try:
            names[pid] = psutil.Process(pid).name()
        except psutil.Error:
            names[pid] = None
    return names[pid]


def _connections(conns: list[Any]) -> tuple[dict[str, int], list[Listener]]:
    counts: dict[str, int] = {}
    listeners: list[Listener] = []
    names: dict[int, str | None] = {}
    for c in conns:
        udp = c.type == socket.SOCK_DGRAM
        state = "UDP" if udp else c.status
        counts[state] = counts.get(state, 0) + 1
        if (c.status == psutil.CONN_LISTEN or (udp and not c.raddr)) and c.laddr:
            listeners.append(Listener(protocol="udp" if udp else "tcp", address=c.laddr.ip, port=c.laddr.port,
                                      pid=c.pid, process=_process_name(c.pid, names)))
    listeners.sort(key=lambda x: (x.port, x.protocol, x.address))
    return counts, listeners


def network_info(
    limit: Annotated[int, Field(description="most listening ports to show", ge=1, le=200)] = 50,
) -> Network:
    """Network interfaces (addresses, up/down, speed), connection counts and listening ports with PIDs."""
    note = None
    try:
        conns = psutil.net_connections("inet")
    except psutil.AccessDenied:
        conns, note = [], "Connections are not visible without administrator rights on this system."
    counts, listeners = _connections(list(conns))
    shown, more = cap(listeners, limit)
    return Network(interfaces=_interfaces(), connection_counts=counts, listening=shown, more_listening=more,
                   note=note)


TOOLS = [Tool(network_info, READ_ONLY, facts(), title="Network")]
