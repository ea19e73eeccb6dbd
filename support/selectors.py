"""What support staff read across tenants: plan changes (with stalled ones found), one change's
audit trail under its correlation id, and every tenant's open problems."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from billing.models import Invoice, Subscription
from billing.verbs import CREDIT_CHECK_APPROVED, CREDIT_CHECK_REJECTED, SUBSCRIPTION_PROVISIONED
from licensing.selectors import licenses_moved_count
from planchange.eligibility import eligibility_checks
from planchange.models import PlanChange, PlanChangeStep
from planchange.selectors import PLAN_CHANGE_MISSING
from planchange.verbs import PLAN_CHANGE_RETRIED
from portal import clock
from portal.models import Event, Tenant
from portal.selectors import object_get
from portal.verbs import INCIDENT_OPENED, INCIDENT_UPDATED

STALLED = "stalled"  # a filter, not a status: running, with a step whose worker stopped renewing its lease
STUCK = "stuck"  # a filter: running, with a failed step (the workflow gave up on it): support must act


def _stalled_steps():
    return PlanChangeStep.objects.filter(plan_change=OuterRef("pk"), status=PlanChangeStep.Status.RUNNING,
                                         lease_until__lt=timezone.now())


def _failed_steps():
    return PlanChangeStep.objects.filter(plan_change=OuterRef("pk"), status=PlanChangeStep.Status.FAILED)


def support_changes(*, status: str = "", tenant_id: int | None = None, older_than_days: int | None = None,
                    search: str = ""):
    """Plan changes in every tenant, newest first: by status (or ``stalled``, ``stuck``), tenant, age
    (requested more than N days ago) and a search of the tenant's name or domain, the products or the
    change id. An unknown status matches nothing."""
    changes = (PlanChange.objects.select_related("tenant", "subscription__product", "target_product")
               .prefetch_related("steps")
               .annotate(is_stalled=Exists(_stalled_steps()), is_stuck=Exists(_failed_steps()))
               .order_by("-requested_at", "-id"))
    if status == STALLED:
        changes = changes.filter(status=PlanChange.Status.RUNNING, is_stalled=True)
    elif status == STUCK:
        changes = changes.filter(status=PlanChange.Status.RUNNING, is_stuck=True)
    elif status in PlanChange.Status.values:
        changes = changes.filter(status=status)
    elif status:
        changes = changes.none()
    if tenant_id is not None:
        changes = changes.filter(tenant_id=tenant_id)
    if older_than_days is not None:
        changes = changes.filter(requested_at__lt=clock.now() - timedelta(days=older_than_days))
    if search:
        match = (Q(tenant__name__icontains=search) | Q(tenant__domain__icontains=search)
                 | Q(subscription__product__name__icontains=search) | Q(target_product__name__icontains=search))
        if search.isascii() and search.isdigit() and len(search) < 19:
            match |= Q(pk=int(search))
        changes = changes.filter(match)
    return changes


def support_change_get(*, id) -> PlanChange:
    """Any tenant's change, with what its support page shows (``plan_change_not_found`` otherwise)."""
    return object_get(support_changes().select_related("quote", "invoice", "new_subscription__product", "requested_by"),
                      id, PLAN_CHANGE_MISSING)


def change_users_moved(change: PlanChange) -> int:
    """Users the change moved so far (licensing's batches of it)."""
    return licenses_moved_count(tenant=change.tenant_id, holder=change.holder)


def support_actions(*, limit: int = 20):
    """What support staff did lately, across tenants (the audit events recorded in their names)."""
    staff = get_user_model().objects.filter(is_staff=True).values("username")
    return _with_why(Event.objects.filter(actor__in=staff).select_related("tenant").order_by("-recorded_at", "-pk")
                     [:limit])


def change_correlation(change: PlanChange) -> str:
    return change.holder


def change_trail(change: PlanChange):
    """The change's audit trail in order, under its correlation id: the request, the quote it used,
    each support action, the new subscription, the licenses moved, the invoice."""
    related = Q(object_type=PlanChange._meta.label_lower, object_id=str(change.pk)) | Q(data__by=change.holder)
    if change.invoice_id:
        related |= Q(object_type=Invoice._meta.label_lower, object_id=str(change.invoice_id))
    if change.new_subscription_id:
        related |= Q(object_type=Subscription._meta.label_lower, object_id=str(change.new_subscription_id),
                     verb=SUBSCRIPTION_PROVISIONED)
    return _with_why(Event.objects.filter(tenant_id=change.tenant_id).filter(related).order_by("occurred_at", "pk"))


def _with_why(events) -> list[Event]:
    """Each event with ``why``: the reason support staff typed for it ("" for anyone else's, whose stored
    reason is a generated English text the event's own description already says)."""
    events = list(events)
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        event.why = (data.get("support_reason") or (data.get("reason_params", {}).get("reason", "")
                     if "reason_text" in data else data.get("reason", "") if event.verb in SUPPORT_VERBS else ""))
    return events


SUPPORT_VERBS = {PLAN_CHANGE_RETRIED, CREDIT_CHECK_APPROVED, CREDIT_CHECK_REJECTED, INCIDENT_OPENED, INCIDENT_UPDATED}


@dataclass
class TenantProblems:
    tenant: Tenant
    blocked: list[tuple[Subscription, list[str]]]  # each blocked subscription with its blockers' titles
    overdue: list[Invoice]
    failed: list[PlanChange]
    stalled: int
    stuck: int

    @property
    def count(self) -> int:
        return len(self.blocked) + len(self.overdue) + len(self.failed) + self.stalled + self.stuck


def support_tenant_list(*, search: str = ""):
    tenants = Tenant.objects.order_by("name", "pk")
    if search:
        tenants = tenants.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    return tenants


def support_tenants(*, search: str = "", tenants=None) -> list[TenantProblems]:
    """Tenants (a page of them, or every one matching ``search``) with their open problems: subscriptions
    that can't change plans and why, invoices past due, plan changes failed in the last 30 days and changes
    stalled or stuck now. One query per kind of problem for all the tenants shown (the eligibility of every
    active subscription too)."""
    tenants = list(support_tenant_list(search=search) if tenants is None else tenants)
    ids = [t.pk for t in tenants]
    today = clock.today()
    blocked: dict[int, list] = {}
    active = (Subscription.objects.filter(tenant_id__in=ids, status=Subscription.Status.ACTIVE)
              .select_related("product", "tenant").order_by("pk"))
    for eligibility in eligibility_checks(subscriptions=active):
        sub = eligibility.subscription
        if eligibility.blockers:
            blocked.setdefault(sub.tenant_id, []).append((sub, [str(b.title) for b in eligibility.blockers]))
    overdue: dict[int, list] = {}
    for invoice in Invoice.objects.filter(tenant_id__in=ids, due_date__lt=today).order_by("due_date", "pk"):
        if invoice.status_on(today) == Invoice.Status.OVERDUE:
            overdue.setdefault(invoice.tenant_id, []).append(invoice)
    failed: dict[int, list] = {}
    since = clock.now() - timedelta(days=30)  # asked in the last 30 days, or scheduled for a day in them
    for change in (PlanChange.objects.filter(Q(requested_at__gte=since) | Q(scheduled_for__gte=since.date()),
                                             tenant_id__in=ids, status=PlanChange.Status.FAILED)
                   .select_related("target_product", "subscription__product").order_by("pk")):
        failed.setdefault(change.tenant_id, []).append(change)

    def counts(status: str) -> dict[int, int]:
        return dict(support_changes(status=status).filter(tenant_id__in=ids).order_by()
                    .values_list("tenant_id").annotate(n=Count("pk")).values_list("tenant_id", "n"))

    stalled, stuck = counts(STALLED), counts(STUCK)
    return [TenantProblems(tenant=t, blocked=blocked.get(t.pk, []), overdue=overdue.get(t.pk, []),
                           failed=failed.get(t.pk, []), stalled=stalled.get(t.pk, 0), stuck=stuck.get(t.pk, 0))
            for t in tenants]
