"""Reads of plan changes and eligibility, scoped to a tenant."""

from billing.models import Subscription
from billing.selectors import subscription_get
from planchange.eligibility import Eligibility, eligibility_check
from planchange.models import LIVE_STATUSES, PlanChange
from portal.models import Tenant


def eligibility_for(*, tenant: Tenant, subscription_id) -> Eligibility:
    """The eligibility of one of the tenant's subscriptions (404 for another tenant's)."""
    return eligibility_check(subscription=subscription_get(tenant=tenant, subscription_id=subscription_id))


def live_change_for(*, subscription: Subscription) -> PlanChange | None:
    """The subscription's scheduled, queued or running change, with its steps."""
    return (PlanChange.objects.filter(subscription=subscription, status__in=LIVE_STATUSES)
            .select_related("target_product").prefetch_related("steps").first())


def completed_change_creating(*, subscription: Subscription) -> PlanChange | None:
    """The completed change that made this subscription (to show what it reset)."""
    return (PlanChange.objects.filter(new_subscription=subscription, status=PlanChange.Status.COMPLETED)
            .select_related("subscription__product").first())


def plan_change_get(*, tenant: Tenant, change_id) -> PlanChange:
    """One of the tenant's changes with its steps; missing and foreign ids are the same 404."""
    from django.http import Http404

    try:
        return (PlanChange.objects.select_related("subscription__product", "target_product", "new_subscription",
                                                  "invoice").prefetch_related("steps").get(tenant=tenant, pk=change_id))
    except (PlanChange.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
