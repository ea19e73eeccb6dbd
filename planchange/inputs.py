"""The inputs of a plan change: a request's fields checked against the tenant's subscription
and the catalog, and the eligibility check. The preview, the request and the workflow's
validate and bill steps all start here (so the quote and the invoice agree to the cent).

This module writes nothing and enqueues nothing: services and the workflow both import it,
and it imports neither.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.utils.translation import gettext as _

from billing.models import Offer, PaymentKind, PaymentMethod, Product, Subscription
from billing.offers import offer_for, offer_sold
from billing.periods import billing_frequency_for, renewal_date
from billing.proration import Line, Side, change_lines, join_lines
from billing.selectors import payment_method_get
from billing.texts import LICENSES_TOO_MANY, UNKNOWN_SKU, offer_choice_check
from planchange.eligibility import Eligibility, TargetOption, eligibility_check
from planchange.models import PlanChange
from planchange.texts import (
    INVALID_LICENSES,
    INVALID_SCHEDULE,
    LICENSES_TOO_FEW,
    PAYMENT_METHOD_REQUIRED,
    RENEWAL_TOO_LATE,
    SAME_PLAN,
    SCHEDULE_NEEDS_PROFILE,
)
from portal import clock
from portal.errors import DomainError
from portal.models import Tenant
from portal.texts import Text


class Blocked(DomainError):
    """The change is not allowed: ``blockers`` says why and what fixes it (422)."""

    code = "blocked"


@dataclass
class ChangeInputs:
    """What a change needs, computed once per request: its checked fields, and (on first use) its
    eligibility; the preview, the request and the workflow's steps read them from here."""

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
    exclude_change_id: int | None = None  # the change being validated, which must not block itself
    into: Subscription | None = None  # the tenant's subscription of the target the change goes into

    @property
    def at_renewal(self) -> bool:
        return self.schedule == PlanChange.Schedule.RENEWAL

    @cached_property
    def eligibility(self) -> Eligibility:
        """The subscription's eligibility, run once for this request (the engine's fixed queries)."""
        return eligibility_check(subscription=self.subscription, exclude_change_id=self.exclude_change_id)

    @property
    def target_option(self) -> TargetOption:
        return next(t for t in self.eligibility.targets if t.product.pk == self.target.pk)

    def require_allowed(self) -> None:
        """Raise Blocked with every blocker of the subscription and of the target plan."""
        blockers = [*self.eligibility.blockers, *self.target_option.reasons_for(at_renewal=self.at_renewal)]
        if blockers:
            raise Blocked(_("This plan can't change automatically right now."),
                          blockers=[b.as_dict() for b in blockers])

    def lines(self) -> list[Line]:
        sub = self.subscription
        old = Side.of(sub, self.old_offer.price if self.old_offer else 0)
        if self.into is not None:
            return join_lines(old, Side.of(self.into, self.offer.price), added=self.licenses,
                              effective=self.effective_date, at_renewal=self.at_renewal)
        new = Side(self.target.name, self.offer.price, self.licenses, self.term, self.billing_frequency)
        return change_lines(old, new, effective=self.effective_date, at_renewal=self.at_renewal)

    def fingerprint(self) -> tuple[str, dict]:
        """What the numbers depend on; a quote holds only while this is unchanged."""
        sub = self.subscription
        basis = {
            "subscription": sub.pk, "product": sub.product.sku, "licenses": sub.licenses, "term": sub.term,
            "billing_frequency": sub.billing_frequency, "start_date": sub.start_date.isoformat(),
            "status": sub.status, "source": sub.source, "payment": sub.payment,
            "billed_until": sub.billed_until.isoformat() if sub.billed_until else None,
            "billed_amount": str(sub.billed_amount) if sub.billed_amount is not None else None,
            "old_price": str(self.old_offer.price) if self.old_offer else None,
            "target": self.target.sku, "new_price": str(self.offer.price), "new_licenses": self.licenses,
            "new_term": self.term, "new_billing_frequency": self.billing_frequency, "schedule": self.schedule,
            "effective_date": self.effective_date.isoformat(),
        }
        if self.into is not None:
            into = self.into
            basis["into"] = {"subscription": into.pk, "licenses": into.licenses,
                             "start_date": into.start_date.isoformat(),
                             "billed_until": into.billed_until.isoformat() if into.billed_until else None,
                             "billed_amount": str(into.billed_amount) if into.billed_amount is not None else None}
        # the payment method changes who pays, not what: it is not part of the quote
        digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()
        return digest, basis


def _offer(product: Product, term: str, billing_frequency: str) -> Offer | None:
    return offer_for(product_id=product.pk, term=term, billing_frequency=billing_frequency)


def _target(*, tenant: Tenant, subscription: Subscription, target_sku: str, schedule,
            product: Product | None = None) -> Product:
    """The product asked for (``product``: the one a change already names, by ``target_sku``), checked."""
    target = product if product is not None else Product.objects.filter(sku=target_sku).first()
    if target is None:
        raise DomainError(Text(UNKNOWN_SKU, sku=target_sku), code="unknown_sku", field="target_sku")
    if target.pk == subscription.product_id:
        raise DomainError(Text(SAME_PLAN, product=target.name), code="same_plan", field="target_sku")
    if schedule not in PlanChange.Schedule.values:
        raise DomainError(Text(INVALID_SCHEDULE), code="invalid_schedule", field="schedule")
    if schedule == PlanChange.Schedule.RENEWAL and not tenant.has_billing_profile:
        raise DomainError(Text(SCHEDULE_NEEDS_PROFILE), code="schedule_not_available", field="schedule")
    return target


def _licenses(*, subscription: Subscription, target: Product, licenses) -> int:
    """The licenses asked for (by default as many as the subscription has, or its users need)."""
    assigned = subscription.assigned_licenses
    if licenses in (None, ""):
        licenses = max(subscription.licenses, assigned, 1)
    if not isinstance(licenses, int) or isinstance(licenses, bool) or licenses < 1:
        raise DomainError(Text(INVALID_LICENSES), code="invalid_licenses", field="licenses")
    if licenses < assigned:
        raise DomainError(Text(LICENSES_TOO_FEW, users=assigned, licenses=licenses), code="licenses_too_few",
                          field="licenses")
    if licenses > target.licenses_limit:
        raise DomainError(Text(LICENSES_TOO_MANY, product=target.name, max=target.licenses_limit),
                          code="licenses_too_many", field="licenses")
    return licenses


def _payment_method(*, tenant: Tenant, subscription: Subscription, payment_method) -> PaymentMethod | None:
    """Who pays, MOSA: the method named, else the subscription's or the tenant's default (an MCA tenant
    pays through its billing profile)."""
    if tenant.has_billing_profile:
        return None
    if payment_method not in (None, ""):
        return payment_method_get(tenant=tenant, id=payment_method)
    method = subscription.payment_method or PaymentMethod.objects.filter(tenant=tenant, is_default=True).first()
    if method is None and subscription.payment == PaymentKind.CARD:
        raise DomainError(Text(PAYMENT_METHOD_REQUIRED), code="payment_method_required", field="payment_method")
    return method


def _effective_date(*, subscription: Subscription, schedule) -> date:
    effective = (renewal_date(start=subscription.start_date, term=subscription.term, today=clock.today())
                 if schedule == PlanChange.Schedule.RENEWAL else clock.today())
    if effective > clock.LAST_DAY:
        raise DomainError(Text(RENEWAL_TOO_LATE, date=effective, last=clock.LAST_DAY),
                          code="schedule_not_available", field="schedule")
    return effective


def _licenses_for(option, *, subscription: Subscription, target: Product, licenses) -> int:
    """The licenses asked for, checked (``_licenses``); into a subscription the tenant already has, the ones
    the change adds: one per user who moves, whatever was asked (a number sent is still checked; none sent is
    not the subscription's own count, which the target's maximum has nothing to say about)."""
    if option.into is None:
        return _licenses(subscription=subscription, target=target, licenses=licenses)
    if licenses not in (None, ""):
        _licenses(subscription=subscription, target=target, licenses=licenses)
    return option.offers[0].licenses if option.offers else 0


def _resolve(*, tenant: Tenant, subscription: Subscription, target_sku: str, licenses, schedule, term,
             billing_frequency, payment_method, exclude_change_id, eligibility: Eligibility | None = None,
             product: Product | None = None) -> ChangeInputs:
    """Turn a request's fields into checked inputs, or a clear error naming the field. Into a subscription
    of the target the tenant already has (the eligibility's ``into``), the change takes that subscription's
    offer and one license per user who moves: those are not the request's to choose."""
    target = _target(tenant=tenant, subscription=subscription, target_sku=target_sku, schedule=schedule,
                     product=product)
    offer_choice_check(term=term, billing_frequency=billing_frequency)
    if eligibility is None:
        eligibility = eligibility_check(subscription=subscription, exclude_change_id=exclude_change_id)
    option = next(t for t in eligibility.targets if t.product.pk == target.pk)
    if option.into is not None:
        term, billing_frequency = option.into.term, option.into.billing_frequency
    term = term or subscription.term
    billing_frequency = billing_frequency_for(term=term, chosen=billing_frequency,
                                              current=subscription.billing_frequency)
    offer = offer_sold(target, term=term, billing_frequency=billing_frequency)
    inputs = ChangeInputs(
        subscription=subscription, target=target, offer=offer,
        old_offer=_offer(subscription.product, subscription.term, subscription.billing_frequency),
        licenses=_licenses_for(option, subscription=subscription, target=target, licenses=licenses),
        schedule=schedule, term=term, billing_frequency=billing_frequency,
        payment_method=_payment_method(tenant=tenant, subscription=subscription, payment_method=payment_method),
        effective_date=_effective_date(subscription=subscription, schedule=schedule),
        exclude_change_id=exclude_change_id, into=option.into,
    )
    inputs.__dict__["eligibility"] = eligibility  # the cached_property's: run once for the request
    return inputs


def change_inputs(*, subscription: Subscription, target_sku, licenses, schedule, term, billing_frequency,
                  payment_method, exclude_change_id=None, eligibility: Eligibility | None = None,
                  product: Product | None = None) -> ChangeInputs:
    """A request's fields checked against the subscription the caller has in hand (read for a preview,
    locked for a request, locked with its change for the workflow's steps): the preview, the request and
    the workflow's validate and bill steps all start here, so the quote and the invoice agree to the cent."""
    return _resolve(tenant=subscription.tenant, subscription=subscription, target_sku=target_sku,
                    licenses=licenses, schedule=schedule, term=term, billing_frequency=billing_frequency,
                    payment_method=payment_method, exclude_change_id=exclude_change_id, eligibility=eligibility,
                    product=product)


# --- A change's inputs, for the workflow's steps ---------------------------------------------------


def into_still_holds(change: PlanChange, into) -> bool:
    """The subscription the users go into is still ``into``, the one a change would take now (none: still
    none), and this change holds it."""
    wanted = change.into_subscription_id
    if (into.pk if into else None) != wanted:
        return False
    return into is None or change.new_subscription.held_by == change.holder


def change_lines_of(change: PlanChange) -> list[Line]:
    """The quote's lines when it was for this day and these licenses (honoured to the cent), else computed the
    same way; into a subscription the tenant has, for that subscription and the licenses the change added."""
    quote = change.quote
    if quote is not None and quote.effective_date == change.effective_date and quote.licenses == change.licenses:
        return [Line.from_dict(line) for line in quote.lines]
    # The numbers only: the change's own offer and the subscription's (validate checked the rest, and a quote
    # honoured above isn't checked again either).
    sub, target = change.subscription, change.target_product
    inputs = ChangeInputs(
        subscription=sub, target=target,
        offer=offer_sold(target, term=change.term, billing_frequency=change.billing_frequency),
        old_offer=_offer(sub.product, sub.term, sub.billing_frequency),
        licenses=change.licenses, schedule=change.schedule, term=change.term,
        billing_frequency=change.billing_frequency, payment_method=None, effective_date=change.effective_date,
        exclude_change_id=change.pk, into=change.new_subscription if change.into_existing else None)
    return inputs.lines()


def change_inputs_of(change: PlanChange, *, eligibility: Eligibility | None = None) -> ChangeInputs:
    """The change's inputs, from its subscription as locked with it (the workflow's ``_lock_change``): the
    same checks and numbers as when it was requested, the change itself aside (``eligibility``: its subscription's,
    asked with other changes' together)."""
    change.subscription.tenant = change.tenant  # the rows already read with the change
    return change_inputs(subscription=change.subscription, target_sku=change.target_product.sku,
                         licenses=None if change.into_existing else change.licenses, schedule=change.schedule,
                         term=change.term,
                         billing_frequency=change.billing_frequency, payment_method=change.payment_method_id,
                         exclude_change_id=change.pk, eligibility=eligibility, product=change.target_product)
