"""What a page does with a service's refusal: one channel for every page (STYLE.md 8 and 17).

A page passes what it got to one service and hands a refusal (a ``DomainError``) here. Not found (a
missing id and another tenant's alike) is the 404 page. Any other refusal is shown beside the field it
names, or at the top of its form when it names none (``DomainError.field_errors``): a page that
renders its form again shows ``refusal``'s errors at once; a page that redirects (post, redirect, get)
keeps them with ``refusal_kept`` under its form's name for the page it leads to, which reads them once
(``kept_errors``, the ``kept`` context of every page) and shows them with ``portal/_kept_errors.html``
and beside its fields. Errors are kept for that page alone: another page, or the same form of another
object's page, never shows them.
"""

from urllib.parse import urlsplit

from django.http import Http404

from portal.errors import DomainError

KEPT = "page_errors"  # the session's errors kept for the next page: {"page": path, "forms": {form: {field: text}}}


def refusal(exc: DomainError, *, named_in_url: bool = True, shown: frozenset = frozenset()) -> dict[str, str]:
    """The refusal's errors by field ("form": the form as a whole). A not-found is the 404 page when the
    page's URL named what wasn't found; what the form named (a not-found naming its field, any on a page
    whose ids are all its form's: ``named_in_url=False``, or one of the ``shown`` codes: something the page
    named that is gone since, like an add-on removed twice) is refused beside it."""
    if exc.status == 404 and named_in_url and "field" not in exc.extra and exc.code not in shown:
        raise Http404 from exc
    return exc.field_errors()


def _keep(request, page: str, form: str, errors: dict) -> None:
    path = urlsplit(page).path
    kept = request.session.get(KEPT) or {}
    forms = kept.get("forms", {}) if kept.get("page") == path else {}
    request.session[KEPT] = {"page": path, "forms": {**forms, form: errors}}


def refusal_kept(request, exc: DomainError, *, page: str, form: str, named_in_url: bool = True,
                 shown: frozenset = frozenset()) -> None:
    """Keep the refusal's errors for ``page`` (where the redirect leads), under ``form`` (its form's name)."""
    _keep(request, page, form, refusal(exc, named_in_url=named_in_url, shown=shown))


def error_kept(request, *, page: str, form: str, message, field: str = "form") -> None:
    """Keep a page's own error (a box not ticked, a choice not made) the same way."""
    _keep(request, page, form, {field: str(message)})


def kept_errors(request) -> dict[str, dict[str, str]]:
    """The errors kept for this page, once (the next page no longer shows them)."""
    session = getattr(request, "session", None)
    if session is None or (session.get(KEPT) or {}).get("page") != request.path:
        return {}
    return session.pop(KEPT)["forms"]
