"""A subscription's set-up: whether it is still being provisioned and when that ends (the "not fully set up"
blocker's fix links here)."""

from django.shortcuts import render

from billing.lifecycle import provisioning_time
from billing.selectors import subscription_get
from portal.decorators import tenant_page


@tenant_page
def subscription_setup(request, subscription_id):
    """Billing > Your products > a subscription > Set-up: being set up until when (simulation time), or set up."""
    sub = subscription_get(tenant=request.tenant, id=subscription_id)
    return render(request, "billing/setup.html", {
        "section": "billing", "sub": sub, "being_set_up": sub.provisioning == sub.Provisioning.PROVISIONING,
        "minutes": int(provisioning_time().total_seconds() // 60),
    })
