"""Reads of plan changes and eligibility, scoped to a tenant."""

from datetime import timedelta

from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import AddOnProduct, Invoice, PaymentKind, Subscription
from billing.selectors import addons_restorable, subscription_get
from licensing.preview import licenses_preview
from planchange.blockers import Action, Blocker, Code
from planchange.eligibility import Eligibility, eligibility_check
from planchange.models import LIVE_STATUSES, PlanChange
from portal import clock
from portal.models import Event, Tenant


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


PREDECESSORS_MAX = 100  # a chain of plan changes longer than this is no one's history


def subscription_predecessors(*, subscription: Subscription) -> list[int]:
    """The subscriptions that completed plan changes replaced, one after the other, to end with this
    one (A → B → C: for C, [B, A]), nearest first."""
    ids, current = [], subscription.pk
    while len(ids) < PREDECESSORS_MAX:
        previous = (PlanChange.objects.filter(new_subscription_id=current, status=PlanChange.Status.COMPLETED)
                    .values_list("subscription_id", flat=True).first())
        if previous is None or previous in ids:
            break
        ids.append(previous)
        current = previous
    return ids


def addons_to_add_back(*, subscription: Subscription) -> list[AddOnProduct]:
    """The add-ons the subscription page offers to add back: those removed from the subscription, or
    from (or left on) the subscriptions plan changes replaced with it."""
    return addons_restorable(tenant=subscription.tenant, subscription=subscription,
                             predecessor_ids=subscription_predecessors(subscription=subscription))


def plan_change_get(*, tenant: Tenant, change_id) -> PlanChange:
    """One of the tenant's changes with its steps; missing and foreign ids are the same 404."""
    from django.http import Http404

    try:
        return (PlanChange.objects.select_related("subscription__product", "target_product", "new_subscription",
                                                  "invoice").prefetch_related("steps").get(tenant=tenant, pk=change_id))
    except (PlanChange.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def change_events(*, change: PlanChange):
    """The change's audit trail, oldest first: requested, its steps, and how it ended."""
    return Event.objects.filter(tenant_id=change.tenant_id, object_type=PlanChange._meta.label_lower,
                                object_id=str(change.pk)).order_by("occurred_at", "id")


def scheduled_change_warnings(change: PlanChange) -> list[dict]:
    """What a change waiting for its date would meet if nothing is fixed first."""
    warnings = change_warnings(subscription=change.subscription, on=change.scheduled_for,
                               exclude_change_id=change.pk)
    sub = change.subscription
    if change.licenses is not None and change.licenses < sub.assigned_licenses:
        # Licenses assigned since it was scheduled: on its date every user must fit in the new plan.
        warnings.append(Blocker(Code.USERS_EXCEED_LICENSES, ngettext(
            "%(users)d users have licenses of %(product)s now, but the change is for %(licenses)d license: on "
            "%(date)s it would fail. Cancel it and schedule it again with enough licenses, or unassign licenses.",
            "%(users)d users have licenses of %(product)s now, but the change is for %(licenses)d licenses: on "
            "%(date)s it would fail. Cancel it and schedule it again with enough licenses, or unassign licenses.",
            change.licenses) % {"users": sub.assigned_licenses, "product": sub.product.name,
                                "licenses": change.licenses, "date": change.scheduled_for.isoformat()},
            Action(_("View users with this license"), reverse("users:active") + f"?subscription={sub.pk}")).as_dict())
    return warnings


def change_warnings(*, subscription: Subscription, on, exclude_change_id=None) -> list[dict]:
    """What a change on ``on`` would meet if nothing is fixed first: the blockers it meets today (its
    own scheduled state aside), and invoices still unpaid that fall past due before its date (the
    article's unpaid-balance rule then stops it). Each with the article's fix."""
    sub = subscription
    warnings = [b for b in eligibility_check(subscription=sub, exclude_change_id=exclude_change_id).blockers]
    if on and sub.payment == PaymentKind.INVOICE and not any(b.code == Code.UNPAID_BALANCE for b in warnings):
        due = (Invoice.objects.filter(tenant=sub.tenant, payment_method__isnull=True, total__gt=F("paid"),
                                      due_date__lt=on).order_by("due_date", "pk").first())
        if due is not None:
            warnings.append(Blocker(Code.UNPAID_BALANCE, _(
                "Invoice %(number)s (USD %(balance)s) is due %(due)s, before the change's date %(date)s: unpaid by "
                "then, it stops the change.") % {"number": due.number, "balance": due.balance,
                                                 "due": due.due_date.isoformat(), "date": on.isoformat()},
                Action(_("Pay now"), reverse("billing:invoice", args=[due.pk]))))
    return [w.as_dict() for w in warnings]


def changes_failed_recently(*, tenant: Tenant, subscription: Subscription | None = None, days: int = 30):
    """The tenant's changes that failed on a date in the last ``days`` days (simulation time): a
    scheduled change on its date, another on the day it was requested. Newest first."""
    since = clock.today() - timedelta(days=days)
    failed = (PlanChange.objects.filter(tenant=tenant, status=PlanChange.Status.FAILED)
              .filter(Q(scheduled_for__gte=since) | Q(scheduled_for__isnull=True, requested_at__date__gte=since))
              .select_related("subscription__product", "target_product").order_by("-requested_at", "-pk"))
    return failed.filter(subscription=subscription) if subscription is not None else failed


def quote_users(quote):
    """What the quoted change does to each user's services (set on the quote as ``users_preview``)."""
    quote.users_preview = licenses_preview(source=quote.subscription, target_product=quote.target_product)
    return quote
