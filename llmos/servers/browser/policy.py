"""Which addresses may be fetched, and fetching them: fetching is an SSRF risk, so every hop (first request
and each redirect) must pass the allow/deny host globs and, unless ``allow_private``, every address the host
resolves to must be public; the address actually connected to is checked again, which closes the
DNS-rebinding gap between our lookup and httpx's."""

from __future__ import annotations

import contextlib
import fnmatch
import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from llmos import __version__
from llmos.servers.common import ToolError

MB = 1024 * 1024


def is_internal(address: str) -> bool:
    """True for addresses on this machine or a private network (anything not plainly public)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone such as %eth0
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:127.0.0.1 is 127.0.0.1
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)  # not is_global: e.g. 100.64/10 (CGNAT, Tailscale)


class Policy:
    """Which addresses may be fetched, and the size and time limits."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.allow = [str(g).lower() for g in settings.get("allow") or []]
        self.deny = [str(g).lower() for g in settings.get("deny") or []]
        self.allow_private = bool(settings.get("allow_private", False))
        self.max_bytes = int(settings.get("max_bytes", 2 * MB))
        self.max_download_bytes = int(settings.get("max_download_bytes", 500 * MB))
        self.timeout_s = float(settings.get("timeout_s", 15))
        self.max_redirects = int(settings.get("max_redirects", 5))
        # Proxy env vars are ignored (trust_env=False) so the address checks mean what they say; a proxy
        # must be configured explicitly, and then the proxy, not us, connects to the target.
        self.proxy = settings.get("proxy") or None
        self.download_dir = settings.get("download_dir")

    def check(self, scheme: str, host: str | None, port: int | None, url: str, resolve: bool = True) -> None:
        if scheme not in ("http", "https"):
            raise ToolError(f"Only http:// and https:// addresses can be used, not {scheme or 'this'}: {url}")
        if not host:
            raise ToolError(f"The address {url} has no host name.")
        host = host.lower().rstrip(".")
        if any(fnmatch.fnmatchcase(host, g) for g in self.deny):
            raise ToolError(f"The host {host} is on the deny list (servers.browser.deny).")
        if self.allow and not any(fnmatch.fnmatchcase(host, g) for g in self.allow):
            raise ToolError(f"The host {host} is not on the allow list (servers.browser.allow: "
                            f"{', '.join(self.allow)}).")
        if not resolve or self.allow_private:
            return
        try:
            infos = socket.getaddrinfo(host, port or (443 if scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise ToolError(f"Cannot find the host {host}: {getattr(exc, 'strerror', None) or exc}.") from exc
        for info in infos:
            self.refuse_internal(host, str(info[4][0]))

    def refuse_internal(self, host: str, address: str) -> None:
        if not self.allow_private and is_internal(address):
            raise ToolError(f"Refused: {host} is at the local or private network address {address}; "
                            "fetching from this machine or the local network needs "
                            "servers.browser.allow_private: true.")

    @contextlib.contextmanager
    def open(self, url: str) -> Iterator[tuple[Any, str, list[str]]]:
        """GET ``url`` following redirects by hand, checking every hop; yield (streaming response,
        final url, redirects) with the body still unread."""
        import httpx

        redirects: list[str] = []
        headers = {"User-Agent": f"llmos/{__version__} (local assistant)", "Accept": "*/*"}
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False, trust_env=False, proxy=self.proxy,
                          headers=headers) as client:
            for _ in range(self.max_redirects + 1):
                scheme = urlsplit(url).scheme.lower()
                if scheme not in ("http", "https"):  # before httpx, which misreads e.g. file:// URLs
                    self.check(scheme, None, None, url)
                try:
                    request = client.build_request("GET", url)
                except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
                    raise ToolError(f"{url} is not a valid web address ({exc}).") from exc
                # Check what httpx will connect to, not our own parse of the string.
                target = request.url
                self.check(target.scheme, target.raw_host.decode("ascii"), target.port, url)
                try:
                    response = client.send(request, stream=True)
                except httpx.TimeoutException as exc:
                    raise ToolError(f"{url} did not answer within {self.timeout_s:g} s.") from exc
                except httpx.HTTPError as exc:
                    raise ToolError(f"Could not fetch {url}: {exc or type(exc).__name__}.") from exc
                with contextlib.closing(response):
                    stream = response.extensions.get("network_stream")
                    peer = stream.get_extra_info("server_addr") if stream is not None else None
                    if peer and not self.proxy:
                        self.refuse_internal(target.host, str(peer[0]))
                    if response.is_redirect:
                        redirects.append(url)
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise ToolError(f"{url} answered {response.status_code} {response.reason_phrase}.")
                    yield response, url, redirects
                    return
            raise ToolError(f"Too many redirects (over {self.max_redirects}), starting at {redirects[0]}.")

    def read(self, response: Any, url: str, limit: int, write: Callable[[bytes], Any],
             deadline: float | None) -> tuple[int, bool]:
        """Stream the body into ``write``, stopping at ``limit`` bytes; return (bytes written, truncated)."""
        import httpx

        total = 0
        try:
            for chunk in response.iter_bytes():
                if deadline is not None and time.monotonic() > deadline:
                    raise ToolError(f"{url} took longer than {self.timeout_s:g} s to send its content.")
                if total + len(chunk) > limit:
                    write(chunk[:limit - total])
                    return limit, True
                write(chunk)
                total += len(chunk)
        except httpx.HTTPError as exc:
            raise ToolError(f"The connection to {url} failed while reading: {exc or type(exc).__name__}.") \
                from exc
        return total, False
