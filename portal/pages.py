"""What a page does with a service's refusal: one channel for every page (STYLE.md 8 and 17).

A page passes what it got to one service and hands a refusal (a ``DomainError``) here. Not found (a
missing id and another tenant's alike) is the 404 page. Any other refusal is shown beside the field it
names, or at the top of its form when it names none (``DomainError.field_errors``): a page that
renders its form again shows ``refusal``'s errors at once; a page that redirects (post, redirect, get)
keeps them with ``refusal_kept`` under its form's name for the page it leads to, which reads them once
(``kept_errors``, the ``kept`` context of every page) and shows them with ``portal/_form_errors.html``
and beside its fields.
"""

from django.http import Http404

from portal.errors import DomainError

KEPT = "page_errors"  # the session's errors kept for the next page: {form: {field or "form": message}}


def refusal(exc: DomainError, *, named_in_url: bool = True) -> dict[str, str]:
    """The refusal's errors by field ("form": the form as a whole). A not-found is the 404 page when the
    page's URL named what wasn't found; what the form named (a not-found naming its field, or any on a page
    whose ids are all its form's: ``named_in_url=False``) is refused beside it."""
    if exc.status == 404 and named_in_url and "field" not in exc.extra:
        raise Http404 from exc
    return exc.field_errors()


def refusal_kept(request, exc: DomainError, *, form: str, named_in_url: bool = True) -> None:
    """Keep the refusal's errors for the page a redirect leads to, under ``form`` (its form's name)."""
    errors = refusal(exc, named_in_url=named_in_url)
    request.session[KEPT] = {**request.session.get(KEPT, {}), form: errors}


def error_kept(request, *, form: str, message, field: str = "form") -> None:
    """Keep a page's own error (a box not ticked, a choice not made) the same way."""
    request.session[KEPT] = {**request.session.get(KEPT, {}), form: {field: str(message)}}


def kept_errors(request) -> dict[str, dict[str, str]]:
    """The errors kept for this page, once (the next page no longer shows them)."""
    return request.session.pop(KEPT, {}) if hasattr(request, "session") else {}
