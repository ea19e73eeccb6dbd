"""Pages of the plan change: subscription details, Available upgrades, Checkout."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from billing.periods import renewal_date
from billing.selectors import product_for_sku
from planchange.selectors import eligibility_for
from portal.decorators import tenant_page


@tenant_page
def subscription_detail(request, subscription_id):
    eligibility = eligibility_for(tenant=request.tenant, subscription_id=subscription_id)
    sub = eligibility.subscription
    return render(request, "planchange/subscription_detail.html", {
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
