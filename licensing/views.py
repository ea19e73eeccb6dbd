"""Users > Active users: search, a subscription filter, pagination and unassigning."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.selectors import subscription_get
from licensing.selectors import user_list
from licensing.services import license_unassign
from portal.decorators import tenant_page
from portal.errors import DomainError

PAGE_SIZE = 50


def _subscription_filter(request):
    raw = request.GET.get("subscription", "")
    return subscription_get(tenant=request.tenant, subscription_id=raw) if raw else None


@tenant_page
def active_users(request):
    subscription = _subscription_filter(request)
    search = request.GET.get("q", "").strip()
    users = user_list(tenant=request.tenant, search=search,
                      subscription_id=subscription.pk if subscription else None)
    # Paginator's count is one COUNT query; the page is one query plus one for licenses.
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "licensing/active_users.html", {
        "section": "users", "page": page, "search": search, "subscription": subscription,
    })


@require_POST
@tenant_page
def unassign(request):
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    try:
        count = license_unassign(
            tenant=request.tenant, subscription_id=request.POST.get("subscription"),
            upns=request.POST.getlist("users"), actor=request.user.get_username(),
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Licenses unassigned from %(count)d users.") % {"count": count})
    return redirect(back or "users:active")
