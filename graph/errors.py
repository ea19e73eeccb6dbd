"""Every refusal under /graph/ in Microsoft Graph's error shape:
``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}``, with the
``request-id`` and ``client-request-id`` headers Graph sends. Graph's own refusals (a bad query, a missing
token) keep Graph's codes and English wording, as scripts match them; the portal's rules (no free license,
a change under way) keep the portal's sentence, in the caller's language, under the Graph code a real tenant
answers with (docs/graph.md "Errors")."""

import json
import logging
import uuid
from datetime import UTC, datetime

from django.db import IntegrityError
from django.http import Http404, HttpResponse
from rest_framework import exceptions

from portal.api.exceptions import BodyTooLarge
from portal.errors import DomainError

logger = logging.getLogger(__name__)

BAD_REQUEST = "Request_BadRequest"
NOT_FOUND = "Request_ResourceNotFound"
UNSUPPORTED_QUERY = "Request_UnsupportedQuery"
CONFLICT = "Request_Conflict"
UNAUTHENTICATED = "InvalidAuthenticationToken"
DENIED = "Authorization_RequestDenied"
THROTTLED = "TooManyRequests"
GENERAL = "generalException"

# The portal's codes as Graph answers them: (status, Graph code). Codes not named: 400 Request_BadRequest.
PORTAL_CODES = {
    "change_in_progress": (409, CONFLICT),
    "conflict": (409, CONFLICT),
    "user_not_found": (404, NOT_FOUND),
    "not_found": (404, NOT_FOUND),
    "subscription_not_found": (404, NOT_FOUND),
    "permission_denied": (403, DENIED),
    "body_too_large": (413, "Request_EntityTooLarge"),
    "server_error": (500, GENERAL),
}


# Graph's own wording for a rule both have, before the portal's sentence (scripts match Graph's).
GRAPH_WORDING = {
    "usage_location_required": "License assignment cannot be done for user with invalid usage location.",
}


class GraphError(Exception):
    """A refusal in Graph's words: its HTTP status, its code and message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def request_ids(request) -> tuple[str, str]:
    """This request's ``request-id`` (new, once per request) and the client's ``client-request-id`` (its own
    if it sent one, else the request-id, as Graph does)."""
    meta = getattr(request, "META", {})
    if "graph.request_id" not in meta:
        meta["graph.request_id"] = str(uuid.uuid4())
    client = meta.get("HTTP_CLIENT_REQUEST_ID", "")
    return meta["graph.request_id"], client if client and len(client) <= 100 else meta["graph.request_id"]


def error_body(request, code: str, message: str) -> dict:
    request_id, client_id = request_ids(request)
    return {"error": {"code": code, "message": str(message), "innerError": {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
        "client-request-id": client_id}}}


def error_response(request, status: int, code: str, message: str, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(error_body(request, code, message)), status=status,
                            content_type="application/json")
    request_id, client_id = request_ids(request)
    response["request-id"], response["client-request-id"] = request_id, client_id
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def graph_error_for(request, status_code: int, code: str, detail) -> HttpResponse:
    """The dialect hook (``portal.api.errors.ERROR_DIALECTS``): a refusal the portal made before any view (a
    body too large, a NUL character, a path nobody answers, a server error), in Graph's shape."""
    if status_code == 404:
        return error_response(request, 400, BAD_REQUEST, unsupported_path_message(request.path))
    status, graph_code = PORTAL_CODES.get(code, (status_code, BAD_REQUEST))
    return error_response(request, status, graph_code, str(detail))


def unsupported_path_message(path: str) -> str:
    segment = path.removeprefix("/graph/").removeprefix("v1.0/").split("/")[0] or path
    return f"Resource not found for the segment '{segment}'."


def domain_error(exc: DomainError) -> GraphError:
    fallback = (409, CONFLICT) if exc.status == 409 else (404, NOT_FOUND) if exc.status == 404 else (400, BAD_REQUEST)
    status, code = PORTAL_CODES.get(exc.code, fallback)  # Graph has no 422: a rule's refusal is its 400
    wording = GRAPH_WORDING.get(exc.code)
    return GraphError(status, code, f"{wording} {exc.detail}" if wording else str(exc.detail))


def _from_drf(exc: exceptions.APIException) -> GraphError:
    if isinstance(exc, exceptions.NotAuthenticated):
        return GraphError(401, UNAUTHENTICATED, "Access token is empty.")
    if isinstance(exc, exceptions.AuthenticationFailed):
        return GraphError(401, UNAUTHENTICATED, str(exc.detail))
    if isinstance(exc, exceptions.PermissionDenied):
        return GraphError(403, DENIED, "Insufficient privileges to complete the operation.")
    if isinstance(exc, exceptions.Throttled):
        wait = max(int(exc.wait or 1), 1)
        return GraphError(429, THROTTLED, f"Too many requests. Retry after {wait} seconds.",
                          headers={"Retry-After": str(wait)})
    if isinstance(exc, exceptions.MethodNotAllowed):
        return GraphError(405, BAD_REQUEST, str(exc.detail))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return GraphError(415, BAD_REQUEST, "Send the request body as application/json.")
    if isinstance(exc, BodyTooLarge):
        return GraphError(413, "Request_EntityTooLarge", str(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type "
                                             "header is set and payload is of valid JSON format.")
    return GraphError(exc.status_code if 400 <= exc.status_code < 600 else 400, BAD_REQUEST, str(exc.detail))


def as_graph_error(exc) -> GraphError:
    """Any exception a view raised, as Graph answers it (never an HTML page; a bug is a logged 500)."""
    if isinstance(exc, GraphError):
        return exc
    if isinstance(exc, DomainError):
        return domain_error(exc)
    if isinstance(exc, exceptions.APIException):
        return _from_drf(exc)
    if isinstance(exc, Http404):
        return GraphError(404, NOT_FOUND, "Resource does not exist or one of its queried reference-property "
                                          "objects are not present.")
    if isinstance(exc, IntegrityError):
        return GraphError(409, CONFLICT, "The request conflicts with the current state of the data. Try again.")
    logger.exception("Graph request failed", exc_info=exc)
    return GraphError(500, GENERAL, "An unexpected error occurred.")
