"""Writes of plan changes: preview (a quote), request, cancel, and the subscription edits
that interact with a scheduled change. The browser, the API and the worker call these.

Every state change locks its rows, checks the current state, writes its audit event in
the same transaction, and enqueues work only after commit.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from billing.models import Offer, PaymentKind, PaymentMethod, Product, Subscription
from billing.periods import renewal_date
from billing.proration import Line, Side, change_lines, totals
from billing.selectors import subscription_get
from billing.services import (
    payment_method_add_card,
    subscription_licenses_set,
    subscription_lock,
    subscription_recurring_billing_set,
)
from billing.services import subscription_cancel as billing_cancel
from planchange.eligibility import eligibility_check
from planchange.models import PlanChange, PlanChangeStep, Quote
from portal import clock
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Tenant
from portal.selectors import by_id
from portal.services import event_record


class Blocked(DomainError):
    """The change is not allowed: ``blockers`` says why and what fixes it (422)."""

    code = "blocked"


@dataclass
class ChangeInputs:
    subscription: Subscription
    target: Product
    offer: Offer
    old_offer: Offer | None
    licenses: int
    schedule: str
    term: str
    billing_frequency: str
    payment_method: PaymentMethod | None
    effective_date: date

    @property
    def at_renewal(self) -> bool:
        return self.schedule == PlanChange.Schedule.RENEWAL

    def lines(self) -> list[Line]:
        sub = self.subscription
        old = Side(sub.product.name, self.old_offer.price if self.old_offer else 0, sub.licenses, sub.term,
                   sub.billing_frequency, sub.start_date, sub.source)
        new = Side(self.target.name, self.offer.price, self.licenses, self.term, self.billing_frequency)
        return change_lines(old, new, effective=self.effective_date, at_renewal=self.at_renewal)

    def fingerprint(self) -> tuple[str, dict]:
        """What the numbers depend on; a quote holds only while this is unchanged."""
        sub = self.subscription
        basis = {
            "subscription": sub.pk, "product": sub.product.sku, "licenses": sub.licenses, "term": sub.term,
            "billing_frequency": sub.billing_frequency, "start_date": sub.start_date.isoformat(),
            "status": sub.status, "source": sub.source, "payment": sub.payment,
            "old_price": str(self.old_offer.price) if self.old_offer else None,
            "target": self.target.sku, "new_price": str(self.offer.price), "new_licenses": self.licenses,
            "new_term": self.term, "new_billing_frequency": self.billing_frequency, "schedule": self.schedule,
            "effective_date": self.effective_date.isoformat(),
        }  # the payment method changes who pays, not what: it is not part of the quote
        digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()
        return digest, basis


def _offer(product: Product, term: str, billing_frequency: str) -> Offer | None:
    return Offer.objects.filter(product=product, term=term, billing_frequency=billing_frequency).first()


def _resolve(*, tenant: Tenant, subscription: Subscription, target_sku: str, licenses, schedule, term,
             billing_frequency, payment_method) -> ChangeInputs:
    """Turn a request's fields into checked inputs, or a clear error naming the field."""
    target = Product.objects.filter(sku=target_sku).first()
    if target is None:
        raise DomainError(_("Unknown plan %(sku)s.") % {"sku": target_sku}, code="unknown_sku", field="target_sku")
    if target.pk == subscription.product_id:
        raise DomainError(_("The subscription already is %(product)s.") % {"product": target.name},
                          code="same_plan", field="target_sku")
    if schedule not in PlanChange.Schedule.values:
        raise DomainError(_("When must be now or renewal."), code="invalid_schedule", field="schedule")
    if schedule == PlanChange.Schedule.RENEWAL and not tenant.has_billing_profile:
        raise DomainError(
            _("Without a billing profile a plan change takes effect now; it can't wait for renewal."),
            code="schedule_not_available", field="schedule")
    term = term or subscription.term
    billing_frequency = billing_frequency or ("monthly" if term == "P1M" else subscription.billing_frequency)
    offer = _offer(target, term, billing_frequency)
    if offer is None:
        raise DomainError(_("%(product)s isn't sold for %(term)s billed %(frequency)s.")
                          % {"product": target.name, "term": term, "frequency": billing_frequency},
                          code="invalid_offer", field="billing_frequency")
    assigned = subscription.assigned_licenses
    if licenses in (None, ""):
        licenses = max(subscription.licenses, assigned, 1)
    if not isinstance(licenses, int) or isinstance(licenses, bool) or licenses < 1:
        raise DomainError(_("The number of licenses must be a whole number of at least 1."),
                          code="invalid_licenses", field="licenses")
    if licenses < assigned:
        raise DomainError(
            _("%(users)d users have licenses on the current plan; the new plan needs at least %(users)d "
              "licenses, not %(licenses)d.") % {"users": assigned, "licenses": licenses},
            code="licenses_too_few", field="licenses")
    if target.max_licenses is not None and licenses > target.max_licenses:
        raise DomainError(_("%(product)s allows at most %(max)d licenses.")
                          % {"product": target.name, "max": target.max_licenses},
                          code="licenses_too_many", field="licenses")
    method = None
    if not tenant.has_billing_profile:
        if payment_method not in (None, ""):
            method = by_id(PaymentMethod.objects.filter(tenant=tenant), payment_method)
            if method is None:
                raise DomainError(_("Choose one of your organization's payment methods."),
                                  code="unknown_payment_method", field="payment_method")
        else:
            method = subscription.payment_method or PaymentMethod.objects.filter(
                tenant=tenant, is_default=True).first()
            if method is None and subscription.payment == PaymentKind.CARD:
                raise DomainError(_("Choose or add a payment method."), code="payment_method_required",
                                  field="payment_method")
    effective = (renewal_date(start=subscription.start_date, term=subscription.term, today=clock.today())
                 if schedule == PlanChange.Schedule.RENEWAL else clock.today())
    return ChangeInputs(
        subscription=subscription, target=target, offer=offer,
        old_offer=_offer(subscription.product, subscription.term, subscription.billing_frequency),
        licenses=licenses, schedule=schedule, term=term, billing_frequency=billing_frequency,
        payment_method=method, effective_date=effective,
    )


def change_require_allowed(inputs: ChangeInputs, *, exclude_change_id=None) -> None:
    """Raise Blocked with every blocker of the subscription and of the target plan."""
    eligibility = eligibility_check(subscription=inputs.subscription, exclude_change_id=exclude_change_id)
    blockers = list(eligibility.blockers)
    target = next(t for t in eligibility.targets if t.product.pk == inputs.target.pk)
    blockers += target.reasons
    if blockers:
        raise Blocked(_("This plan can't change automatically right now."),
                      blockers=[b.as_dict() for b in blockers])


def change_inputs(*, tenant, subscription_id, target_sku, licenses, schedule, term, billing_frequency,
                  payment_method) -> ChangeInputs:
    """A request's fields checked against the tenant's subscription (the preview, the request
    and the workflow's validate and bill steps all start here)."""
    try:
        subscription = subscription_get(tenant=tenant, subscription_id=subscription_id)
    except Http404 as exc:  # missing or another tenant's: the same answer
        raise NotFound(_("No such subscription."), code="subscription_not_found") from exc
    return _resolve(tenant=tenant, subscription=subscription, target_sku=target_sku, licenses=licenses,
                    schedule=schedule, term=term, billing_frequency=billing_frequency,
                    payment_method=payment_method)


@transaction.atomic
def plan_change_preview(*, tenant: Tenant, actor: str, subscription_id, target_sku: str, licenses=None,
                        schedule: str = "now", term=None, billing_frequency=None, payment_method=None) -> Quote:
    """A quote: the same lines the bill step will post for the same date, kept binding for a while."""
    inputs = change_inputs(tenant=tenant, subscription_id=subscription_id, target_sku=target_sku, licenses=licenses,
                     schedule=schedule, term=term, billing_frequency=billing_frequency,
                     payment_method=payment_method)
    change_require_allowed(inputs)
    lines = inputs.lines()
    credit, charge, total = totals(lines)
    digest, basis = inputs.fingerprint()
    now = clock.now()
    quote = Quote.objects.create(
        tenant=tenant, subscription=inputs.subscription, target_product=inputs.target, licenses=inputs.licenses,
        term=inputs.term, billing_frequency=inputs.billing_frequency, schedule=inputs.schedule,
        payment_method=inputs.payment_method, effective_date=inputs.effective_date, credit=credit,
        charge=charge, total=total, lines=[line.as_dict() for line in lines], fingerprint=digest,
        computed_from=basis, created_at=now, expires_at=now + timedelta(minutes=settings.PLANCHANGE_QUOTE_MINUTES),
    )
    event_record(tenant=tenant, actor=actor, verb="plan_change.quoted", obj=quote,
                 data={"subscription": inputs.subscription.pk, "target": inputs.target.sku, "total": str(total)})
    return quote


def _cancel_scheduled(*, subscription_id, actor: str, reason: str) -> PlanChange | None:
    change = (PlanChange.objects.select_for_update()
              .filter(subscription_id=subscription_id, status=PlanChange.Status.SCHEDULED).first())
    if change is None:
        return None
    change.status = PlanChange.Status.CANCELLED
    change.error_detail = reason
    change.save(update_fields=["status", "error_detail"])
    change.steps.update(status=PlanChangeStep.Status.SKIPPED)
    event_record(tenant=change.tenant, actor=actor, verb="plan_change.cancelled", obj=change,
                 data={"reason": reason, "scheduled_for": change.scheduled_for.isoformat()})
    return change


def _enqueue(change_id: int) -> None:
    from planchange.tasks import run_change

    transaction.on_commit(lambda: run_change.delay(change_id))


@transaction.atomic
def plan_change_request(*, tenant: Tenant, user, subscription_id, target_sku: str, licenses=None,
                        schedule: str = "now", term=None, billing_frequency=None, payment_method=None,
                        quote_id=None) -> PlanChange:
    """Record a change and hand it to the worker after commit; refuse with the reason."""
    actor = user.get_username()
    try:
        subscription_id = int(subscription_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(_("No such subscription."), code="subscription_not_found") from exc
    subscription_lock(tenant=tenant, subscription_id=subscription_id)
    live = PlanChange.objects.filter(subscription_id=subscription_id,
                                     status__in=(PlanChange.Status.QUEUED, PlanChange.Status.RUNNING))
    if live.exists():
        raise Conflict(_("A plan change of this subscription is already under way."), code="change_in_progress")
    if schedule == PlanChange.Schedule.NOW:
        _cancel_scheduled(subscription_id=subscription_id, actor=actor,
                          reason="replaced by an immediate plan change")
    elif PlanChange.objects.filter(subscription_id=subscription_id, status=PlanChange.Status.SCHEDULED).exists():
        raise Conflict(_("A change of this subscription is already scheduled; cancel it first."),
                       code="change_in_progress")
    inputs = change_inputs(tenant=tenant, subscription_id=subscription_id, target_sku=target_sku, licenses=licenses,
                     schedule=schedule, term=term, billing_frequency=billing_frequency,
                     payment_method=payment_method)
    change_require_allowed(inputs)
    quote = _quote_that_holds(tenant=tenant, quote_id=quote_id, inputs=inputs) if quote_id else None
    scheduled = inputs.at_renewal
    try:
        with transaction.atomic():
            change = PlanChange.objects.create(
                tenant=tenant, subscription=inputs.subscription, target_product=inputs.target,
                licenses=inputs.licenses, term=inputs.term, billing_frequency=inputs.billing_frequency,
                schedule=inputs.schedule, scheduled_for=inputs.effective_date if scheduled else None,
                payment_method=inputs.payment_method, quote=quote, requested_by=user,
                status=PlanChange.Status.SCHEDULED if scheduled else PlanChange.Status.QUEUED,
                requested_at=clock.now(),
            )
    except IntegrityError as exc:  # the one-live-change constraint: another request won
        raise Conflict(_("A plan change of this subscription is already under way."),
                       code="change_in_progress") from exc
    PlanChangeStep.objects.bulk_create(
        PlanChangeStep(plan_change=change, name=name, position=i) for i, name in enumerate(PlanChangeStep.ORDER))
    event_record(tenant=tenant, actor=actor, verb="plan_change.requested", obj=change, data={
        "subscription": subscription_id, "target": inputs.target.sku, "licenses": inputs.licenses,
        "schedule": inputs.schedule, "effective_date": inputs.effective_date.isoformat(),
        "quote": quote.pk if quote else None})
    if not scheduled:
        _enqueue(change.pk)
    return change


def _quote_that_holds(*, tenant, quote_id, inputs: ChangeInputs) -> Quote:
    quote = by_id(Quote.objects.filter(tenant=tenant), quote_id)
    if quote is None:
        raise NotFound(_("No such quote."), code="quote_not_found")
    if quote.expires_at <= clock.now():
        raise Conflict(_("The quote has expired; preview the change again."), code="quote_expired")
    digest, _basis = inputs.fingerprint()
    if quote.fingerprint != digest:
        raise Conflict(_("The subscription or the prices changed since the quote; preview the change again."),
                       code="quote_stale")
    return quote


@transaction.atomic
def plan_change_cancel(*, tenant: Tenant, change_id, actor: str) -> PlanChange:
    """Cancel a scheduled change (a change already queued or running can't be cancelled)."""
    change = by_id(PlanChange.objects.select_for_update().filter(tenant=tenant), change_id)
    if change is None:
        raise NotFound(_("No such plan change."), code="plan_change_not_found")
    if change.status != PlanChange.Status.SCHEDULED:
        raise Conflict(_("Only a scheduled change can be cancelled; this one is %(status)s.")
                       % {"status": change.get_status_display().lower()}, code="not_scheduled")
    return _cancel_scheduled(subscription_id=change.subscription_id, actor=actor, reason="cancelled by an admin")


@transaction.atomic
def subscription_update(*, tenant: Tenant, subscription_id, actor: str, licenses=None,
                        recurring_billing=None) -> Subscription:
    """PATCH a subscription: its licenses or its recurring billing. Refused while a change is
    under way; turning recurring billing off cancels a change scheduled for renewal."""
    if recurring_billing is False:
        subscription_lock(tenant=tenant, subscription_id=subscription_id)
        _cancel_scheduled(subscription_id=subscription_id, actor=actor,
                          reason="recurring billing was turned off, so the subscription won't renew")
    if recurring_billing is not None:
        subscription_recurring_billing_set(tenant=tenant, subscription_id=subscription_id,
                                           enabled=recurring_billing, actor=actor)
    if licenses is not None:
        subscription_licenses_set(tenant=tenant, subscription_id=subscription_id, licenses=licenses, actor=actor)
    return subscription_get(tenant=tenant, subscription_id=subscription_id)


@transaction.atomic
def subscription_cancel(*, tenant: Tenant, subscription_id, actor: str) -> Subscription:
    """Cancel a subscription (billing's rules); a change scheduled for its renewal goes with it."""
    subscription_lock(tenant=tenant, subscription_id=subscription_id)
    _cancel_scheduled(subscription_id=subscription_id, actor=actor, reason="the subscription was cancelled")
    return billing_cancel(tenant=tenant, subscription_id=subscription_id, actor=actor)


@transaction.atomic
def checkout_place_order(*, tenant: Tenant, user, subscription_id, target_sku: str, term, billing_frequency,
                         payment_choice: str, card: dict, quote_id=None) -> PlanChange:
    """MOSA Checkout's Place order: pay with one of the tenant's payment methods or a new card,
    and request the change. One transaction: a refused order keeps no new card."""
    if payment_choice == "new":
        payment_method = payment_method_add_card(tenant=tenant, actor=user.get_username(), **card).pk
    elif payment_choice:
        payment_method = payment_choice
    else:
        raise DomainError(_("Choose or add a payment method."), field="payment_method")
    return plan_change_request(tenant=tenant, user=user, subscription_id=subscription_id, target_sku=target_sku,
                               term=term, billing_frequency=billing_frequency, payment_method=payment_method,
                               quote_id=quote_id)


@transaction.atomic
def plan_change_retry(*, change_id, actor: str) -> PlanChange:
    """Support staff: run a stuck change's failed step again (after fixing what broke it)."""
    change = by_id(PlanChange.objects.select_for_update(), change_id)
    if change is None:
        raise NotFound(_("No such plan change."), code="plan_change_not_found")
    failed = change.steps.filter(status=PlanChangeStep.Status.FAILED).first()
    if change.status != PlanChange.Status.RUNNING or failed is None:
        raise Conflict(_("Only a change stuck on a failed step can be retried."), code="not_retryable")
    failed.status = PlanChangeStep.Status.PENDING
    failed.attempts = 0
    failed.error = ""
    failed.lease_until = None
    failed.save(update_fields=["status", "attempts", "error", "lease_until"])
    change.error_code = ""
    change.error_detail = ""
    change.save(update_fields=["error_code", "error_detail"])
    event_record(tenant=change.tenant, actor=actor, verb="plan_change.retried", obj=change, data={"step": failed.name})
    _enqueue(change.pk)
    return change
