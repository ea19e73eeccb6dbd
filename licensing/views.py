"""Users > Active users: search, a subscription filter, pagination and unassigning."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.selectors import subscription_get, subscription_list
from licensing.selectors import user_list
from licensing.services import license_assign, license_replace, license_unassign
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import parse_id
from portal.roles import LICENSE_WRITERS

PAGE_SIZE = 50


def _subscription_filter(request):
    raw = request.GET.get("subscription", "")
    return subscription_get(tenant=request.tenant, subscription_id=parse_id(raw)) if raw else None


@tenant_page
def active_users(request):
    subscription = _subscription_filter(request)
    search = request.GET.get("q", "").strip()
    users = user_list(tenant=request.tenant, search=search,
                      subscription_id=subscription.pk if subscription else None)
    # Paginator's count is one COUNT query; the page is one query plus one for licenses.
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    subscriptions = [s for s in subscription_list(tenant=request.tenant) if s.status == "active"]
    return render(request, "licensing/active_users.html", {
        "section": "users", "page": page, "search": search, "subscription": subscription,
        "subscriptions": subscriptions, "errors": request.session.pop("license_errors", {}),
    })


@require_POST
@tenant_page
@writes(LICENSE_WRITERS)
def manage_licenses(request):
    """Manage product licenses for the selected users: assign, unassign or replace."""
    back = request.POST.get("next", "")
    # Back to a path of this site only: redirect() would take "2" for a URL name (NoReverseMatch).
    if not (back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = ""
    action, upns, actor = request.POST.get("action"), request.POST.getlist("users"), request.user.get_username()
    # Ids as whole numbers in ASCII digits; anything else is None, which the services answer
    # "No such subscription." (int() would take '٤' as 4).
    subscription, to_subscription = parse_id(request.POST.get("subscription")), parse_id(
        request.POST.get("to_subscription"))
    try:
        if action == "assign":
            count = license_assign(tenant=request.tenant, subscription_id=subscription,
                                   upns=upns, actor=actor)
            messages.success(request, _("Licenses assigned to %(count)d users.") % {"count": count})
        elif action == "unassign":
            count = license_unassign(tenant=request.tenant, subscription_id=subscription,
                                     upns=upns, actor=actor)
            messages.success(request, _("Licenses unassigned from %(count)d users.") % {"count": count})
        elif action == "replace":
            count = license_replace(tenant=request.tenant, from_subscription_id=subscription,
                                    to_subscription_id=to_subscription, upns=upns, actor=actor)
            messages.success(request, _("%(count)d users moved to the other subscription.") % {"count": count})
        else:
            raise DomainError(_("Choose what to do with the licenses."), field="action")
    except DomainError as exc:
        request.session["license_errors"] = {exc.extra.get("field") or "form": str(exc.detail)}
    return HttpResponseRedirect(back) if back else redirect("users:active")
