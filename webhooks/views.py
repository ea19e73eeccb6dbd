"""Settings > Webhooks: the tenant's endpoints, one endpoint's deliveries with every attempt, "Send
test event", "Resend", delete. Every admin sees them; a Global admin changes them."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.pages import error_kept, refusal, refusal_kept
from portal.roles import WEBHOOK_WRITERS, may
from webhooks.events import TYPES
from webhooks.models import Endpoint
from webhooks.selectors import delivery_list, endpoint_get, endpoint_list
from webhooks.services import delivery_resend, endpoint_create, endpoint_delete, endpoint_test

SECRET_SESSION_KEY = "webhook_secret"  # noqa: S105 - a session key name. The new endpoint's secret, until its page has shown it once
DELIVERIES_SHOWN = 50


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
            errors = refusal(exc)
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
    endpoint = endpoint_get(tenant=request.tenant, id=webhook_id)
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
    endpoint_test(tenant=request.tenant, endpoint_id=webhook_id, actor=request.user.get_username())
    messages.success(request, _("A test event is on its way; its attempts show below."))
    return redirect("settings:webhook", webhook_id=webhook_id)


@require_POST
@tenant_page
@writes(WEBHOOK_WRITERS)
def webhook_resend(request, webhook_id, delivery_id):
    try:
        delivery_resend(tenant=request.tenant, endpoint_id=webhook_id, delivery_id=delivery_id,
                        actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=reverse("settings:webhook", args=[webhook_id]), form="resend")
    else:
        messages.success(request, _("The message is being sent again."))
    return redirect("settings:webhook", webhook_id=webhook_id)


@tenant_page
@writes(WEBHOOK_WRITERS)
def webhook_delete(request, webhook_id):
    """Delete, after a confirmation page."""
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error_kept(request, page=reverse("settings:webhook-delete", args=[webhook_id]), form="delete", message=_(
                "Tick the box to confirm that nothing more should be sent to this URL."), field="confirm")
            return redirect("settings:webhook-delete", webhook_id=webhook_id)
        endpoint_delete(tenant=request.tenant, endpoint_id=webhook_id, actor=request.user.get_username())
        messages.success(request, _("The webhook was deleted."))
        return redirect("settings:webhooks")
    endpoint = endpoint_get(tenant=request.tenant, id=webhook_id)
    return render(request, "webhooks/delete.html", _context(request, endpoint=endpoint))
