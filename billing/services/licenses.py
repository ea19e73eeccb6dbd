"""Buy or remove licenses (Microsoft's "Buy or remove licenses"): now with the rest of the period
charged or credited, or (MCA, outside its window) at the renewal."""

import dataclasses
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.invoicing import lines_bill
from billing.models import CreditCheck, LicenseChange, Subscription
from billing.money import money
from billing.periods import billing_period
from billing.proration import Side
from billing.selectors import licenses_editable, licenses_remove_window, offer_of
from billing.services.locks import subscription_lock, subscription_require_free
from billing.texts import period_text, reversed_text
from billing.verbs import (
    SUBSCRIPTION_LICENSES_CHANGED,
    SUBSCRIPTION_LICENSES_REMOVAL_CANCELLED,
    SUBSCRIPTION_LICENSES_REMOVAL_SCHEDULED,
)
from portal import clock
from portal.errors import Conflict, DomainError
from portal.services import event_record


def _licenses_check(sub: Subscription, *, tenant, licenses: int) -> None:
    """Refuse a count the subscription can't take now (call with it locked)."""
    pending = CreditCheck.objects.filter(tenant=tenant, status=CreditCheck.Status.PENDING).first()
    refused = licenses_editable(sub, credit_check=pending)
    if refused:
        code = ("subscription_not_active" if sub.status != Subscription.Status.ACTIVE else
                "credit_check_pending" if pending is not None and sub.source == Subscription.Source.DIRECT
                else "licenses_not_editable")
        raise Conflict(refused, code=code)
    assigned = sub.assigned_licenses
    if licenses < max(assigned, 1):
        raise DomainError(
            ngettext("%(assigned)d license is assigned to users. To keep %(licenses)d, unassign %(more)d first.",
                     "%(assigned)d licenses are assigned to users. To keep %(licenses)d, unassign %(more)d first.",
                     assigned) % {"assigned": assigned, "licenses": max(licenses, 0),
                                  "more": assigned - max(licenses, 0)}
            if assigned else _("A subscription keeps at least 1 license; cancel it instead."),
            code="licenses_too_few", field="licenses", assigned=assigned)
    if licenses > sub.product.licenses_limit:
        raise DomainError(_("%(product)s allows at most %(max)d licenses.")
                          % {"product": sub.product.name, "max": sub.product.licenses_limit},
                          code="licenses_too_many", field="licenses")


@transaction.atomic
def subscription_licenses_set(*, tenant, subscription_id, licenses: int, actor: str) -> Subscription:
    """Buy or remove licenses (Microsoft's "Buy or remove licenses").

    Buying takes effect now, the rest of the period charged (MOSA: an invoice today; MCA: the next
    monthly invoice). Removing never goes below the licenses assigned (unassign first); MOSA removes
    now with the unused days credited, MCA only within 7 days of the purchase or renewal, otherwise
    the removal is scheduled for the renewal (``licenses_at_renewal``). Setting today's number again
    drops a scheduled removal. Refused for a trial, a product key, a reseller's subscription and while a
    credit check is pending. The answer carries ``licenses_effective``: "now" or the renewal date."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    _licenses_check(sub, tenant=tenant, licenses=licenses)
    before = sub.licenses
    sub.licenses_effective = "now"
    if licenses == before:
        if sub.licenses_at_renewal is not None:
            event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_LICENSES_REMOVAL_CANCELLED, obj=sub,
                         data={"licenses": before, "was": sub.licenses_at_renewal})
            sub.licenses_at_renewal = None
            sub.save(update_fields=["licenses_at_renewal"])
        return sub
    if licenses < before:
        now, renewal = licenses_remove_window(sub, today=clock.today(), count=before - licenses)
        if not now:
            sub.licenses_at_renewal = licenses
            sub.save(update_fields=["licenses_at_renewal"])
            event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_LICENSES_REMOVAL_SCHEDULED, obj=sub,
                         data={"from": before, "to": licenses, "on": renewal.isoformat()})
            sub.licenses_effective = renewal
            return sub
    _licenses_now(sub, before=before, licenses=licenses, actor=actor)
    return sub


@transaction.atomic
def subscription_licenses_join(*, tenant, subscription_id, add: int, holder: str, actor: str) -> Subscription:
    """A plan change going into this subscription (held by it, ``holder``) adds ``add`` licenses, one per user
    who moves in; the change bills them (its bill step: the rest of the period, as licenses bought now are).
    A removal waiting for the renewal still removes the same number."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    if sub.held_by != holder:
        raise Conflict(_("The subscription isn't held by this change."), code="not_held")
    if add <= 0:
        return sub
    before = sub.licenses
    sub.licenses = before + add
    if sub.licenses_at_renewal is not None:
        sub.licenses_at_renewal += add
    sub.save(update_fields=["licenses", "licenses_at_renewal"])
    LicenseChange.objects.create(subscription=sub, changed_at=clock.now(), licenses_before=before,
                                 licenses_after=sub.licenses)
    event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_LICENSES_CHANGED, obj=sub,
                 data={"from": before, "to": sub.licenses, "by": holder})
    return sub


def _licenses_now(sub: Subscription, *, before: int, licenses: int, actor: str) -> None:
    """The count changes today, and the rest of the period is billed for it."""
    sub.licenses = licenses
    if sub.licenses_at_renewal is not None and sub.licenses_at_renewal >= licenses:
        sub.licenses_at_renewal = None  # removed now, down to (or below) what the renewal was to leave
    sub.save(update_fields=["licenses", "licenses_at_renewal"])
    LicenseChange.objects.create(subscription=sub, changed_at=clock.now(), licenses_before=before,
                                 licenses_after=licenses)
    event = event_record(tenant=sub.tenant, actor=actor, verb=SUBSCRIPTION_LICENSES_CHANGED, obj=sub,
                         data={"from": before, "to": licenses})
    _licenses_changed_bill(sub, before=before, key=f"subscription/{sub.pk}/licenses/{event.pk}", actor=actor)


@transaction.atomic
def subscription_licenses_keep(*, tenant, subscription_id, actor: str) -> Subscription:
    """Keep every license the subscription has: a removal scheduled for the renewal is dropped ("Keep all N
    licenses")."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    return subscription_licenses_set(tenant=tenant, subscription_id=sub.pk, licenses=sub.licenses, actor=actor)


@transaction.atomic
def subscription_licenses_change(*, tenant, subscription_id, add: int = 0, remove: int = 0,
                                 actor: str) -> Subscription:
    """Buy ``add`` or remove ``remove`` licenses, counted from the subscription's licenses under its
    lock (two admins buying 2 each get 4 more), by the rules of ``subscription_licenses_set``. With a
    removal already waiting for the renewal, another removal that must wait adds to it, and licenses
    bought now are kept at the renewal."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    scheduled = sub.licenses_at_renewal
    waits = bool(remove) and not licenses_remove_window(sub, today=clock.today(), count=remove)[0]
    if waits and scheduled is not None:
        wanted = scheduled - remove  # a second removal adds to the one already waiting for the renewal
    else:
        wanted = sub.licenses + add - remove
    sub = subscription_licenses_set(tenant=tenant, subscription_id=sub.pk, licenses=wanted, actor=actor)
    if not waits and sub.licenses_at_renewal is not None:
        # Bought or removed now, with a removal waiting: it still removes the same number at the renewal.
        at_renewal = sub.licenses_at_renewal + add - remove
        event_record(tenant=tenant, actor=actor, verb=SUBSCRIPTION_LICENSES_REMOVAL_SCHEDULED, obj=sub,
                     data={"from": sub.licenses, "to": at_renewal, "bought": add, "removed": remove})
        sub.licenses_at_renewal = at_renewal if 1 <= at_renewal < sub.licenses else None
        sub.save(update_fields=["licenses_at_renewal"])
    return sub


def _licenses_changed_bill(sub: Subscription, *, before: int, key: str, actor: str) -> None:
    """Licenses bought or removed mid-period change what the rest of it costs, as Microsoft's "Buy or
    remove licenses" says: the rest of the previous charge reversed, and the rest of the period charged
    for the new count (MOSA: an invoice today, paid by the card; MCA: the profile's next monthly
    invoice). Fewer licenses leave a credit (refunded to a card, else taken off the next invoice).
    Nothing for what isn't billed here (trials, product keys, resellers) or a period not yet billed."""
    today = clock.today()
    if sub.source != Subscription.Source.DIRECT or sub.billed_until is None or today >= sub.billed_until:
        return
    offer = offer_of(sub)
    if offer is None:
        return
    begin, end = billing_period(start=sub.start_date, billing_frequency=sub.billing_frequency, term=sub.term,
                                day=sub.billed_until - timedelta(days=1))
    rest, days = (end - max(today, begin)).days, (end - begin).days
    new = Side.of(sub, offer.price)
    old = dataclasses.replace(new, licenses=before)
    charged = old.period_charge if sub.billed_amount is None else min(old.period_charge, sub.billed_amount)
    start = max(today, begin)
    lines = [
        {**reversed_text(product=sub.product.name, licenses=before, start=start, end=end).stored(),
         "amount": -money(charged * rest / days), "start": start, "end": end, "subscription": sub,
         "idempotency_key": f"{key}/reversal"},
        {**period_text(product=sub.product.name, licenses=sub.licenses, start=start, end=end).stored(),
         "amount": money(new.period_charge * rest / days), "start": start, "end": end, "subscription": sub,
         "idempotency_key": f"{key}/charge"},
    ]
    fewer = sub.licenses < before
    sub.licenses_invoice = lines_bill(
        tenant=sub.tenant, billing_profile=sub.billing_profile, card=None if fewer else sub.paying_card,
        refund_card=sub.paying_card if fewer else None, effective=today, key=key,
        number=f"INV-{today:%Y%m%d}-L{sub.pk:05d}-{key.rsplit('/', 1)[1]}", lines=lines, actor=actor)
    # From now on the period costs the new count: that is what a later credit gives back.
    sub.billed_amount = money(new.period_charge)
    sub.save(update_fields=["billed_amount"])
