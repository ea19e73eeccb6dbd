"""A real HTTP receiver for webhook tests: http.server in a thread on 127.0.0.1. It answers each
request with the next status of ``statuses`` (the last one again when they run out) and keeps what
it was sent."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses, headers=None):
        self.statuses = list(statuses)
        self.extra_headers = headers or {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.url = ""

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def bodies_of(self, type_: str) -> list[dict]:
        import json

        return [r for r in self.requests if json.loads(r["body"]).get("type") == type_]


@contextmanager
def receiver(statuses=(200,), headers=None, path="/hook"):
    state = Receiver(statuses, headers)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            with state.lock:
                state.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            status = state.answer()
            self.send_response(status)
            for name, value in state.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def raw_receiver(answer):
    """A receiver that speaks raw bytes: ``answer(connection)`` is called with each accepted socket
    once the request has been read (a trickling, hanging or malformed receiver)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    def handle(connection):
        with connection:
            connection.settimeout(30)
            try:
                connection.recv(65536)
                answer(connection, stop)
            except OSError:
                pass  # the sender hung up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        server.close()
