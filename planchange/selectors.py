"""Reads of plan changes and eligibility, scoped to a tenant."""

from datetime import timedelta

from django.db.models import F, Q, prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from billing.habits import habit_pay_days
from billing.models import Invoice, PaymentKind, Subscription
from billing.money import money_text
from billing.selectors import subscription_get
from licensing.preview import licenses_preview
from planchange.blockers import Action, Blocker, Code
from planchange.eligibility import Eligibility, eligibility_check, eligibility_contexts, subscription_blockers
from planchange.models import LIVE_STATUSES, PlanChange, PlanChangeStep, Quote
from portal import clock
from portal.compiled import Compiled, children_attach
from portal.errors import Missing
from portal.models import Event, Tenant
from portal.selectors import object_get


def eligibility_for(*, tenant: Tenant, subscription_id) -> Eligibility:
    """The eligibility of one of the tenant's subscriptions (404 for another tenant's)."""
    return eligibility_check(subscription=subscription_get(tenant=tenant, id=subscription_id))


def live_change_for(*, subscription: Subscription) -> PlanChange | None:
    """The subscription's scheduled, queued or running change, with its steps."""
    return (PlanChange.objects.filter(subscription=subscription, status__in=LIVE_STATUSES)
            .select_related("target_product").prefetch_related("steps").first())


def completed_change_creating(*, subscription: Subscription) -> PlanChange | None:
    """The completed change that made this subscription (to show what it reset)."""
    return (PlanChange.objects.filter(new_subscription=subscription, status=PlanChange.Status.COMPLETED)
            .select_related("subscription__product").first())


PLAN_CHANGE_MISSING = Missing("plan_change_not_found", gettext_lazy("No such plan change."))
QUOTE_MISSING = Missing("quote_not_found", gettext_lazy("No such quote."), field="quote_id")  # a body's field


def plan_change_get(*, tenant: Tenant | None, id, lock: bool = False) -> PlanChange:
    """One of the tenant's changes with its steps (``tenant=None``: any tenant's, support staff's; ``lock``:
    the change row alone, locked); missing and foreign ids are the same ``plan_change_not_found``."""
    changes = PlanChange.objects.all() if tenant is None else PlanChange.objects.filter(tenant=tenant)
    if lock:
        return object_get(changes.select_for_update(), id, PLAN_CHANGE_MISSING)
    return object_get(changes.select_related("subscription__product", "target_product", "new_subscription", "invoice")
                      .prefetch_related("steps"), id, PLAN_CHANGE_MISSING)


def plan_changes_shown(*, tenant: Tenant | int, status: str | None = None):
    """The tenant's changes as the API lists them (newest first; in ``status`` only, when given), with their
    target plan and steps."""
    changes = (PlanChange.objects.filter(tenant=tenant).select_related("target_product").prefetch_related("steps")
               .order_by("-requested_at", "-id"))
    return changes if status is None else changes.filter(status=status)


_PLAN_CHANGES_SHOWN = {
    False: Compiled(lambda tenant: plan_changes_shown(tenant=tenant).prefetch_related(None)),
    True: Compiled(lambda tenant, status: plan_changes_shown(tenant=tenant, status=status).prefetch_related(None)),
}


def plan_changes_shown_first(*, tenant: Tenant, status: str | None, limit: int) -> list[PlanChange]:
    """The first ``limit`` of ``plan_changes_shown``, with their steps, read with SQL compiled once per process."""
    values = {"tenant": tenant.pk} if status is None else {"tenant": tenant.pk, "status": status}
    changes = _PLAN_CHANGES_SHOWN[status is not None].rows(limit=limit, **values)
    children_attach(changes, relation="steps", children=_STEPS_OF)
    return changes


_PLAN_CHANGE_SHOWN = Compiled(lambda tenant, id: PlanChange.objects.filter(tenant=tenant, pk=id)
                              .select_related("target_product"))
_STEPS_OF = Compiled(lambda parents: PlanChangeStep.objects.filter(plan_change__in=parents))


def plan_change_shown(*, tenant: Tenant, id) -> PlanChange:
    """One of the tenant's changes as the API shows it: with its target plan and its steps, read with SQL
    compiled once per process (``portal.compiled``), in one round trip; missing and foreign ids are the same
    ``plan_change_not_found``."""
    return _PLAN_CHANGE_SHOWN.get(id, PLAN_CHANGE_MISSING, children=("steps", _STEPS_OF), tenant=tenant.pk)


def quote_get(*, tenant: Tenant, id) -> Quote:
    return object_get(Quote.objects.filter(tenant=tenant), id, QUOTE_MISSING)


def change_events(*, change: PlanChange):
    """The change's audit trail, oldest first: requested, its steps, and how it ended."""
    return Event.objects.filter(tenant_id=change.tenant_id, object_type=PlanChange._meta.label_lower,
                                object_id=str(change.pk)).order_by("occurred_at", "id")


def scheduled_change_warnings(change: PlanChange) -> list[dict]:
    """What a change waiting for its date would meet if nothing is fixed first."""
    return scheduled_changes_warnings([change])[change.pk]


def scheduled_changes_warnings(changes) -> dict[int, list[dict]]:
    """``scheduled_change_warnings`` of each change (a page of them, of one tenant or many), by id, in the
    same fixed number of queries whatever their number."""
    changes = list(changes)
    if not changes:
        return {}
    prefetch_related_objects(changes, "subscription__tenant", "subscription__product")
    contexts = eligibility_contexts(subscriptions=[c.subscription for c in changes])
    due = _due_before(changes)
    found = {}
    for change, ctx in zip(changes, contexts, strict=True):
        ctx.live_changes = [c for c in ctx.live_changes if c.pk != change.pk]  # its own scheduled state aside
        warnings = _change_warnings(subscription=change.subscription, on=change.scheduled_for,
                                    blockers=subscription_blockers(ctx), due=due.get(change.pk))
        sub = change.subscription
        # Into a subscription the tenant has, the change adds one license per user it finds on its date.
        if not change.into_existing and change.licenses is not None and change.licenses < sub.assigned_licenses:
            # Licenses assigned since it was scheduled: on its date every user must fit in the new plan.
            warnings.append(Blocker(Code.USERS_EXCEED_LICENSES, ngettext(
                "%(users)d users have licenses of %(product)s now, but the change is for %(licenses)d license: on "
                "%(date)s it would fail. Cancel it and schedule it again with enough licenses, or unassign licenses.",
                "%(users)d users have licenses of %(product)s now, but the change is for %(licenses)d licenses: on "
                "%(date)s it would fail. Cancel it and schedule it again with enough licenses, or unassign licenses.",
                change.licenses) % {"users": sub.assigned_licenses, "product": sub.product.name,
                                    "licenses": change.licenses, "date": change.scheduled_for.isoformat()},
                Action(_("View users with this license"), reverse("users:active") + f"?subscription={sub.pk}"))
                .as_dict())
        found[change.pk] = warnings
    return found


def _unpaid_invoices(tenant_ids, before):
    """Invoice payers' invoices still unpaid that fall due before ``before``, soonest first."""
    return (Invoice.objects.filter(tenant_id__in=tenant_ids, payment_method__isnull=True, total__gt=F("paid"),
                                   due_date__lt=before).order_by("due_date", "pk"))


def _left_unpaid(invoices, *, on) -> list[Invoice]:
    """Of ``invoices`` (unpaid, soonest first), those still unpaid on ``on``: their payer's habit doesn't pay
    them before that day (a change on ``on`` runs before that day's payments)."""
    invoices = list(invoices)
    pay_days = habit_pay_days(Invoice.objects.filter(pk__in=[i.pk for i in invoices]), today=clock.today())
    return [i for i in invoices if pay_days.get(i.pk) is None or pay_days[i.pk] >= on]


def _due_before(changes) -> dict[int, Invoice]:
    """For each change of an invoice payer with a date: the first invoice unpaid that falls due before it and
    that its payer's habit leaves unpaid by then."""
    dated = [c for c in changes if c.scheduled_for and c.subscription.payment == PaymentKind.INVOICE]
    if not dated:
        return {}
    unpaid = list(_unpaid_invoices({c.tenant_id for c in dated}, max(c.scheduled_for for c in dated)))
    pay_days = habit_pay_days(Invoice.objects.filter(pk__in=[i.pk for i in unpaid]), today=clock.today())
    return {c.pk: due for c in dated if (due := next(
        (i for i in unpaid if i.tenant_id == c.tenant_id and i.due_date < c.scheduled_for
         and (pay_days.get(i.pk) is None or pay_days[i.pk] >= c.scheduled_for)), None)) is not None}


def change_warnings(*, eligibility: Eligibility, on) -> list[dict]:
    """What a change on ``on`` would meet if nothing is fixed first: the blockers its subscription meets
    today (``eligibility``, which the caller has), and invoices still unpaid that fall past due before its
    date (the article's unpaid-balance rule then stops it). Each with the article's fix."""
    subscription, blockers = eligibility.subscription, eligibility.blockers
    due = (next(iter(_left_unpaid(_unpaid_invoices([subscription.tenant_id], on), on=on)), None)
           if on and subscription.payment == PaymentKind.INVOICE else None)
    return _change_warnings(subscription=subscription, on=on, blockers=blockers, due=due)


def _change_warnings(*, subscription: Subscription, on, blockers, due: Invoice | None) -> list[dict]:
    warnings = list(blockers)
    if on and subscription.payment == PaymentKind.INVOICE and not any(b.code == Code.UNPAID_BALANCE for b in warnings):
        if due is not None:
            warnings.append(Blocker(Code.UNPAID_BALANCE, _(
                "Invoice %(number)s (%(balance)s) is due %(due)s, before the change's date %(date)s: unpaid by "
                "then, it stops the change.") % {"number": due.number, "balance": money_text(due.balance),
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


def changes_waiting_count() -> int:
    """Changes a worker has still to run, in every tenant: queued or running, not stopped on a failed step
    (those wait for support staff, not for a worker)."""
    return (PlanChange.objects.filter(status__in=(PlanChange.Status.QUEUED, PlanChange.Status.RUNNING))
            .exclude(steps__status=PlanChangeStep.Status.FAILED).distinct().count())
