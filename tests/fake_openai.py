"""A real OpenAI-compatible HTTP server on 127.0.0.1 that plays the LLM in tests.

It serves ``POST /v1/chat/completions`` from a script of turns and
``POST /v1/embeddings`` with a deterministic bag-of-words embedding, and
records every request it received (path, JSON body, whether a bearer key was
sent) so tests can compare it with the run's trace.

A script turn is one of:
  {"content": "text"}                                   an assistant message
  {"tool_calls": [{"name": "kb_search", "arguments": {...}}]}
  {"status": 429} / {"status": 500}                    an error response
  any of these with "delay": seconds                    answer after a pause

Instead of a script, ``respond`` may be set to a function of the request
body that returns the turn: a model that answers by what it is asked, for
several runs talking to it at once (the script is one shared sequence).
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import numpy as np


def hash_embedding(text: str, dim: int) -> list[float]:
    vector = np.zeros(dim, dtype=np.float64)
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).tolist()


class FakeOpenAI:
    def __init__(self, embedding_dim: int = 64):
        self.embedding_dim = embedding_dim
        self.script: list[dict[str, Any]] = []
        self.default_turn: dict[str, Any] | None = None  # answers once the script is used up
        self.respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def _next_turn(self) -> dict[str, Any]:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            return self.default_turn or {"status": 500, "error": "script exhausted"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, "body": body,
                                          "has_key": self.headers.get("Authorization", "").startswith("Bearer ")})
                if self.path.endswith("/embeddings"):
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    self._send(200, {"object": "list", "model": body.get("model"),
                                     "data": [{"object": "embedding", "index": i,
                                               "embedding": hash_embedding(t, fake.embedding_dim)}
                                              for i, t in enumerate(texts)],
                                     "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                elif self.path.endswith("/chat/completions"):
                    self._chat(fake.respond(body) if fake.respond else fake._next_turn(), body)
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def _chat(self, turn: dict, body: dict) -> None:
                time.sleep(turn.get("delay", 0))
                if "status" in turn:
                    self._send(turn["status"], {"error": {"message": turn.get("error", "scripted"),
                                                          "type": "scripted"}})
                    return
                calls = [{"id": f"call_{i}", "type": "function",
                          "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                         for i, c in enumerate(turn.get("tool_calls", []))]
                message = {"role": "assistant", "content": turn.get("content")}
                if calls:
                    message["tool_calls"] = calls
                self._send(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
                                 "model": body.get("model"),
                                 "choices": [{"index": 0, "message": message,
                                              "finish_reason": "tool_calls" if calls else "stop"}],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 20,
                                           "total_tokens": 120}})

        return Handler
