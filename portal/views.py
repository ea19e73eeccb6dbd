"""Pages of the shell: Health > Service health and Settings > API tokens (the home page, a summary
of the tenant's subscriptions, is billing's)."""

from datetime import UTC, date, datetime, timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.decorators import own_settings_page, tenant_page
from portal.errors import DomainError
from portal.inputs import is_iso_date
from portal.pages import error_kept, refusal
from portal.selectors import api_token_list
from portal.selectors import service_health as service_health_rows  # the view has the same name
from portal.services import (
    API_TOKEN_LIFE_MAX,
    API_TOKEN_NAME_MAX,
    api_token_create,
    api_token_name_clean,
    api_token_revoke,
)


@tenant_page
def service_health(request):
    """Health > Service health: each service's state and its open incidents."""
    return render(request, "portal/service_health.html", {
        "section": "health", "rows": service_health_rows(tenant=request.tenant)})


# Settings > API tokens: the expiry choices (days from now, "never", or a date of the admin's own).
EXPIRY_CHOICES = [("30", gettext_lazy("30 days")), ("90", gettext_lazy("90 days")), ("365", gettext_lazy("1 year")),
                  ("never", gettext_lazy("No expiry")), ("date", gettext_lazy("On a date"))]


def _single(data, field) -> str | None:
    """A form field's one value: None when it is given twice (and "" when it is missing)."""
    values = data.getlist(field)
    return None if len(values) > 1 else (values[0] if values else "")


def _expiry_from(data, now) -> datetime | None:
    """The expiry the create form chose, or DomainError beside the field that is wrong."""
    choice = _single(data, "expiry")
    if choice not in dict(EXPIRY_CHOICES):
        raise DomainError(_("Choose when the token expires."), code="api_token_expiry_invalid", field="expiry")
    if choice == "never":
        return None
    if choice != "date":
        return now + timedelta(days=int(choice))
    raw = _single(data, "expires_on")
    if raw == "":
        raise DomainError(_("Choose the expiry date."), code="api_token_expiry_invalid", field="expires_on")
    if not is_iso_date(raw):
        raise DomainError(_("Enter the expiry date as YYYY-MM-DD."), code="api_token_expiry_invalid",
                          field="expires_on")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise DomainError(_("Enter the expiry date as YYYY-MM-DD."), code="api_token_expiry_invalid",
                          field="expires_on") from None
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def _api_tokens_page(request, *, status=200, errors=None, made=None, form=None):
    now = timezone.now()
    rows = [{"token": t, "status": t.status_at(now)} for t in api_token_list(user=request.user)]
    response = render(request, "portal/api_tokens.html", {
        "section": "settings", "rows": rows, "errors": errors or {}, "made": made,
        "form": form or {"name": "", "expiry": "30", "expires_on": ""}, "expiry_choices": EXPIRY_CHOICES,
        "name_max": API_TOKEN_NAME_MAX, "today": now.date(), "last_day": (now + API_TOKEN_LIFE_MAX).date(),
    }, status=status)
    response["Cache-Control"] = "no-store"  # the page that shows a new token once is never kept
    return response


@own_settings_page
def api_tokens(request):
    """Settings > API tokens: the login's own tokens (name, created, last used, expires, status), a
    form to make one (shown once), and Revoke."""
    if request.method != "POST":
        return _api_tokens_page(request)
    form = {field: (_single(request.POST, field) or "") for field in ("name", "expiry", "expires_on")}
    errors = {}
    name = _single(request.POST, "name")
    if name is None:
        errors["name"] = _("Give the token one name.")
    try:
        expires_at = _expiry_from(request.POST, timezone.now())
    except DomainError as exc:
        errors.update(exc.field_errors())
    if not errors:
        try:  # the service checks the name and the expiry together, so every refusal shows at once
            token, key = api_token_create(user=request.user, name=name, expires_at=expires_at)
        except DomainError as exc:
            errors.update(refusal(exc))
    elif name is not None:  # the form can't be read whole, so the service isn't asked: its name rule still shows
        try:
            api_token_name_clean(name)
        except DomainError as exc:
            errors.update(exc.field_errors())
    if errors:
        if "expires" in errors:  # the service names the API's field; the form's is the date or the choice
            errors["expires_on" if form["expiry"] == "date" else "expiry"] = errors.pop("expires")
        return _api_tokens_page(request, status=422, errors=errors, form=form)
    return _api_tokens_page(request, made={"token": token, "key": key})


@require_POST
@own_settings_page
def api_token_revoke_page(request, token_id):
    """Revoke one of the login's tokens, confirmed; another login's token is a 404."""
    if request.POST.get("confirm") != "yes":
        error_kept(request, page=reverse("settings:api-tokens"), form="revoke",
                   message=_("Confirm that you want to revoke the token."), field="confirm")
        return redirect("settings:api-tokens")
    token = api_token_revoke(user=request.user, token_id=token_id, actor=request.user.get_username())
    if token.already_revoked:
        messages.info(request, _("The token “%(name)s” was already revoked.") % {"name": token.name})
    else:
        messages.success(request, _("The token “%(name)s” was revoked. Requests with it are refused from now on.")
                         % {"name": token.name})
    return redirect("settings:api-tokens")
