"""A real HTTP server on loopback that receives webhooks and checks them with the
`standardwebhooks` library, as a partner's receiver would."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    webhook_id: str
    payload: dict
    status: int
    at: float


@dataclass
class Receiver:
    """`answers` is consumed one per request (status code, or (status, seconds to wait first));
    when it is empty every request gets `default`."""

    secret: str = ""
    answers: list = field(default_factory=list)
    default: int = 200
    requests: list[Received] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    arrived: list[str] = field(default_factory=list)  # webhook-ids, as requests come in
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def accepted(self) -> list[Received]:
        return [request for request in self.requests if 200 <= request.status < 300]

    def positions(self) -> list[int]:
        return [request.payload["data"]["position"] for request in self.accepted()]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.arrived.append(self.headers["webhook-id"])
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                status, wait = answer if isinstance(answer, tuple) else (answer, 0)
                if wait:
                    time.sleep(wait)
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                except Exception as error:  # a bad signature must fail the test, not the server
                    receiver.unverified.append(f"{error}: {self.headers}")
                    payload = json.loads(body)
                    status = 400
                with receiver.lock:
                    receiver.requests.append(Received(self.headers["webhook-id"], payload, status, time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # serve_forever looks for shutdown() every poll_interval: 0.5 s by default, at each test's end.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
