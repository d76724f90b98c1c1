"""An OpenAI-compatible HTTP server on 127.0.0.1, backed by llmos's embedded engine — the test LLM server.

It speaks the parts of llama.cpp's llama-server that llmos and the tests use, with the same shapes:
/health, /v1/models, /tokenize, /v1/chat/completions (streamed as server-sent events or whole, with usage,
``response_format: json_schema`` held by a grammar, a prompt over the context answered with llama-server's
400 ``exceed_context_size_error``), and generation stopped when the client goes away. Tools are handed to the
model's own template and its words returned as they are (what llama-server does for these small models).

    python -m tests.engine_server --model FILE.gguf --alias smollm2 --port 8080 --ctx 2048 --threads 1
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from llmos.engine.backend import Cancelled, EngineError, LoadOptions
from llmos.engine.chat import Reader, plan
from llmos.engine.engine import Engine, Generation
from llmos.llm.messages import Message, ToolCall, ToolSpec


def messages_from_wire(items: list[dict[str, Any]]) -> list[Message]:
    out = []
    for m in items:
        content = m.get("content") or ""
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        calls = []
        for c in m.get("tool_calls") or []:
            raw = c.get("function", {}).get("arguments") or "{}"
            try:
                arguments = json.loads(raw) if isinstance(raw, str) else raw
            except json.JSONDecodeError:
                arguments = {}
            calls.append(ToolCall(c.get("id", ""), c.get("function", {}).get("name", ""),
                                  arguments if isinstance(arguments, dict) else {}))
        out.append(Message(m.get("role", "user"), content, calls, m.get("tool_call_id"), m.get("name")))
    return out


def tools_from_wire(items: list[dict[str, Any]] | None) -> list[ToolSpec]:
    return [ToolSpec(t["function"]["name"], t["function"].get("description", ""),
                     t["function"].get("parameters") or {"type": "object"}) for t in items or []]


class _Watch:
    """Cancels the engine when the client closes its connection (checked every 50 ms)."""

    def __init__(self, engine: Engine, conn: socket.socket):
        self.engine, self.conn = engine, conn
        self.done = threading.Event()
        self.gone = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.done.wait(0.05):
            try:
                readable, _, _ = select.select([self.conn], [], [], 0)
                if readable and not self.conn.recv(1, socket.MSG_PEEK):
                    self.gone = True
                    self.engine.cancel()
                    return
            except (OSError, ValueError):
                return


class Handler(BaseHTTPRequestHandler):
    server: EngineServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the base class's name
        self.server.log(format % args)

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        if self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": self.server.alias, "object": "model",
                                                         "owned_by": "llmos", "created": 0}]})
        else:
            self._json(404, {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as exc:
            self._json(400, _error(400, f"invalid JSON: {exc}", "invalid_request_error"))
            return
        if self.path == "/tokenize":
            self._json(200, {"tokens": self.server.engine.backend.tokenize(str(body.get("content", "")))})
        elif self.path in ("/v1/chat/completions", "/chat/completions"):
            self._chat(body)
        else:
            self._json(404, _error(404, "File Not Found", "not_found_error"))

    def _chat(self, body: dict[str, Any]) -> None:
        engine = self.server.engine
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else None
        try:
            chat_plan = plan(engine, messages_from_wire(body.get("messages") or []),
                             tools_from_wire(body.get("tools")), schema, constrain_tools=False)
        except ValueError as exc:
            self._json(400, _error(400, str(exc), "invalid_request_error"))
            return
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or engine.n_ctx
        if self.server.predict:  # llama-server's -n caps what a request asks for too ("exceeds server configuration")
            limit = min(int(limit), self.server.predict)
        if len(chat_plan.prompt) + 1 > engine.n_ctx:
            error = _error(400, "the request exceeds the available context size, try increasing it",
                           "exceed_context_size_error")
            error["error"].update(n_prompt_tokens=len(chat_plan.prompt), n_ctx=engine.n_ctx)
            self._json(400, error)
            return
        job = Generation(chat_plan.prompt, min(int(limit), engine.n_ctx - len(chat_plan.prompt)), chat_plan.grammar,
                         float(body.get("temperature") or 0.0), int(body.get("seed") or 0),
                         lazy_grammar=chat_plan.lazy_grammar)
        reply = _Reply(self, body, chat_plan.mode)
        watch = _Watch(engine, self.connection)
        started = time.monotonic()
        try:
            reader = Reader(chat_plan, lambda: f"call_{uuid.uuid4().hex[:12]}")
            for piece in engine.stream(job):
                reply.piece(reader.feed(piece))
            reply.finish(job)
            stats = job.stats
            self.server.log(f"chat: {stats.prompt_tokens} prompt tokens ({stats.reused_tokens} reused), "
                            f"{stats.output_tokens} written (at most {job.max_tokens}, {stats.finish_reason}) "
                            f"in {time.monotonic() - started:.2f} s")
        except Cancelled:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            engine.cancel()
            self.close_connection = True
        except EngineError as exc:
            reply.fail(500, str(exc))
        finally:
            watch.done.set()

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _error(code: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": kind}}


class _Reply:
    """One chat completion on the wire: SSE chunks as pieces come, or one JSON document at the end."""

    def __init__(self, handler: Handler, body: dict[str, Any], mode: str):
        self.h = handler
        self.stream = bool(body.get("stream"))
        self.usage_in_stream = bool((body.get("stream_options") or {}).get("include_usage"))
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.model = body.get("model") or handler.server.alias
        self.parts: list[str] = []
        self.started = False

    def _chunk(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> None:
        payload: dict[str, Any] = {"id": self.id, "object": "chat.completion.chunk", "created": int(time.time()),
                                   "model": self.model, "choices": choices}
        if usage is not None:
            payload["usage"] = usage
        self.h.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.h.wfile.flush()

    def _start(self) -> None:
        if self.stream and not self.started:
            self.h.send_response(200)
            self.h.send_header("content-type", "text/event-stream")
            self.h.send_header("cache-control", "no-cache")
            self.h.send_header("connection", "close")
            self.h.end_headers()
            self.h.close_connection = True
            self._chunk([{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}])
        self.started = True

    def piece(self, text: str) -> None:
        self._start()
        if not text:
            return
        self.parts.append(text)
        if self.stream:
            self._chunk([{"index": 0, "delta": {"content": text}, "finish_reason": None}])

    def finish(self, job: Generation) -> None:
        self._start()
        finish = "length" if job.stats.finish_reason == "length" else "stop"
        usage = {"prompt_tokens": job.stats.prompt_tokens, "completion_tokens": job.stats.output_tokens,
                 "total_tokens": job.stats.prompt_tokens + job.stats.output_tokens,
                 "prompt_tokens_details": {"cached_tokens": job.stats.reused_tokens}}
        if self.stream:
            self._chunk([{"index": 0, "delta": {}, "finish_reason": finish}])
            if self.usage_in_stream:
                self._chunk([], usage)
            self.h.wfile.write(b"data: [DONE]\n\n")
            self.h.wfile.flush()
            return
        self.h._json(200, {"id": self.id, "object": "chat.completion", "created": int(time.time()),
                           "model": self.model, "usage": usage,
                           "choices": [{"index": 0, "finish_reason": finish,
                                        "message": {"role": "assistant", "content": "".join(self.parts)}}]})

    def fail(self, status: int, message: str) -> None:
        if self.stream and self.started:
            self.h.wfile.write(f"data: {json.dumps(_error(status, message, 'server_error'))}\n\n".encode())
        else:
            self.h._json(status, _error(status, message, "server_error"))


class EngineServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, engine: Engine, alias: str, log_file: Path | None = None, predict: int = 0):
        super().__init__(("127.0.0.1", port), Handler)
        self.engine, self.alias, self.predict = engine, alias, predict
        self._log = open(log_file, "a", encoding="utf-8") if log_file else None  # noqa: SIM115 — lives as long

    def log(self, line: str) -> None:
        if self._log:
            self._log.write(line + "\n")
            self._log.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--alias", default="")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--predict", type=int, default=0,
                        help="most tokens of any answer, whatever the request's max_tokens (llama-server's -n); "
                             "0: up to the context")
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    engine = Engine.load(LoadOptions(args.model, n_ctx=args.ctx, n_threads=args.threads))
    server = EngineServer(args.port, engine, args.alias or str(args.model), args.log, args.predict)
    server.serve_forever()


if __name__ == "__main__":
    main()
