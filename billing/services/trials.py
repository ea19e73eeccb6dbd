"""A trial's edits by its admins (Microsoft's "Try or buy a Microsoft 365 subscription"): Extend your trial
(once, by 30 days, within the last 15 days of the trial) and Purchase subscription (the trial becomes a paid
subscription of the same plan now: billing starts today). What happens at a trial's end is ``billing.trials``."""

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from billing.lifecycle import period_bill, period_key
from billing.models import Invoice, Subscription
from billing.services.locks import subscription_lock, subscription_require_free
from billing.trials import (
    CONVERT_FIELDS,
    TRIAL_EXTEND_WITHIN_DAYS,
    TRIAL_EXTENSION_DAYS,
    Payers,
    trial_convert,
)
from billing.verbs import SUBSCRIPTION_TRIAL_EXTENDED, SUBSCRIPTION_TRIAL_PURCHASED
from portal import clock
from portal.errors import Conflict, DomainError
from portal.services import event_record

Status = Subscription.Status


def _require_trial(sub: Subscription) -> None:
    if sub.source != Subscription.Source.TRIAL:
        raise Conflict(_("%(product)s isn't a trial.") % {"product": sub.product.name}, code="not_a_trial")


@transaction.atomic
def subscription_trial_extend(*, tenant, subscription_id, actor: str) -> Subscription:
    """Extend your trial: 30 more days, once, within the last 15 days of the trial (Microsoft's rule).
    Refused with 409 ``trial_already_extended`` the second time and ``trial_extend_not_yet`` before the
    window opens (with ``extendable_from``)."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    _require_trial(sub)
    if sub.status != Status.ACTIVE:
        raise Conflict(_("The trial of %(product)s has ended and can't be extended; buy the subscription to keep "
                         "it.") % {"product": sub.product.name}, code="subscription_not_active")
    if sub.trial_extended:
        raise Conflict(_("This trial was extended once already and can't be extended again. Buy the subscription "
                         "to keep using it after %(date)s.") % {"date": sub.trial_ends_on.isoformat()},
                       code="trial_already_extended")
    opens = sub.trial_ends_on - timedelta(days=TRIAL_EXTEND_WITHIN_DAYS)
    if clock.today() < opens:
        raise Conflict(_("A trial can be extended within %(days)d days of its end: from %(date)s.") % {
            "days": TRIAL_EXTEND_WITHIN_DAYS, "date": opens.isoformat()},
            code="trial_extend_not_yet", extendable_from=opens.isoformat())
    before = sub.trial_ends_on
    sub.trial_ends_on = before + timedelta(days=TRIAL_EXTENSION_DAYS)
    sub.trial_extended = True
    sub.save(update_fields=["trial_ends_on", "trial_extended"])
    event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_TRIAL_EXTENDED, obj=sub,
                 data={"from": before.isoformat(), "trial_ends_on": sub.trial_ends_on.isoformat()})
    return sub


@transaction.atomic
def subscription_trial_purchase(*, tenant, subscription_id, actor: str) -> Subscription:
    """Purchase subscription: the trial (active, or ended and not yet deleted) becomes a paid subscription of
    the same plan and offer now, paid as it would be at its end (``billing.trials.Payers``); 422
    ``payment_method_required`` without a payment method on file. ``trial_invoice``: its first period's."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    return trial_purchase_locked(sub, actor=actor)


def trial_purchase_locked(sub: Subscription, *, actor: str) -> Subscription:
    """``subscription_trial_purchase`` of a trial locked in this transaction already (turning recurring
    billing back on for an ended trial buys it too)."""
    _require_trial(sub)
    if sub.status not in (Status.ACTIVE, Status.EXPIRED, Status.DISABLED):
        raise Conflict(_("The trial of %(product)s was deleted; buy a new subscription in Purchase services.")
                       % {"product": sub.product.name}, code="subscription_not_active")
    payer = Payers.of([sub.tenant_id]).payer(sub)
    if payer is None:
        raise DomainError(_("Add a payment method first: the subscription is paid with it from today."),
                          code="payment_method_required", field="payment_method")
    today = clock.today()
    trial_convert(sub, on=today, payer=payer)
    event_record(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_TRIAL_PURCHASED, obj=sub,
                 data={"on": today.isoformat(), "payment": payer.payment})
    period_bill(sub, begin=today, offers={}, actor=actor)
    sub.save(update_fields=CONVERT_FIELDS)
    sub.trial_invoice = Invoice.objects.filter(lines__idempotency_key=period_key(sub.pk, today)).first()
    return sub
