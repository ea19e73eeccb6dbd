"""One HTTP POST of a signed delivery, to an address checked just before (the connection goes to that
address, so DNS can't answer differently between the check and the send); redirects are not followed.
``PORTAL_WEBHOOKS_TIMEOUT`` bounds the whole attempt, not each read: a receiver that trickles its answer
a byte at a time is cut off when the time is up (found by probing, probe2: it held a worker until Celery's
time limit, and its lease ran out meanwhile, so a second worker sent the same message again)."""

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from standardwebhooks import Webhook

from webhooks.models import AttemptError
from webhooks.targets import Target, addresses_check, resolve

USER_AGENT = "PlanChangePortal-Webhooks/1.0"
RESPONSE_KEPT = 500  # characters of the answer kept on the attempt


@dataclass
class Sent:
    status_code: int | None
    error: str
    duration_ms: int
    response: str
    kind: str = ""  # an AttemptError value


def signature_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict:
    """Standard Webhooks' headers: ``v1,<base64 HMAC-SHA256(key, id.timestamp.body)>``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body),
    }


class _Deadline:
    """Shuts the attempt's socket down when its time is up, whatever it is waiting for (a blocked read
    then returns at once); ``passed`` tells the attempt why its connection ended."""

    def __init__(self, seconds: float):
        self.passed = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.passed:
                _shut(sock)

    def _cut(self) -> None:
        with self._lock:
            self.passed = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


class _Pinned(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float, deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address
        self._deadline = deadline

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self._deadline.watch(self.sock)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float, deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address
        self._deadline = deadline

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._deadline.watch(sock)  # the TLS handshake too
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def send(*, target: Target, secret: str, message_id: str, body: str) -> Sent:
    """POST the body; a 2xx is a delivery, anything else (a redirect too) or no answer is not.
    Raises PrivateTarget when the host now resolves to an address that isn't public."""
    addresses = resolve(target)
    if not addresses:
        return Sent(None, f"{target.host} does not resolve", 0, "", AttemptError.UNRESOLVED)
    addresses_check(target, addresses)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **signature_headers(secret=secret, message_id=message_id, body=body, at=datetime.now(UTC))}
    timeout = settings.PORTAL_WEBHOOKS_TIMEOUT
    connection_class = _PinnedTLS if target.scheme == "https" else _Pinned
    started = time.monotonic()
    with _Deadline(timeout) as deadline:
        connection = connection_class(target, addresses[0], timeout, deadline)
        try:
            connection.request("POST", target.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            if deadline.passed:  # cut off inside the headers: http.client takes the end for theirs
                raise TimeoutError
            status = response.status
            text = response.read1(RESPONSE_KEPT * 4).decode("utf-8", "replace")[:RESPONSE_KEPT]
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            if deadline.passed or isinstance(exc, TimeoutError):
                return Sent(None, f"no answer within {timeout:g} s", _ms(started), "", AttemptError.TIMEOUT)
            return Sent(None, f"{type(exc).__name__}: {exc}"[:300], _ms(started), "", AttemptError.CONNECTION)
        finally:
            connection.close()
    if 300 <= status < 400:
        return Sent(status, f"redirect to {response.getheader('Location', '')[:200]} not followed", _ms(started),
                    text, AttemptError.REDIRECT)
    return Sent(status, "", _ms(started), text)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
