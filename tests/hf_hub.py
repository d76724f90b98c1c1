"""A loopback Hugging Face hub for download tests, set through HF_ENDPOINT, and a tiny real GGUF writer.

It answers what huggingface_hub sends for one file: ``HEAD /{repo}/resolve/{revision}/{file}`` with the hub's
headers (X-Repo-Commit, X-Linked-Etag = the LFS sha256, X-Linked-Size, ETag, Accept-Ranges), and ``GET`` of
the same path with ``Range: bytes=N-`` → 206 Partial Content. Faults on demand: cut the connection after N
bytes (once), serve bytes that do not match the advertised sha256, advertise a size, answer a status
(401 gated, 404), go slowly. Every request is recorded with its headers.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from gguf import GGUFWriter

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CHUNK = 64 * 1024


@dataclass
class HubFile:
    data: bytes
    sha256: str = ""  # advertised; defaults to the data's real sha256
    size: int | None = None  # advertised; defaults to len(data)
    served: bytes | None = None  # bytes actually sent (default: data)

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeHub:
    files: dict[str, HubFile] = field(default_factory=dict)  # "repo/file" -> file
    requests: list[Seen] = field(default_factory=list)
    cut_after: int | None = None  # close the connection after this many body bytes, once
    delay_s: float = 0.0  # sleep per 64 KiB chunk
    status: int | None = None  # answer every request with this status
    error_code: str = ""  # X-Error-Code with ``status`` (GatedRepo, RepoNotFound, EntryNotFound)
    cdn: bool = False  # answer /resolve/ with a 302 to a signed URL on another host name, as the hub does
    url: str = ""

    def add(self, repo: str, file: str, hub_file: HubFile) -> HubFile:
        self.files[f"{repo}/{file}"] = hub_file
        return hub_file

    def gets(self) -> list[Seen]:
        """File downloads (huggingface_hub also fetches /api/agent-harnesses for its user agent)."""
        return [r for r in self.requests if r.method == "GET" and ("/resolve/" in r.path or "/cdn/" in r.path)]

    def file_requests(self) -> list[Seen]:
        return [r for r in self.requests if "/resolve/" in r.path or r.path.startswith("/cdn/")]

    def __enter__(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub.handle(self, body=False)

            def do_GET(self) -> None:
                hub.handle(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- one request ------------------------------------------------------------------------------------

    def handle(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        self.requests.append(Seen(req.command, req.path, {k.lower(): v for k, v in req.headers.items()}))
        if req.path.startswith("/cdn/"):
            return self._from_cdn(req, body)
        key, found = self._lookup(req.path)
        if self.status is not None or found is None:
            status = self.status or 404
            req.send_response(status)
            req.send_header("X-Error-Code", self.error_code or ("EntryNotFound" if key else "RepoNotFound"))
            req.send_header("X-Error-Message", "test hub refusal")
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        data = found.served if found.served is not None else found.data
        size = found.size if found.size is not None else len(data)
        if self.cdn:  # LFS files: the metadata rides on the redirect; the bytes come from elsewhere
            req.send_response(302)
            port = self.url.rsplit(":", 1)[1]
            req.send_header("Location", f"http://localhost:{port}/cdn/{key}?X-Amz-Signature=test")
            self._hub_headers(req, found, size)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        self._serve(req, data, body, found, size)

    def _from_cdn(self, req: BaseHTTPRequestHandler, body: bool) -> None:
        found = self.files.get(req.path.split("?", 1)[0].removeprefix("/cdn/"))
        assert found is not None, req.path
        data = found.served if found.served is not None else found.data
        self._serve(req, data, body, None, len(data))

    @staticmethod
    def _hub_headers(req: BaseHTTPRequestHandler, found: HubFile, size: int) -> None:
        req.send_header("X-Repo-Commit", COMMIT)
        req.send_header("ETag", f'"{found.sha256}"')
        req.send_header("X-Linked-Etag", f'"{found.sha256}"')
        req.send_header("X-Linked-Size", str(size))

    def _serve(self, req: BaseHTTPRequestHandler, data: bytes, body: bool, found: HubFile | None,
               size: int) -> None:
        start = _range_start(req.headers.get("Range"))
        req.send_response(206 if start else 200)
        if found is not None:
            self._hub_headers(req, found, size)
        req.send_header("Accept-Ranges", "bytes")
        req.send_header("Content-Length", str(len(data) - start))
        if start:
            req.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        req.end_headers()
        if body:
            self._send(req, data[start:])

    def _lookup(self, path: str) -> tuple[str, HubFile | None]:
        repo_and_rest = path.split("?", 1)[0].lstrip("/")
        if "/resolve/" not in repo_and_rest:
            return "", None
        repo, rest = repo_and_rest.split("/resolve/", 1)
        file = rest.split("/", 1)[1] if "/" in rest else ""
        if not any(k.startswith(repo + "/") for k in self.files):
            return "", None
        return f"{repo}/{file}", self.files.get(f"{repo}/{file}")

    def _send(self, req: BaseHTTPRequestHandler, data: bytes) -> None:
        limit, self.cut_after = self.cut_after, None
        sent = 0
        try:
            for i in range(0, len(data), CHUNK):
                chunk = data[i:i + CHUNK]
                if limit is not None and sent + len(chunk) >= limit:
                    req.wfile.write(chunk[:limit - sent])
                    req.wfile.flush()
                    req.connection.shutdown(socket.SHUT_RDWR)  # the connection drops mid-body
                    req.close_connection = True
                    return
                req.wfile.write(chunk)
                sent += len(chunk)
                if self.delay_s:
                    time.sleep(self.delay_s)
        except (BrokenPipeError, ConnectionResetError, OSError):
            req.close_connection = True


def _range_start(header: str | None) -> int:
    if not header or not header.startswith("bytes="):
        return 0
    return int(header.removeprefix("bytes=").split("-", 1)[0] or 0)


def tiny_gguf(path: Path, n_bytes: int = 4 * 1024 * 1024, *, tools: bool = True, name: str = "tiny") -> Path:
    """A real GGUF file written with the gguf package: llama architecture, small numbers, ``n_bytes`` of
    float32 weights (random, so no two sizes hash alike) split over a few tensors."""
    writer = GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_block_count(2)
    writer.add_context_length(2048)
    writer.add_embedding_length(64)
    writer.add_feed_forward_length(128)
    writer.add_head_count(4)
    writer.add_head_count_kv(2)
    writer.add_file_type(0)
    writer.add_vocab_size(256)
    writer.add_token_list([f"t{i}" for i in range(256)])
    writer.add_chat_template("{% if tools %}tools{% endif %}{{ messages }}" if tools else "{{ messages }}")
    rng = np.random.default_rng(n_bytes)
    per = n_bytes // 4 // 4
    for i, tensor in enumerate(("token_embd.weight", "blk.0.attn_q.weight", "blk.1.attn_q.weight",
                                "output_norm.weight")):
        writer.add_tensor(tensor, rng.standard_normal(per, dtype=np.float32).reshape(-1, 64) if i < 3
                          else rng.standard_normal(64, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
