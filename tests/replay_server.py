"""A loopback HTTP server that replays recorded provider traffic.

Cloud APIs cannot be reached from here, so their adapters are tested against their real wire formats
served from 127.0.0.1: the real SDK makes real HTTP requests and parses real bytes.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-reply (a stalled or cut stream it gave up on) is what the fault tests
        do on purpose: not worth a traceback on stderr, where tests look for llmos's own."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@dataclass
class Reply:
    status: int = 200
    chunks: list[bytes] = field(default_factory=list)  # sent one by one with chunked encoding
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # pause before each chunk (to test streaming, time-outs and cancellation)
    # Faults, after the chunks: hold the connection open silently for stall_s (a hung provider), sending
    # `trickle` every trickle_every_s meanwhile (a keep-alive that never ends), then either end the body
    # properly or, with cut, drop the connection mid-body. `before_headers_s` stalls before the status line.
    stall_s: float = 0.0
    trickle: bytes = b""
    trickle_every_s: float = 0.5
    cut: bool = False
    before_headers_s: float = 0.0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def sse(events: list[dict[str, Any] | str], named: bool = False) -> list[bytes]:
    """Server-sent events: OpenAI style (``data:`` lines) or Anthropic style (``event:`` + ``data:``)."""
    out = []
    for ev in events:
        if isinstance(ev, str):  # e.g. "[DONE]"
            out.append(f"data: {ev}\n\n".encode())
        elif named:
            out.append(f"event: {ev['type']}\ndata: {json.dumps(ev)}\n\n".encode())
        else:
            out.append(f"data: {json.dumps(ev)}\n\n".encode())
    return out


def ndjson(objects: list[dict[str, Any]]) -> list[bytes]:
    """Ollama's streaming format: one JSON object a line."""
    return [(json.dumps(o) + "\n").encode() for o in objects]


class ReplayServer:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # ends every stall when the test is over
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                server.requests.append(Recorded(self.command, path, dict(self.headers), body))
                reply = server._next(self.command, path)
                if reply.before_headers_s and server._stopping.wait(reply.before_headers_s):
                    return
                self.send_response(reply.status)
                headers = {"content-type": "application/json", **reply.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in reply.chunks:
                        if reply.delay_s:
                            time.sleep(reply.delay_s)
                        self._chunk(chunk)
                    self._stall(reply)
                    if reply.cut:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up (cancellation); that is a test outcome, not an error

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _stall(self, reply: Reply) -> None:
                end = time.monotonic() + reply.stall_s
                while time.monotonic() < end and not server._stopping.is_set():
                    pause = min(reply.trickle_every_s if reply.trickle else 0.05, end - time.monotonic())
                    if server._stopping.wait(max(pause, 0)):
                        return
                    if reply.trickle:
                        self._chunk(reply.trickle)

            do_GET = do_POST = do_DELETE = _handle

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, path: str, reply: Reply | None = None, **kwargs: Any) -> None:
        """Queue a reply for a route; the last queued reply repeats once the queue is drained."""
        self._routes.setdefault((method.upper(), path), []).append(reply or Reply(**kwargs))

    def add_json(self, method: str, path: str, obj: Any, status: int = 200,
                 headers: dict[str, str] | None = None) -> None:
        self.add(method, path, Reply(status, [json.dumps(obj).encode()], headers or {}))

    def _next(self, method: str, path: str) -> Reply:
        with self._lock:
            queue = self._routes.get((method, path))
            if not queue:
                return Reply(404, [json.dumps({"error": {"message": f"no replay for {method} {path}"}}).encode()])
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
