"""Planchange's rows as a scenario file states them (changes already scheduled or queued): the
simulation's loader validates the file and calls this (DESIGN.md: owners write their own tables)."""

from billing.models import Product, Subscription
from billing.periods import renewal_date
from billing.services import subscription_hold
from planchange.models import IdempotencyRecord, PlanChange, PlanChangeStep, Quote
from portal import clock
from portal.models import Tenant


def plan_changes_load(tenant: Tenant, changes: list[dict], *, subscriptions: dict[str, Subscription], today) -> None:
    """The file's ``plan_changes`` of one tenant; a queued one holds its subscription read-only."""
    products = {p.sku: p for p in Product.objects.filter(sku__in=[pc["target_sku"] for pc in changes])}
    for pc in changes:
        _plan_change_load(tenant, subscriptions[pc["subscription"]], products[pc["target_sku"]], pc, today)


def _plan_change_load(tenant, sub, target, pc, today) -> None:
    scheduled = pc["status"] == PlanChange.Status.SCHEDULED
    change = PlanChange.objects.create(
        tenant=tenant, subscription=sub, target_product=target,
        licenses=pc.get("licenses", max(sub.licenses, 1)),
        term=pc.get("term", sub.term), billing_frequency=pc.get("billing_frequency", sub.billing_frequency),
        schedule=PlanChange.Schedule.RENEWAL if scheduled else PlanChange.Schedule.NOW,
        scheduled_for=renewal_date(start=sub.start_date, term=sub.term, today=today) if scheduled else None,
        payment_method=sub.payment_method, status=pc["status"], requested_at=clock.now(),
    )
    PlanChangeStep.objects.bulk_create(
        PlanChangeStep(plan_change=change, name=name, position=i)
        for i, name in enumerate(PlanChangeStep.ORDER)
    )
    if not scheduled:  # queued: under way, so its subscription is read-only
        subscription_hold(tenant=tenant, subscription_id=sub.pk, holder=change.holder)


def plan_changes_unload(tenant: Tenant) -> None:
    """Forget the tenant's plan changes, quotes and idempotency records (an import's ``--replace``)."""
    PlanChange.objects.filter(tenant=tenant).delete()
    Quote.objects.filter(tenant=tenant).delete()
    IdempotencyRecord.objects.filter(tenant=tenant).delete()
