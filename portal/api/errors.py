"""One handler turns every API error into ``application/problem+json`` (RFC 9457), and the
project's 400/403/404/500 handlers do the same for anything under ``/api/``: nothing there
answers HTML, whatever went wrong."""

import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.api.exceptions import BodyTooLarge, body_too_large_detail
from portal.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"

logger = logging.getLogger(__name__)


def _title(status_code: int) -> str:
    # Looked up per request so the title is in the caller's language.
    titles = {
        400: _("Bad request"), 401: _("Not authenticated"), 403: _("Permission denied"),
        404: _("Not found"), 405: _("Method not allowed"), 406: _("Not acceptable"),
        409: _("Conflict"), 413: _("Content too large"), 414: _("URI too long"), 415: _("Unsupported media type"),
        422: _("Unprocessable request"), 429: _("Too many requests"), 431: _("Request header fields too large"),
        500: _("Server error"),
    }
    return titles.get(status_code) or HTTPStatus(status_code).phrase


def problem_body(*, status_code: int, code: str, detail, **extra) -> dict:
    """A problem's fields (also what gunicorn's own refusals answer: ``portal.server``)."""
    return {
        "type": f"/api/problems/{code}",
        "title": _title(status_code),
        "status": status_code,
        "detail": str(detail),
        "code": code,
        **extra,
    }


def problem(*, status_code: int, code: str, detail, **extra) -> Response:
    return Response(problem_body(status_code=status_code, code=code, detail=detail, **extra), status=status_code,
                    content_type=PROBLEM_CONTENT_TYPE)


def problem_response(*, status_code: int, code: str, detail, **extra) -> HttpResponse:
    """The same problem outside DRF (middleware, Django's error handlers)."""
    return HttpResponse(json.dumps(problem_body(status_code=status_code, code=code, detail=detail, **extra)),
                        status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


# Other dialects' error bodies, by path prefix: an app above portal registers its own from AppConfig.ready()
# (graph: Microsoft Graph's ``{"error": …}`` under /graph/), so portal imports none of them. Each is called
# as ``(request, status_code, code, detail)`` with the portal's own code, and answers an HttpResponse.
ERROR_DIALECTS: dict[str, Callable[..., HttpResponse]] = {}


def dialect_response(request, *, status_code: int, code: str, detail) -> HttpResponse | None:
    """The error in the dialect of the request's path, or None where the path has none of its own."""
    path = request.path if request.path.endswith("/") else f"{request.path}/"  # /graph is under /graph/ too
    for prefix, answer in ERROR_DIALECTS.items():
        if path.startswith(prefix):
            return answer(request, status_code, code, detail)
    return None


CONFLICT_DETAIL = gettext_lazy("The request conflicts with the current state of the data. Reload it and try again.")
SERVER_ERROR_DETAIL = gettext_lazy("Something went wrong on our side. Try again later.")
BAD_REQUEST_DETAIL = gettext_lazy("The request couldn't be read.")


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return problem(status_code=exc.status, code=exc.code, detail=exc.detail, **exc.extra)
    if isinstance(exc, IntegrityError):
        # A backstop: services turn the races they know about into 409s themselves.
        logger.warning("IntegrityError answered 409: %s", exc)
        set_rollback()
        return problem(status_code=409, code="conflict", detail=CONFLICT_DETAIL)
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        exc = exceptions.ParseError(BAD_REQUEST_DETAIL)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return problem(
            status_code=status.HTTP_400_BAD_REQUEST, code="invalid",
            detail=_("The request has invalid fields."), errors=response.data,
        )
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    code = codes if isinstance(codes, str) else "error"
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
    result = problem(status_code=response.status_code, code=code, detail=detail)
    for header, value in response.items():
        if header.lower() in ("www-authenticate", "retry-after", "allow"):
            result[header] = value
    return result


# --- Django's error handlers (portal/urls.py): problem+json under /api/, pages elsewhere ---


def bad_request(request, exception):
    too_big = isinstance(exception, RequestDataTooBig)
    dialect = dialect_response(request, status_code=413 if too_big else 400,
                               code="body_too_large" if too_big else "parse_error",
                               detail=body_too_large_detail() if too_big else BAD_REQUEST_DETAIL)
    if dialect is not None:
        return dialect
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return problem_response(status_code=413, code="body_too_large", detail=body_too_large_detail())
    return problem_response(status_code=400, code="parse_error", detail=BAD_REQUEST_DETAIL)


def permission_denied(request, exception):
    dialect = dialect_response(request, status_code=403, code="permission_denied",
                               detail=exceptions.PermissionDenied.default_detail)
    if dialect is not None:
        return dialect
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return problem_response(status_code=403, code="permission_denied",
                            detail=exceptions.PermissionDenied.default_detail)


def page_not_found(request, exception):
    dialect = dialect_response(request, status_code=404, code="not_found", detail=exceptions.NotFound.default_detail)
    if dialect is not None:
        return dialect
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return problem_response(status_code=404, code="not_found", detail=exceptions.NotFound.default_detail)


def server_error(request):
    dialect = dialect_response(request, status_code=500, code="server_error", detail=SERVER_ERROR_DETAIL)
    if dialect is not None:
        return dialect
    if not is_api(request):
        return defaults.server_error(request)
    return problem_response(status_code=500, code="server_error", detail=SERVER_ERROR_DETAIL)
