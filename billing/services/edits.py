"""Edits of a subscription by its admins: PATCH (licenses, recurring billing), cancel (Microsoft's
"Cancel your subscription"), and reactivation. What an app above billing must do when they happen
reaches it through ``billing.hooks``."""

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.hooks import Edit, SubscriptionEdit, subscription_edited
from billing.invoicing import lines_bill
from billing.lifecycle import DISABLED_DAYS, period_bill
from billing.models import InvoiceLine, Subscription
from billing.periods import MCA_CANCEL_WINDOW_DAYS, current_term_start
from billing.proration import Side, credit_line
from billing.selectors import offer_of
from billing.services.licenses import subscription_licenses_set
from billing.services.locks import subscription_lock, subscription_require_free
from billing.services.trials import trial_purchase_locked
from billing.verbs import SUBSCRIPTION_CANCELLED, SUBSCRIPTION_REACTIVATED, SUBSCRIPTION_RECURRING_BILLING_CHANGED
from portal import clock
from portal.errors import Conflict, DomainError
from portal.services import event_record


@transaction.atomic
def subscription_update(*, tenant, subscription_id, actor: str, licenses=None, recurring_billing=None) -> Subscription:
    """PATCH a subscription: its recurring billing and/or its licenses (each by its own rules). Refused while
    a change holds it; turning recurring billing off cancels a change scheduled for its renewal (through
    the hook)."""
    reactivated = False
    if recurring_billing is not None:
        edited = subscription_recurring_billing_set(tenant=tenant, subscription_id=subscription_id,
                                                    enabled=recurring_billing, actor=actor)
        reactivated = getattr(edited, "reactivated", False)
    if licenses is not None:
        subscription_licenses_set(tenant=tenant, subscription_id=subscription_id, licenses=licenses, actor=actor)
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    sub.reactivated = reactivated  # Expired or Disabled, back to Active
    return sub


CANCEL_ONLINE_MAX_LICENSES = 25  # "Cancel your subscription": more than that, reduce first (or call support)


@transaction.atomic
def subscription_cancel(*, tenant, subscription_id, actor: str) -> Subscription:
    """Cancel a subscription nobody uses any more (Microsoft's "Cancel your subscription"). Licenses
    still assigned must be moved or unassigned first, so no user loses service by surprise.

    MOSA: any time, with the unused part of the period credited daily, by the same rule and code as a
    plan change; online only up to 25 licenses. MCA: within 7 days of the start or a renewal, with that
    credit; later, refused with the alternative (turn off recurring billing, so it expires at the end of
    its term). Either way it goes straight to Disabled. ``credit_line`` on the answer: what was given."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    if sub.status != Subscription.Status.ACTIVE:
        raise Conflict(_("Only an active subscription can be cancelled."), code="subscription_not_active")
    assigned = sub.assigned_licenses
    if assigned:
        raise DomainError(
            ngettext("%(count)d user still has a license of %(product)s. Move them to another subscription or "
                     "unassign their licenses first.",
                     "%(count)d users still have licenses of %(product)s. Move them to another subscription or "
                     "unassign their licenses first.", assigned) % {"count": assigned, "product": sub.product.name},
            code="licenses_assigned")
    today = clock.today()
    if sub.billing_profile_id is None and sub.licenses > CANCEL_ONLINE_MAX_LICENSES:
        raise Conflict(_("A subscription with more than %(max)d licenses can't be cancelled online: remove licenses "
                         "down to %(max)d first, or contact support.") % {"max": CANCEL_ONLINE_MAX_LICENSES},
                       code="cancel_too_many_licenses", max_licenses=CANCEL_ONLINE_MAX_LICENSES)
    if sub.billing_profile_id is not None:
        term_start = current_term_start(start=sub.start_date, term=sub.term, today=today)
        if (today - term_start).days > MCA_CANCEL_WINDOW_DAYS:
            raise Conflict(_("%(product)s can be cancelled only within %(days)d days of its start or renewal "
                             "(%(date)s). Turn off recurring billing instead: it then expires at the end of its "
                             "term.") % {"product": sub.product.name, "days": MCA_CANCEL_WINDOW_DAYS,
                                         "date": term_start.isoformat()},
                           code="cancel_window_closed", alternative="turn_off_recurring_billing")
    subscription_edited(SubscriptionEdit(Edit.CANCEL, sub, actor))
    credit = _cancel_credit(sub, today=today, actor=actor)
    # Cancelling mid-term goes straight to Disabled: only admins reach the data, for 90 days.
    sub.status = Subscription.Status.DISABLED
    sub.cancelled_on = today
    sub.status_until = today + timedelta(days=DISABLED_DAYS)
    sub.recurring_billing = False
    if credit is not None:  # the rest of the period was given back: a reactivation charges anew
        sub.billed_until, sub.billed_amount = today, None
    # (without a credit billed_until stays: what was paid runs until then, if reactivated)
    sub.save(update_fields=["status", "cancelled_on", "status_until", "recurring_billing", "billed_until",
                            "billed_amount"])
    event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_CANCELLED, obj=sub,
                 data={"disabled_until": sub.status_until.isoformat(),
                       "credit": str(credit.amount) if credit is not None else None})
    sub.credit_line = credit
    return sub


def _cancel_credit(sub: Subscription, *, today, actor: str) -> InvoiceLine | None:
    """The unused part of the billed period, credited as a plan change would (card: refunded; invoice:
    account credit on the next invoice)."""
    offer = offer_of(sub)
    if offer is None:
        return None
    line = credit_line(Side.of(sub, offer.price), effective=today, at_renewal=False)
    if line is None:
        return None
    key = f"subscription/{sub.pk}/cancel"
    invoice = lines_bill(tenant=sub.tenant, billing_profile=sub.billing_profile, card=None, refund_card=sub.paying_card,
                         effective=today, key=key, number=f"INV-{today:%Y%m%d}-C{sub.pk:05d}", actor=actor,
                         lines=[line.as_invoice_line(subscription=sub, idempotency_key=f"{key}/credit")])
    return invoice.lines.get(idempotency_key=f"{key}/credit")


@transaction.atomic
def subscription_recurring_billing_set(*, tenant, subscription_id, enabled: bool, actor: str) -> Subscription:
    """Turn recurring billing on or off. On, for an Expired or Disabled subscription, reactivates it:
    Active again, a new term from today, its first period charged now."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    if sub.status in (Subscription.Status.DELETED, Subscription.Status.CANCELLED):
        deleted = sub.status == Subscription.Status.DELETED
        if enabled:
            message = (_("A deleted subscription can't be turned back on; buy a new one.") if deleted
                       else _("A cancelled subscription can't be turned back on; buy a new one."))
        else:
            message = (_("A deleted subscription has no recurring billing to turn off.") if deleted
                       else _("A cancelled subscription has no recurring billing to turn off."))
        raise Conflict(message, code="subscription_not_active")
    if enabled and sub.status in (Subscription.Status.EXPIRED, Subscription.Status.DISABLED):
        return subscription_reactivate(sub, actor=actor)
    if not enabled:
        subscription_edited(SubscriptionEdit(Edit.RECURRING_BILLING_OFF, sub, actor))
    if sub.recurring_billing != enabled:
        sub.recurring_billing = enabled
        sub.save(update_fields=["recurring_billing"])
        event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_RECURRING_BILLING_CHANGED, obj=sub,
                     data={"recurring_billing": enabled})
    return sub


def subscription_reactivate(sub: Subscription, *, actor: str) -> Subscription:
    """An Expired or Disabled subscription back to Active (call with it locked): recurring billing
    on, a new term from today, the first period charged now (a card the day after). An ended trial is bought."""
    if sub.source == Subscription.Source.TRIAL:
        trial_purchase_locked(sub, actor=actor).reactivated = True
        return sub
    today = clock.today()
    before = sub.status
    sub.status = Subscription.Status.ACTIVE
    sub.status_until = None
    sub.cancelled_on = None
    sub.recurring_billing = True
    if sub.billed_until is not None and sub.billed_until > today:
        # Cancelled mid-term and back within the period already paid: it resumes, nothing is charged twice.
        data = {"from": before, "resumed": True, "billed_until": sub.billed_until.isoformat()}
    else:
        sub.start_date = today
        sub.billed_until = today
        period_bill(sub, begin=today, offers={}, actor=actor)
        data = {"from": before, "term_start": today.isoformat()}
    sub.save(update_fields=["status", "status_until", "cancelled_on", "recurring_billing", "start_date",
                            "billed_until", "billed_amount"])
    event_record(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_REACTIVATED, obj=sub, data=data)
    sub.reactivated = True
    return sub
