"""One handler turns every API error into ``application/problem+json`` (RFC 9457)."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"

def _title(status_code: int) -> str:
    # Looked up per request so the title is in the caller's language.
    titles = {
        400: _("Bad request"), 401: _("Not authenticated"), 403: _("Permission denied"),
        404: _("Not found"), 405: _("Method not allowed"), 406: _("Not acceptable"),
        409: _("Conflict"), 415: _("Unsupported media type"), 422: _("Unprocessable request"),
        429: _("Too many requests"),
    }
    return titles.get(status_code) or HTTPStatus(status_code).phrase


def problem(*, status_code: int, code: str, detail, **extra) -> Response:
    body = {
        "type": f"/api/problems/{code}",
        "title": _title(status_code),
        "status": status_code,
        "detail": str(detail),
        "code": code,
        **extra,
    }
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return problem(status_code=exc.status, code=exc.code, detail=exc.detail, **exc.extra)
    if isinstance(exc, Http404):
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
