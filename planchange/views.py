"""Pages of the plan change: subscription details, Available upgrades, Checkout."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.periods import renewal_date
from billing.selectors import product_for_sku
from planchange.selectors import completed_change_creating, eligibility_for, live_change_for
from planchange.services import plan_change_cancel
from portal.decorators import tenant_page
from portal.errors import DomainError


@tenant_page
def subscription_detail(request, subscription_id):
    eligibility = eligibility_for(tenant=request.tenant, subscription_id=subscription_id)
    sub = eligibility.subscription
    return render(request, "planchange/subscription_detail.html", {
        "live_change": live_change_for(subscription=sub),
        "created_by": completed_change_creating(subscription=sub),
        "section": "billing",
        "sub": sub,
        "eligibility": eligibility,
        "renewal": renewal_date(start=sub.start_date, term=sub.term, today=eligibility.today)
        if sub.status == "active" else None,
        "service_plans": sorted(eligibility.product.service_plans.all(), key=lambda p: (p.service, p.level)),
        "addons": list(sub.subscription_addons.all()),
    })


@tenant_page
def available_upgrades(request, subscription_id):
    eligibility = eligibility_for(tenant=request.tenant, subscription_id=subscription_id)
    return render(request, "planchange/available_upgrades.html", {
        "section": "billing", "sub": eligibility.subscription, "eligibility": eligibility,
    })


@tenant_page
def checkout(request, subscription_id, sku):
    """Placing the order arrives with the workflow; the page says so rather than pretend."""
    eligibility_for(tenant=request.tenant, subscription_id=subscription_id)  # 404 for another tenant's
    target = product_for_sku(sku=sku)
    return render(request, "portal/not_built.html", {
        "section": "billing", "title": _("Checkout: %(product)s") % {"product": target.name},
    })


@require_POST
@tenant_page
def cancel_change(request, subscription_id, change_id):
    try:
        plan_change_cancel(tenant=request.tenant, change_id=change_id, actor=request.user.get_username())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The scheduled change was cancelled."))
    return redirect("planchange:subscription", subscription_id=subscription_id)
