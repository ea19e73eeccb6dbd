"""Settings > Webhooks: the tenant's endpoints, one endpoint's deliveries with every attempt, "Send
test event", "Resend", delete. Every admin sees them; a Global admin changes them."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.decorators import tenant_page, writes
from portal.errors import DomainError, NotFound
from portal.roles import WEBHOOK_WRITERS, may
from webhooks.events import TYPES
from webhooks.models import Endpoint
from webhooks.selectors import delivery_list, endpoint_get, endpoint_list
from webhooks.services import delivery_resend, endpoint_create, endpoint_delete, endpoint_test

SECRET_SESSION_KEY = "webhook_secret"  # noqa: S105 - a session key name. The new endpoint's secret, until its page has shown it once
DELIVERIES_SHOWN = 50


def _endpoint(request, webhook_id) -> Endpoint:
    try:
        return endpoint_get(tenant=request.tenant, endpoint_id=webhook_id)
    except NotFound as exc:
        raise Http404 from exc


def _context(request, **extra) -> dict:
    return {"section": "settings", "can_webhooks": may(request.roles, WEBHOOK_WRITERS), "types": TYPES, **extra}


@tenant_page
@writes(WEBHOOK_WRITERS)
def webhooks(request):
    """The list, and the form that adds one (its secret is shown once, on its page)."""
    errors, form = {}, {"url": "", "events": [], "description": ""}
    if request.method == "POST":
        form = {"url": request.POST.get("url", ""), "events": request.POST.getlist("events"),
                "description": request.POST.get("description", "")}
        try:
            endpoint = endpoint_create(tenant=request.tenant, user=request.user, **form)
        except DomainError as exc:
            errors = exc.field_errors()
        else:
            request.session[SECRET_SESSION_KEY] = {"id": endpoint.pk, "secret": endpoint.secret}
            messages.success(request, _("The webhook was added."))
            return redirect("settings:webhook", webhook_id=endpoint.pk)
    endpoints = list(endpoint_list(tenant=request.tenant))
    return render(request, "webhooks/webhooks.html", _context(
        request, endpoints=endpoints, failing=[e for e in endpoints if e.status == Endpoint.Status.FAILING],
        form=form, errors=errors), status=422 if errors else 200)


@tenant_page
def webhook(request, webhook_id):
    endpoint = _endpoint(request, webhook_id)
    shown = request.session.get(SECRET_SESSION_KEY)
    secret = None
    if shown and shown.get("id") == endpoint.pk:
        secret = shown["secret"]
        del request.session[SECRET_SESSION_KEY]  # once
    deliveries = list(delivery_list(endpoint=endpoint)[:DELIVERIES_SHOWN])
    response = render(request, "webhooks/webhook.html", _context(request, endpoint=endpoint, secret=secret,
                                                                 deliveries=deliveries))
    response["Cache-Control"] = "no-store"  # the page that shows the secret once is never kept (Back shows it again)
    return response


@require_POST
@tenant_page
@writes(WEBHOOK_WRITERS)
def webhook_test(request, webhook_id):
    endpoint = _endpoint(request, webhook_id)
    endpoint_test(tenant=request.tenant, endpoint_id=endpoint.pk, actor=request.user.get_username())
    messages.success(request, _("A test event is on its way; its attempts show below."))
    return redirect("settings:webhook", webhook_id=endpoint.pk)


@require_POST
@tenant_page
@writes(WEBHOOK_WRITERS)
def webhook_resend(request, webhook_id, delivery_id):
    endpoint = _endpoint(request, webhook_id)
    try:
        delivery_resend(tenant=request.tenant, endpoint_id=endpoint.pk, delivery_id=delivery_id,
                        actor=request.user.get_username())
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The message is being sent again."))
    return redirect("settings:webhook", webhook_id=endpoint.pk)


@tenant_page
@writes(WEBHOOK_WRITERS)
def webhook_delete(request, webhook_id):
    """Delete, after a confirmation page."""
    endpoint = _endpoint(request, webhook_id)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that nothing more should be sent to this URL."))
            return redirect("settings:webhook-delete", webhook_id=endpoint.pk)
        endpoint_delete(tenant=request.tenant, endpoint_id=endpoint.pk, actor=request.user.get_username())
        messages.success(request, _("The webhook was deleted."))
        return redirect("settings:webhooks")
    return render(request, "webhooks/delete.html", _context(request, endpoint=endpoint))
