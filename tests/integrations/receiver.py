"""A real local HTTP receiver for webhook tests (http.server in a thread, on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Records every request; ``plan`` decides each answer: a list of status codes used in
    order (then 200), or a callable(request_number, event_id) -> status (or -1: hang for
    ``hang_seconds`` then drop the connection)."""

    def __init__(self, plan=None, hang_seconds: float = 5.0):
        self.plan = plan or []
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    number = len(receiver.requests)
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "at": time.time(), "path": self.path}
                    )
                    status = receiver._status(number, self.headers.get("X-Baton-Event-Id"))
                if status == -1:
                    time.sleep(receiver.hang_seconds)
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _status(self, number: int, event_id) -> int:
        if callable(self.plan):
            return self.plan(number, event_id)
        return self.plan[number] if number < len(self.plan) else 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


def verify(secret: str, request: dict, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the HMAC over '<t>.<body>' and compare in constant time."""
    header = request["headers"]["X-Baton-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
