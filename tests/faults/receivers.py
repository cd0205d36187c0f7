"""Loopback stand-ins for outside systems (the SMS gateway, the 12345 platform): small HTTP
servers that can be switched down, and that keep what they received, deduplicated by the
``Idempotency-Key`` header as a real receiver must (delivery is at least once)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bianmin.core.gateways import HttpSmsGateway


class Receiver:
    """modes: "up" (accept, answer 200), "down" (answer 503), "drop" (accept the message, then
    close the connection without answering: the sender cannot know it arrived)."""

    def __init__(self):
        self.mode = "up"
        self.raw: list[dict] = []  # every message that reached the receiver, duplicates included
        self.accepted: dict[str, dict] = {}  # idempotency key -> first copy, in arrival order
        self.refused = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key", "")
                with receiver._lock:
                    mode = receiver.mode
                    if mode == "down":
                        receiver.refused += 1
                    else:
                        receiver.raw.append({"key": key, **body})
                        receiver.accepted.setdefault(key, body)
                if mode == "down":
                    self.send_response(503)
                    self.end_headers()
                elif mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def duplicates(self) -> int:
        return len(self.raw) - len(self.accepted)


# Which receiver each channel's gateway posts to; set by the test.
URLS: dict[str, str] = {}


class LoopbackGateway(HttpSmsGateway):
    """The production HTTP gateway (same request, headers, error handling), pointed at a receiver."""

    def __init__(self, channel: str = ""):
        super().__init__(channel, url=URLS.get(channel, ""), token="test-token", timeout=5)
