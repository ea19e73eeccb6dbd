"""gunicorn's own refusals, as problem+json under ``/api/`` (``gunicorn.conf.py``: ``worker_class``).

gunicorn refuses some requests before the portal sees them and answers with an HTML page of its own:
a request line over ``limit_request_line`` (414), ``Transfer-Encoding`` beside ``Content-Length`` or
any request it can't parse (400), header fields over their limits (431), a transfer coding it doesn't
know (501). Nothing under ``/api/`` may answer HTML (CONTRACT.md), so this worker answers those as
the portal's other errors are: ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and ``code``. gunicorn still decides the status and logs the refusal as it does; only the
answer written is the portal's. A request whose path gunicorn read and which isn't under ``/api/``
(a page) keeps gunicorn's own page; one whose path it never read (a request line too long to read)
is answered as the API would, since it may be the API's.
"""

import json

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

# What each status gunicorn refuses with is called here, for scripts; the detail is for people.
CODES = {400: "parse_error", 403: "permission_denied", 414: "uri_too_long", 417: "expectation_failed",
         431: "header_too_large", 500: "server_error", 501: "not_implemented"}


class _Kept:
    """Stands in for the client's socket while gunicorn writes its refusal: keeps what it writes."""

    def __init__(self, client):
        self._client, self.written = client, b""

    def __getattr__(self, name):
        return getattr(self._client, name)

    def gettimeout(self):
        return 0.0

    def setblocking(self, flag):
        pass

    def sendall(self, data):
        self.written += data


def _detail(status: int):
    # Imported here: the worker imports this module before it loads the portal (and Django's settings).
    from django.utils.translation import gettext as _

    from portal.api.errors import BAD_REQUEST_DETAIL, SERVER_ERROR_DETAIL

    details = {414: _("The request's address (its path and query string) is too long."),
               431: _("The request's header fields are too large.")}
    return details.get(status) or (SERVER_ERROR_DETAIL if status >= 500 else BAD_REQUEST_DETAIL)


def refusal(status_line: bytes) -> bytes:
    """gunicorn's status line with a problem+json body for it, as the whole answer."""
    from portal.api.errors import PROBLEM_CONTENT_TYPE, problem_body

    status = int(status_line.split(b" ", 2)[1])
    body = json.dumps(problem_body(status_code=status, code=CODES.get(status, "error"),
                                   detail=_detail(status))).encode()
    head = (b"%s\r\nConnection: close\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
            b"X-Content-Type-Options: nosniff\r\n\r\n" % (status_line, PROBLEM_CONTENT_TYPE.encode(), len(body)))
    return head + body


class ProblemSyncWorker(SyncWorker):
    """gunicorn's sync worker (the one the Dockerfile and docker-compose run), answering its own
    refusals under ``/api/`` as problem+json."""

    def handle_error(self, req, client, addr, exc):
        path = getattr(req or getattr(exc, "req", None), "path", None)
        if path is not None and not path.startswith("/api/"):
            return super().handle_error(req, client, addr, exc)
        kept = _Kept(client)
        super().handle_error(req, kept, addr, exc)
        if not kept.written:
            return None
        try:
            util.write_nonblock(client, refusal(kept.written.split(b"\r\n", 1)[0]))
        except Exception:  # noqa: BLE001 - as gunicorn: a client gone away is no error of ours
            self.log.debug("Failed to send error message.")
        return None
