"""Reads of plan changes and eligibility, scoped to a tenant."""

from billing.selectors import subscription_get
from planchange.eligibility import Eligibility, eligibility_check
from portal.models import Tenant


def eligibility_for(*, tenant: Tenant, subscription_id) -> Eligibility:
    """The eligibility of one of the tenant's subscriptions (404 for another tenant's)."""
    return eligibility_check(subscription=subscription_get(tenant=tenant, subscription_id=subscription_id))
