"""Writes of plan changes: preview (a quote), request (and MOSA Checkout's order), cancel, retry.
The browser, the API and the worker call these; what a subscription edit does to a scheduled change
is ``planchange.hooks``.

Every state change locks its rows in the one lock order (subscriptions by id, then the
change: ``billing.services.subscriptions_lock``), checks the current state, writes its
audit event in the same transaction, and wakes a worker only after commit. A change that is
queued or running holds its subscriptions read-only (billing's hold): every license and
subscription edit of them is refused with ``change_in_progress`` until it ends.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Subscription
from billing.proration import totals
from billing.selectors import subscription_get
from billing.services import payment_chosen, subscription_hold_locked, subscription_lock, subscriptions_lock
from planchange.dispatch import change_enqueue
from planchange.inputs import ChangeInputs, change_inputs
from planchange.models import PlanChange, PlanChangeStep, Quote
from planchange.selectors import plan_change_get, quote_get
from planchange.texts import (
    CANCELLED_BY_ADMIN,
    CANCELLED_BY_SUPPORT,
    REPLACED_BY_IMMEDIATE,
)
from planchange.verbs import PLAN_CHANGE_CANCELLED, PLAN_CHANGE_REQUESTED, PLAN_CHANGE_RETRIED
from portal import clock
from portal.errors import Conflict
from portal.inputs import parse_id
from portal.models import Tenant
from portal.services import event_record, support_reason_clean
from portal.texts import Text


def plan_change_preview(*, tenant: Tenant, subscription_id, target_sku: str, licenses=None,
                        schedule: str = PlanChange.Schedule.NOW,
                        term=None, billing_frequency=None, payment_method=None, store: bool = True) -> Quote:
    """A quote: the same lines the bill step will post for the same date. Stored (binding for
    ``PLANCHANGE_QUOTE_MINUTES``) when the caller may order it, so Place order can honour it, and
    reused while it holds; with ``store=False`` (a role that may not order) nothing is written. A
    quote is not an action: the audit trail records it on the order that used it. The answer carries
    its ``inputs`` (with their eligibility) for the page that shows it."""
    inputs = change_inputs(subscription=subscription_get(tenant=tenant, id=subscription_id), target_sku=target_sku,
                           licenses=licenses, schedule=schedule, term=term, billing_frequency=billing_frequency,
                           payment_method=payment_method)
    inputs.require_allowed()
    quote = _quote_of(tenant=tenant, inputs=inputs, store=store)
    quote.inputs = inputs
    return quote


def _quote_of(*, tenant: Tenant, inputs: ChangeInputs, store: bool) -> Quote:
    lines = inputs.lines()
    credit, charge, total = totals(lines)
    digest, basis = inputs.fingerprint()
    now = clock.now()
    quote = Quote(
        tenant=tenant, subscription=inputs.subscription, target_product=inputs.target, licenses=inputs.licenses,
        term=inputs.term, billing_frequency=inputs.billing_frequency, schedule=inputs.schedule,
        payment_method=inputs.payment_method, into_subscription=inputs.into, effective_date=inputs.effective_date,
        credit=credit,
        charge=charge, total=total, lines=[line.as_dict() for line in lines], fingerprint=digest,
        computed_from=basis, created_at=now, expires_at=now + timedelta(minutes=settings.PLANCHANGE_QUOTE_MINUTES),
    )
    if not store:
        return quote
    # The same preview again (a page reloaded, a choice toggled back) reuses the stored quote while it
    # has most of its validity left, instead of storing one per view.
    fresh = (Quote.objects.filter(tenant=tenant, fingerprint=digest, payment_method=inputs.payment_method,
                                  expires_at__gt=now + timedelta(minutes=settings.PLANCHANGE_QUOTE_MINUTES / 2))
             .exclude(pk__in=PlanChange.objects.filter(quote__isnull=False).values("quote_id"))
             .order_by("-created_at").first())
    if fresh is not None:
        return fresh
    quote.save()
    return quote


def scheduled_change_cancel(*, subscription_id, actor: str, reason: str | Text) -> PlanChange | None:
    """Cancel the subscription's scheduled change, if any (call with the subscription locked). The
    ``reason`` is kept in English, and as its text when it is one (shown in the reader's language)."""
    change = (PlanChange.objects.select_for_update()
              .filter(subscription_id=subscription_id, status=PlanChange.Status.SCHEDULED).first())
    if change is None:
        return None
    text = reason if isinstance(reason, Text) else None
    change.status = PlanChange.Status.CANCELLED
    change.error_detail = text.english() if text else reason
    change.error_text, change.error_params = (text.key, text.params) if text else ("", {})
    change.save(update_fields=["status", "error_detail", "error_text", "error_params"])
    change.steps.update(status=PlanChangeStep.Status.SKIPPED)
    data = {"reason": change.error_detail, "scheduled_for": change.scheduled_for.isoformat()}
    if text:
        data["reason_text"] = text.key
        if text.params:
            data["reason_params"] = text.params
    event_record(tenant=change.tenant, actor=actor, verb=PLAN_CHANGE_CANCELLED, obj=change, data=data)
    return change


def _lock_for_request(*, tenant: Tenant, subscription_id, target_sku, schedule) -> Subscription:
    """The one lock of a request: the subscription, with the tenant's active ones of the target product a
    change now may go into (by ascending id, the lock order)."""
    owned = [] if schedule != PlanChange.Schedule.NOW else list(Subscription.objects.filter(
        tenant=tenant, product__sku=str(target_sku)[:64], status=Subscription.Status.ACTIVE)
        .values_list("pk", flat=True))
    if not owned:
        return subscription_lock(tenant=tenant, subscription_id=subscription_id)
    return subscriptions_lock(tenant=tenant, subscription_ids=[subscription_id, *owned])[parse_id(subscription_id)]


@transaction.atomic
def plan_change_request(*, tenant: Tenant, user, subscription_id, target_sku: str, licenses=None,
                        schedule: str = PlanChange.Schedule.NOW, term=None, billing_frequency=None, payment_method=None,
                        quote_id=None) -> PlanChange:
    """Record a change and wake a worker after commit; refuse with the reason. A change that
    starts now holds its subscription read-only from this transaction on."""
    actor = user.get_username()
    sub = _lock_for_request(tenant=tenant, subscription_id=subscription_id, target_sku=target_sku,
                            schedule=schedule)
    if sub.held_by or PlanChange.objects.filter(
            subscription=sub, status__in=(PlanChange.Status.QUEUED, PlanChange.Status.RUNNING)).exists():
        raise Conflict(_("A plan change of this subscription is already under way."), code="change_in_progress")
    if schedule == PlanChange.Schedule.NOW:
        scheduled_change_cancel(subscription_id=sub.pk, actor=actor, reason=Text(REPLACED_BY_IMMEDIATE))
    elif PlanChange.objects.filter(subscription=sub, status=PlanChange.Status.SCHEDULED).exists():
        raise Conflict(_("A change of this subscription is already scheduled; cancel it first."),
                       code="change_in_progress")
    inputs = change_inputs(subscription=sub, target_sku=target_sku, licenses=licenses, schedule=schedule, term=term,
                           billing_frequency=billing_frequency, payment_method=payment_method)
    inputs.require_allowed()
    quote = _quote_that_holds(tenant=tenant, quote_id=quote_id, inputs=inputs) if quote_id else None
    scheduled = inputs.at_renewal
    try:
        with transaction.atomic():
            change = PlanChange.objects.create(
                tenant=tenant, subscription=inputs.subscription, target_product=inputs.target,
                licenses=inputs.licenses, term=inputs.term, billing_frequency=inputs.billing_frequency,
                schedule=inputs.schedule, scheduled_for=inputs.effective_date if scheduled else None,
                payment_method=inputs.payment_method, quote=quote, requested_by=user,
                new_subscription=inputs.into, into_existing=inputs.into is not None,
                status=PlanChange.Status.SCHEDULED if scheduled else PlanChange.Status.QUEUED,
                requested_at=clock.now(),
            )
    except IntegrityError as exc:  # the one-live-change constraint: another request won
        raise Conflict(_("A plan change of this subscription is already under way."),
                       code="change_in_progress") from exc
    PlanChangeStep.objects.bulk_create(
        PlanChangeStep(plan_change=change, name=name, position=i) for i, name in enumerate(PlanChangeStep.ORDER))
    event_record(tenant=tenant, actor=actor, verb=PLAN_CHANGE_REQUESTED, obj=change, data={
        "subscription": sub.pk, "target": inputs.target.sku, "licenses": inputs.licenses,
        "into_subscription": inputs.into.pk if inputs.into else None,
        "schedule": inputs.schedule, "effective_date": inputs.effective_date.isoformat(),
        "quote": {"id": quote.pk, "credit": str(quote.credit), "charge": str(quote.charge),
                  "total": str(quote.total)} if quote else None})
    if not scheduled:
        subscription_hold_locked(sub, holder=change.holder)
        if inputs.into is not None:  # the subscription the users go into is the change's too
            subscription_hold_locked(inputs.into, holder=change.holder)
        change_enqueue(change.pk)
    return change


def _quote_that_holds(*, tenant, quote_id, inputs: ChangeInputs) -> Quote:
    quote = quote_get(tenant=tenant, id=quote_id)
    if quote.expires_at <= clock.now():
        raise Conflict(_("The quote has expired; preview the change again."), code="quote_expired")
    digest, _basis = inputs.fingerprint()
    if quote.fingerprint != digest:
        raise Conflict(_("The subscription or the prices changed since the quote; preview the change again."),
                       code="quote_stale")
    return quote


# Why a change can't be cancelled, one sentence per status (a status label isn't a word to put in a sentence).
NOT_SCHEDULED = {
    PlanChange.Status.QUEUED: gettext_lazy("Only a scheduled change can be cancelled; this one is queued."),
    PlanChange.Status.RUNNING: gettext_lazy("Only a scheduled change can be cancelled; this one is running."),
    PlanChange.Status.COMPLETED: gettext_lazy("Only a scheduled change can be cancelled; this one has completed."),
    PlanChange.Status.FAILED: gettext_lazy("Only a scheduled change can be cancelled; this one has failed."),
    PlanChange.Status.CANCELLED: gettext_lazy("Only a scheduled change can be cancelled; this one already is "
                                              "cancelled."),
}


@transaction.atomic
def plan_change_cancel(*, tenant: Tenant | None, change_id, actor: str, reason: str = "",
                       by_support: bool = False, reason_required: bool = False) -> PlanChange:
    """Cancel a scheduled change (a change already queued or running can't be cancelled). Support
    staff (``by_support``) pass no tenant (any tenant's change) and say why."""
    found = plan_change_get(tenant=tenant, id=change_id)  # the object first, then what the request says of it
    reason = support_reason_clean(reason, required=reason_required) if by_support else ""
    # The lock order: the subscription first, then the change.
    subscription_lock(tenant=found.tenant_id, subscription_id=found.subscription_id)
    change = PlanChange.objects.select_for_update().get(pk=found.pk)
    if change.status != PlanChange.Status.SCHEDULED:
        raise Conflict(NOT_SCHEDULED.get(change.status, NOT_SCHEDULED[PlanChange.Status.QUEUED]), code="not_scheduled")
    why = Text(CANCELLED_BY_SUPPORT, reason=reason or "—") if by_support else Text(CANCELLED_BY_ADMIN)
    return scheduled_change_cancel(subscription_id=change.subscription_id, actor=actor, reason=why)


@transaction.atomic
def checkout_place_order(*, tenant: Tenant, user, subscription_id, target_sku: str, term, billing_frequency,
                         payment_choice: str, card: dict, quote_id=None) -> PlanChange:
    """MOSA Checkout's Place order: pay with one of the tenant's payment methods or a new card,
    and request the change. One transaction: a refused order keeps no new card."""
    payment_method = payment_chosen(tenant=tenant, choice=payment_choice, card=card, actor=user.get_username())
    return plan_change_request(tenant=tenant, user=user, subscription_id=subscription_id, target_sku=target_sku,
                               term=term, billing_frequency=billing_frequency, payment_method=payment_method,
                               quote_id=quote_id)


@transaction.atomic
def plan_change_retry(*, change_id, actor: str, reason: str = "", reason_required: bool = False) -> PlanChange:
    """Support staff: go on with a change from the step where it stopped: a failed step runs again
    (after fixing what broke it), a stalled one (its worker stopped renewing the lease) is handed to a
    worker, which takes it over. Each step still runs exactly once (the workflow's claims)."""
    change = plan_change_get(tenant=None, id=change_id, lock=True)
    reason = support_reason_clean(reason, required=reason_required)
    failed = change.steps.filter(status=PlanChangeStep.Status.FAILED).first()
    stalled = change.steps.filter(status=PlanChangeStep.Status.RUNNING, lease_until__lt=timezone.now()).first()
    now = timezone.now()  # machine time, as the leases
    if change.status == PlanChange.Status.RUNNING and failed is None and stalled is not None:
        since = now - timedelta(seconds=settings.PLANCHANGE_STEP_LEASE)
        if change.retried_at is not None and change.retried_at > since:
            # a worker was woken for it moments ago: let it take the step over
            raise Conflict(_("This change was handed to a worker moments ago; give it a minute before retrying "
                             "again."), code="retry_pending")
        change.retried_at = now
        change.save(update_fields=["retried_at"])
        event_record(tenant=change.tenant, actor=actor, verb=PLAN_CHANGE_RETRIED, obj=change,
                     data={"step": stalled.name, "stalled": True, **({"reason": reason} if reason else {})})
        change_enqueue(change.pk)
        return change
    if change.status != PlanChange.Status.RUNNING or failed is None:
        raise Conflict(_("Only a change stuck on a failed step, or stalled on a step its worker stopped "
                         "renewing, can be retried; this one is %(status)s.")
                       % {"status": change.get_status_display()}, code="not_retryable")
    failed.status = PlanChangeStep.Status.PENDING
    failed.attempts = 0
    failed.error = ""
    failed.lease_until = None
    failed.save(update_fields=["status", "attempts", "error", "lease_until"])
    change.error_code = ""
    change.error_detail = ""
    change.retried_at = now
    change.save(update_fields=["error_code", "error_detail", "retried_at"])
    event_record(tenant=change.tenant, actor=actor, verb=PLAN_CHANGE_RETRIED, obj=change,
                 data={"step": failed.name, **({"reason": reason} if reason else {})})
    change_enqueue(change.pk)
    return change
