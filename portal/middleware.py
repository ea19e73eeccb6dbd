"""Refuse what no view should see (DESIGN.md "Integrity"): a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413) and a NUL character in the path, the query string, a
header or a form field (400; PostgreSQL's text can't hold one). Under ``/api/`` the answer is
problem+json, elsewhere a short page in the user's language. JSON bodies are the API's
parser's to check (``portal.api.parsers``). ``ApiNotFoundMiddleware``: an API path no view answers is
problem+json with DEBUG on too."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.shortcuts import render
from django.urls import is_valid_path
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound

from portal.api.errors import BAD_REQUEST_DETAIL, dialect_response, is_api, problem_response
from portal.api.exceptions import body_too_large_detail

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _has_nul(query_dict) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in query_dict.lists())


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.path_info in settings.PORTAL_LARGE_BODY_PATHS:  # an export's upload: its own limit
            limit = settings.PORTAL_IMPORT_MAX_BYTES + 1_000_000
        if limit is not None and _content_length(request) > limit:
            return self.refuse(request, 413, "body_too_large", _("The request is too large."),
                               body_too_large_detail(limit))
        nul = _("The request contains a NUL character, which isn't allowed.")
        if (NUL in request.path_info or _has_nul(request.GET)
                or any(NUL in str(value) for key, value in request.META.items() if key.startswith("HTTP_"))):
            return self.refuse(request, 400, "nul_character", nul, nul)
        if request.content_type in FORM_TYPES:
            try:
                posted = request.POST
            except RequestDataTooBig:
                return self.refuse(request, 413, "body_too_large", _("The request is too large."),
                                   body_too_large_detail())
            except SuspiciousOperation:  # e.g. more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields
                return self.refuse(request, 400, "parse_error", BAD_REQUEST_DETAIL, BAD_REQUEST_DETAIL)
            if _has_nul(posted):
                return self.refuse(request, 400, "nul_character", nul, nul)
        return None

    @staticmethod
    def refuse(request, status: int, code: str, title, detail):
        dialect = dialect_response(request, status_code=status, code=code, detail=detail)
        if dialect is not None:
            return dialect
        if is_api(request):
            return problem_response(status_code=status, code=code, detail=detail)
        return render(request, "portal/refused.html", {"title": title, "detail": detail}, status=status)


class ApiNotFoundMiddleware:
    """Under ``/api/`` a path no view answers is a problem+json 404 with ``DEBUG`` on too (``make run``):
    Django's debug 404 page is HTML, and a POST, PATCH or DELETE to an API path without its trailing
    slash is, with ``DEBUG``, a 500 page (APPEND_SLASH refuses to redirect it) and without, a 301 that
    clients follow as a GET, dropping the body. Sits between LocaleMiddleware (the detail is in the
    caller's language) and CommonMiddleware (whose APPEND_SLASH still redirects a GET)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        path, urlconf = request.path_info, getattr(request, "urlconf", None)
        if (request.method not in ("GET", "HEAD") and not path.endswith("/")
                and not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf)):
            return problem_response(status_code=404, code="not_found", detail=_(
                "No such path: the API's paths end with a slash (%(path)s).") % {"path": f"{request.path}/"})
        response = self.get_response(request)
        if response.status_code == 404 and response.get("Content-Type", "").startswith("text/html"):
            return problem_response(status_code=404, code="not_found", detail=NotFound.default_detail)
        return response
