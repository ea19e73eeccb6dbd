"""Writes of billing. Every state change locks its rows and records an audit event."""

import dataclasses
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from billing.invoicing import invoice_post_lines, lines_bill  # noqa: F401 (billing's services post through these)
from billing.lifecycle import DISABLED_DAYS, period_bill, provisioning_time
from billing.models import (
    ADDON_CODE,
    AddOnProduct,
    CreditCheck,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Subscription,
    SubscriptionAddOn,
)
from billing.money import money
from billing.orders import first_period_key, order_check
from billing.periods import billing_period, current_term_start, period_end, renewal_date
from billing.proration import Side, credit_line
from billing.selectors import ADDON_REMOVED, addons_restorable, offer_of
from billing.texts import period_text, reversed_text
from portal import clock
from portal.errors import Conflict, DomainError, NotFound
from portal.happenings import Happening
from portal.inputs import is_plain_text, parse_id
from portal.models import Event
from portal.selectors import by_id
from portal.services import event_record

CREDIT_CHECK_BUSINESS_DAYS = 2


@transaction.atomic
def credit_checks_complete_due(*, day=None) -> list[Happening]:
    """Approve pending credit checks requested two business days before ``day`` or earlier.

    The article: "Kreditkontroller kan ta upp till två arbetsdagar." Support staff can
    decide earlier; this is what happens when nobody does. Only the due checks are read.
    """
    day = day or clock.today()
    cutoff = clock.latest_start_due(day, CREDIT_CHECK_BUSINESS_DAYS)
    due = (CreditCheck.objects.select_for_update(of=("self",)).select_related("tenant")
           .filter(status=CreditCheck.Status.PENDING, requested__lte=cutoff).order_by("requested", "pk"))
    happened = []
    for check in due:
        check.status = CreditCheck.Status.APPROVED
        check.decided_on = day
        check.save(update_fields=["status", "decided_on"])
        event_record(tenant=check.tenant, actor="system", verb="credit_check.approved", obj=check,
                     data={"requested": check.requested.isoformat(), "reason": "two business days passed"})
        happened.append(Happening(day, "credit_check", check.tenant_id, check.tenant.domain,
                                  _("Credit check of %(date)s") % {"date": check.requested.isoformat()},
                                  _("Approved: two business days passed."), f"credit_check/{check.pk}"))
    return happened


def credit_checks_next_due(after):
    """The first day after ``after`` on which a pending credit check is approved by itself."""
    first = (CreditCheck.objects.filter(status=CreditCheck.Status.PENDING).order_by("requested")
             .values_list("requested", flat=True).first())
    if first is None:
        return None
    return max(clock.add_business_days(first, CREDIT_CHECK_BUSINESS_DAYS), after + timedelta(days=1))


def subscriptions_lock(*, tenant, subscription_ids) -> dict[int, Subscription]:
    """The tenant's subscriptions with these ids, row-locked for the rest of the transaction.

    **The lock order, everywhere:** subscription rows first, in ascending id order (this
    function), then the plan change (planchange locks it after calling this), then invoices.
    Two transactions that follow it wait for each other instead of deadlocking. A missing or
    foreign id is the same 404, and ids are taken only as whole numbers within the database's
    range (never ``int('٤')``, never an overflow).
    """
    wanted = {parse_id(i) for i in subscription_ids}
    if None in wanted:
        raise NotFound(_("No such subscription."), code="subscription_not_found")
    subs = {
        s.pk: s for s in Subscription.objects.select_for_update(of=("self",)).select_related("product")
        .filter(tenant=tenant, pk__in=wanted).order_by("pk")
    }
    if set(subs) != wanted:
        raise NotFound(_("No such subscription."), code="subscription_not_found")
    return subs


def subscription_lock(*, tenant, subscription_id) -> Subscription:
    """The tenant's subscription, row-locked for the rest of the transaction (404 otherwise)."""
    (sub,) = subscriptions_lock(tenant=tenant, subscription_ids=[subscription_id]).values()
    return sub


def subscription_require_free(sub: Subscription, *, holder: str = "") -> None:
    """Refuse an edit of a subscription that a change holds read-only (409 ``change_in_progress``),
    unless the caller is that holder. Call with the row locked, in the transaction that writes."""
    if sub.held_by and sub.held_by != holder:
        raise Conflict(_("A plan change involving %(product)s is under way; the subscription can't be edited "
                         "until the change finishes.") % {"product": sub.product.name}, code="change_in_progress",
                       subscription=sub.pk)


@transaction.atomic
def subscription_hold(*, tenant, subscription_id, holder: str) -> Subscription:
    """Make the subscription read-only for everyone but ``holder`` (a plan change that is queued
    or running). Holding it again for the same holder is a no-op; another holder is a 409."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub, holder=holder)
    if sub.held_by != holder:
        sub.held_by = holder
        sub.save(update_fields=["held_by"])
    return sub


def subscriptions_release(*, holder: str) -> int:
    """Every subscription ``holder`` held is editable again (call inside the holder's transaction,
    with the rows locked)."""
    return Subscription.objects.filter(held_by=holder).update(held_by="")


def subscription_period_charged(*, subscription: Subscription, amount) -> None:
    """Record what the subscription's current period was charged (a plan change's bill step, for
    the subscription it made): a later credit never exceeds it. Call with the row locked."""
    Subscription.objects.filter(pk=subscription.pk).update(billed_amount=amount)
    subscription.billed_amount = amount


def subscription_usage_add(*, subscription: Subscription, delta: int) -> None:
    """Count licenses assigned (``delta`` > 0) or removed (< 0). Licensing calls this in the
    transaction that assigns or removes them, with the subscription locked."""
    if delta:
        Subscription.objects.filter(pk=subscription.pk).update(assigned_licenses=F("assigned_licenses") + delta)
        subscription.assigned_licenses += delta


@transaction.atomic
def subscription_provision(*, tenant, product, licenses: int, term: str, billing_frequency: str, start_date,
                           payment: str, payment_method, billing_profile, holder: str, actor: str) -> Subscription:
    """A subscription made by a plan change: created held by ``holder`` so nobody else edits it
    before the change is done."""
    sub = Subscription.objects.create(
        tenant=tenant, product=product, licenses=licenses, term=term, billing_frequency=billing_frequency,
        start_date=start_date, payment=payment, payment_method=payment_method, billing_profile=billing_profile,
        held_by=holder,
        billed_until=period_end(start=start_date, billing_frequency=billing_frequency, term=term, begin=start_date),
    )
    event_record(tenant=tenant, actor=actor, verb="subscription.provisioned", obj=sub,
                 data={"sku": product.sku, "licenses": licenses, "by": holder})
    return sub


@transaction.atomic
def subscription_end_replaced(*, tenant, subscription_id, holder: str, on, reason: str, actor: str) -> Subscription:
    """Cancel a subscription a change has replaced (its users already moved). Only the holder may;
    a subscription that still has licenses assigned is never cancelled."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    if sub.held_by != holder:
        raise Conflict(_("The subscription isn't held by this change."), code="not_held")
    if sub.status == Subscription.Status.CANCELLED:
        return sub
    if sub.assigned_licenses:
        raise Conflict(ngettext("%(count)d user still has a license of %(product)s.",
                                "%(count)d users still have licenses of %(product)s.", sub.assigned_licenses)
                       % {"count": sub.assigned_licenses, "product": sub.product.name}, code="licenses_assigned")
    sub.status = Subscription.Status.CANCELLED
    sub.cancelled_on = on
    sub.recurring_billing = False
    sub.billed_until = None
    sub.status_until = None
    sub.save(update_fields=["status", "cancelled_on", "recurring_billing", "billed_until", "status_until"])
    event_record(tenant=tenant, actor=actor, verb="subscription.cancelled", obj=sub, data={"reason": reason})
    return sub


def _addon_code_plain(code) -> bool:
    """A code the catalog could have: the services hold this bound whatever door called them."""
    return isinstance(code, str) and re.fullmatch(ADDON_CODE, code) is not None


@transaction.atomic
def subscription_addon_remove(*, tenant, subscription_id, code: str, actor: str) -> None:
    """Remove an add-on ("you can add it back later if you still need it")."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    deleted = 0
    if _addon_code_plain(code):
        deleted, _detail = SubscriptionAddOn.objects.filter(subscription=sub, addon__code=code).delete()
    if not deleted:
        raise NotFound(_("The subscription has no add-on %(code)s.") % {"code": code}, code="addon_not_found")
    event_record(tenant=tenant, actor=actor, verb=ADDON_REMOVED, obj=sub, data={"addon": code})


@transaction.atomic
def subscription_addon_add(*, tenant, subscription_id, code: str, actor: str, predecessor_ids=()) -> Subscription:
    """Add an add-on back ("you can add it back later if you still need it"): only an active
    subscription, only an add-on it doesn't have, and only one it had before (removed from it, or
    from the subscriptions a plan change replaced with it: ``predecessor_ids``; see
    ``billing.selectors.addons_restorable``). An add-on that blocks a plan change blocks it again."""
    sub = subscription_lock(tenant=tenant, subscription_id=subscription_id)
    subscription_require_free(sub)
    if sub.status != Subscription.Status.ACTIVE:
        raise Conflict(_("Add-ons can be added back only to an active subscription."), code="subscription_not_active")
    addon = AddOnProduct.objects.filter(code=code).first() if _addon_code_plain(code) else None
    if addon is None:
        raise NotFound(_("There is no add-on %(code)s.") % {"code": str(code)[:64]}, code="addon_not_found")
    if SubscriptionAddOn.objects.filter(subscription=sub, addon=addon).exists():
        raise Conflict(_("%(product)s already has %(addon)s.") % {"product": sub.product.name, "addon": addon.name},
                       code="addon_present_already")
    restorable = addons_restorable(tenant=tenant, subscription=sub, predecessor_ids=predecessor_ids)
    if addon not in restorable:
        raise Conflict(_("%(addon)s can't be added back to %(product)s: only an add-on removed from this "
                         "subscription, or from the one a plan change replaced with it, can be added back.")
                       % {"addon": addon.name, "product": sub.product.name}, code="addon_not_restorable",
                       can_add_back=[a.code for a in restorable])
    try:
        with transaction.atomic():
            SubscriptionAddOn.objects.create(subscription=sub, addon=addon, added_on=clock.today())
    except IntegrityError as exc:  # the row lock makes this a backstop: the database keeps one per subscription
        raise Conflict(_("%(product)s already has %(addon)s.") % {"product": sub.product.name, "addon": addon.name},
                       code="addon_present_already") from exc
    event_record(tenant=tenant, actor=actor, verb="subscription.addon_added", obj=sub,
                 data={"addon": code, "blocks_plan_change": addon.blocks_plan_change})
    return sub


CANCEL_ONLINE_MAX_LICENSES = 25  # "Cancel your subscription": more than that, reduce first (or call support)
MCA_CANCEL_WINDOW_DAYS = 7  # MCA: a credit only within 7 days of the start or a renewal


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
    event_record(tenant=tenant, actor=actor, verb="subscription.cancelled", obj=sub,
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
def invoice_pay(*, tenant, invoice_id, actor: str) -> Invoice:
    """Pay an invoice's whole balance (Pay now / Settle balance)."""
    try:
        invoice = Invoice.objects.select_for_update().get(tenant=tenant, pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such invoice."), code="invoice_not_found") from exc
    if invoice.date > clock.today():  # an MCA profile's monthly invoice still collects the month's lines
        raise Conflict(_("Invoice %(number)s is issued on %(date)s; it can be paid from then.")
                       % {"number": invoice.number, "date": invoice.date.isoformat()}, code="invoice_not_issued")
    if invoice.balance <= 0:
        raise Conflict(_("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number},
                       code="nothing_to_pay")
    amount = invoice.balance
    invoice.paid = invoice.total
    invoice.save(update_fields=["paid"])
    event_record(tenant=tenant, actor=actor, verb="invoice.paid", obj=invoice,
                 data={"number": invoice.number, "amount": str(amount)})
    return invoice


SOURCE_LICENSES_REFUSED = {
    Subscription.Source.TRIAL:
        gettext_lazy("It's a trial: buy the subscription to choose how many licenses it has."),
    Subscription.Source.PRODUCT_KEY:
        gettext_lazy("It's prepaid with a product key: redeem a key for a different number of licenses."),
    Subscription.Source.RESELLER:
        gettext_lazy("It was bought through a reseller: ask your partner to change its licenses."),
}


def licenses_editable(sub: Subscription, *, credit_check=None) -> str:
    """Why the subscription's licenses can't be bought or removed now ("" when they can): not active,
    not bought here (a trial, a product key, a reseller), or a credit check pending (``credit_check``:
    the tenant's pending one, if the caller has it)."""
    if sub.status != Subscription.Status.ACTIVE:
        return str(_("Only an active subscription's licenses can change."))
    if sub.source in SOURCE_LICENSES_REFUSED:
        return str(SOURCE_LICENSES_REFUSED[sub.source])
    if credit_check is not None:
        return _("A credit check requested on %(date)s is pending: licenses can't change until it's decided "
                 "(within two business days).") % {"date": credit_check.requested.isoformat()}
    return ""


def licenses_bought_recently(sub: Subscription, *, now) -> int:
    """Licenses bought in the last 7 days (net of those removed since): MCA removes those at once."""
    changes = Event.objects.filter(verb="subscription.licenses_changed", object_type=sub._meta.label_lower,
                                   object_id=str(sub.pk), occurred_at__gte=now - timedelta(days=MCA_CANCEL_WINDOW_DAYS))
    return max(sum(e.data["to"] - e.data["from"] for e in changes if "at_renewal" not in e.data), 0)


def licenses_remove_window(sub: Subscription, *, today, count: int = 0) -> tuple[bool, object]:
    """Whether ``count`` licenses can be removed now, and the renewal date a later removal waits for.
    MOSA: any time. MCA: within 7 days of the purchase or the last renewal, or licenses bought in the
    last 7 days (at most as many as were bought); otherwise at the renewal."""
    renewal = renewal_date(start=sub.start_date, term=sub.term, today=today)
    if sub.billing_profile_id is None:
        return True, renewal
    term_start = current_term_start(start=sub.start_date, term=sub.term, today=today)
    if (today - term_start).days <= MCA_CANCEL_WINDOW_DAYS:
        return True, renewal
    return 0 < count <= licenses_bought_recently(sub, now=clock.now()), renewal


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
    today = clock.today()
    before = sub.licenses
    sub.licenses_effective = "now"
    if licenses == before:
        if sub.licenses_at_renewal is not None:
            event_record(tenant=tenant, actor=actor, verb="subscription.licenses_removal_cancelled", obj=sub,
                         data={"licenses": before, "was": sub.licenses_at_renewal})
            sub.licenses_at_renewal = None
            sub.save(update_fields=["licenses_at_renewal"])
        return sub
    if licenses < before:
        now, renewal = licenses_remove_window(sub, today=today, count=before - licenses)
        if not now:
            sub.licenses_at_renewal = licenses
            sub.save(update_fields=["licenses_at_renewal"])
            event_record(tenant=tenant, actor=actor, verb="subscription.licenses_removal_scheduled", obj=sub,
                         data={"from": before, "to": licenses, "on": renewal.isoformat()})
            sub.licenses_effective = renewal
            return sub
    sub.licenses = licenses
    if sub.licenses_at_renewal is not None and sub.licenses_at_renewal >= licenses:
        sub.licenses_at_renewal = None  # removed now, down to (or below) what the renewal was to leave
    sub.save(update_fields=["licenses", "licenses_at_renewal"])
    event = event_record(tenant=tenant, actor=actor, verb="subscription.licenses_changed", obj=sub,
                         data={"from": before, "to": licenses})
    _licenses_changed_bill(sub, before=before, key=f"subscription/{sub.pk}/licenses/{event.pk}", actor=actor)
    return sub


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
        event_record(tenant=tenant, actor=actor, verb="subscription.licenses_removal_scheduled", obj=sub,
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
    if sub.recurring_billing != enabled:
        sub.recurring_billing = enabled
        sub.save(update_fields=["recurring_billing"])
        event_record(tenant=tenant, actor=actor, verb="subscription.recurring_billing_changed", obj=sub,
                     data={"recurring_billing": enabled})
    return sub


def subscription_reactivate(sub: Subscription, *, actor: str) -> Subscription:
    """An Expired or Disabled subscription back to Active (call with it locked): recurring billing
    on, a new term from today, the first period charged now (a card the day after)."""
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
    event_record(tenant=sub.tenant, actor=actor, verb="subscription.reactivated", obj=sub, data=data)
    return sub


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@transaction.atomic
def payment_method_add_card(*, tenant, number: str, expiry: str, holder_name: str, actor: str):
    """Add a card. Only its last four digits are kept; the number itself is never stored."""
    errors = {}
    # ASCII digits only: isdigit() also takes '²' (int() refuses it) and '٤' (int() takes it).
    digits = "".join(ch for ch in number if not ch.isspace() and ch != "-")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        errors["number"] = _("Enter a card number of 12 to 19 digits.")
    elif not _luhn_ok(digits):
        errors["number"] = _("This card number isn't valid. Check it and try again.")
    month = year = None
    parts = expiry.replace(" ", "").split("/")
    if (len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts) and len(parts[0]) <= 2
            and 1 <= int(parts[0]) <= 12 and len(parts[1]) in (2, 4)):
        month, year = int(parts[0]), int(parts[1]) + (2000 if len(parts[1]) == 2 else 0)
        today = clock.today()
        if (year, month) < (today.year, today.month):
            errors["expiry"] = _("This card has expired.")
    else:
        errors["expiry"] = _("Enter the expiry date as MM/YY.")
    if not holder_name.strip():
        errors["holder_name"] = _("Enter the name on the card.")
    elif len(holder_name.strip()) > 200:
        errors["holder_name"] = _("Enter at most 200 characters.")
    elif not is_plain_text(holder_name):
        errors["holder_name"] = _("The name can't contain control characters or text-direction overrides.")
    if errors:
        raise DomainError(_("Check the card details."), code="invalid_card", errors=errors)
    method = PaymentMethod.objects.create(
        tenant=tenant, kind="card", last4=digits[-4:], holder_name=holder_name.strip()[:200],
        expiry_month=month, expiry_year=year,
        is_default=not PaymentMethod.objects.filter(tenant=tenant, is_default=True).exists(),
    )
    event_record(tenant=tenant, actor=actor, verb="payment_method.added", obj=method, data={"last4": method.last4})
    return method


@transaction.atomic
def credit_check_decide(*, check_id, approve: bool, actor: str, reason: str = "") -> CreditCheck:
    """Support staff decide a pending credit check before the two business days are up (why: kept
    on the audit event)."""
    check = by_id(CreditCheck.objects.select_for_update(), check_id)
    if check is None:
        raise NotFound(_("No such credit check."), code="credit_check_not_found")
    if check.status != CreditCheck.Status.PENDING:
        raise Conflict(_("The credit check was already decided."), code="credit_check_decided")
    check.status = CreditCheck.Status.APPROVED if approve else CreditCheck.Status.REJECTED
    check.decided_on = clock.today()
    check.save(update_fields=["status", "decided_on"])
    event_record(tenant=check.tenant, actor=actor, verb=f"credit_check.{check.status}", obj=check,
                 data={"reason": reason} if reason else None)
    return check


@transaction.atomic
def subscription_buy(*, tenant, sku: str, licenses: int, term: str, billing_frequency: str, actor: str,
                     payment_method=None, order_token=None) -> Subscription:
    """Buy a subscription: active from today, its first billing period charged at once (MOSA:
    an invoice today; MCA: the billing profile's next monthly invoice). ``order_token``: the one-time
    token of the form that ordered it, unique per tenant (a second subscription with it is refused by
    the database)."""
    today = clock.today()
    order = order_check(sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency, day=today)
    product, term, billing_frequency = order.product, order.term, order.billing_frequency
    profile = tenant.billing_profiles.order_by("pk").first() if tenant.has_billing_profile else None
    method = None
    if profile is None:
        methods = PaymentMethod.objects.filter(tenant=tenant)
        method = (methods.filter(is_default=True).first() if payment_method in (None, "")
                  else by_id(methods, payment_method))
        if method is None:
            raise DomainError(_("Choose one of your organization's payment methods."),
                              code="unknown_payment_method", field="payment_method")
    sub = Subscription.objects.create(
        tenant=tenant, product=product, licenses=licenses, term=term, billing_frequency=billing_frequency,
        start_date=today, payment=profile.payment if profile else method.kind, payment_method=method,
        billing_profile=profile, provisioning=Subscription.Provisioning.PROVISIONING,
        provisioning_until=clock.now() + provisioning_time(), order_token=order_token,
    )
    line = order.first_period
    keyed = [line.as_invoice_line(subscription=sub, idempotency_key=first_period_key(sub.pk))]
    lines_bill(tenant=tenant, billing_profile=profile, card=method, effective=today, key=f"subscription/{sub.pk}",
               number=f"INV-{today:%Y%m%d}-S{sub.pk:05d}", lines=keyed, actor=actor)
    sub.billed_until = period_end(start=today, billing_frequency=billing_frequency, term=term, begin=today)
    sub.billed_amount = line.amount
    sub.save(update_fields=["billed_until", "billed_amount"])
    event_record(tenant=tenant, actor=actor, verb="subscription.bought", obj=sub,
                 data={"sku": sku, "licenses": licenses, "term": term, "billing_frequency": billing_frequency})
    return sub


def subscription_purchase(*, tenant, sku: str, licenses: int, term: str, billing_frequency: str, order_token,
                          payment_choice: str, card: dict, actor: str) -> Subscription:
    """Purchase services' Buy, for the tenant's own organization: pay with one of its payment methods
    (``payment_choice``: an id) or a new card (``"new"``, with ``card``'s number, expiry and
    holder_name); an MCA tenant pays through its billing profile. One transaction: a refused order
    keeps no new card.

    The form's one-time ``order_token`` makes the order happen once: the same form sent again (a
    double click, a reload, the back button) answers the subscription it bought, with
    ``already_bought`` set, and writes nothing; two sends at the same moment are decided by the
    database (the token is unique per tenant): the second one's transaction, new card included, is
    rolled back whole and it answers the first one's subscription."""
    try:
        return _purchase(tenant=tenant, sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency,
                         order_token=order_token, payment_choice=payment_choice, card=card, actor=actor)
    except IntegrityError:
        bought = _bought_with(tenant=tenant, order_token=order_token)
        if bought is None:
            raise
        return bought


def _bought_with(*, tenant, order_token) -> Subscription | None:
    bought = Subscription.objects.select_related("product").filter(tenant=tenant, order_token=order_token).first()
    if bought is not None:
        bought.already_bought = True
    return bought


@transaction.atomic
def _purchase(*, tenant, sku, licenses, term, billing_frequency, order_token, payment_choice, card, actor):
    if order_token is None:
        raise DomainError(_("This order form has expired. Check the order and choose Buy again."),
                          code="invalid_order_token", field="form")
    bought = _bought_with(tenant=tenant, order_token=order_token)
    if bought is not None:
        return bought
    payment_method = None
    if not tenant.has_billing_profile:
        if payment_choice == "new":
            payment_method = payment_method_add_card(tenant=tenant, actor=actor, **card).pk
        elif payment_choice:
            payment_method = payment_choice
        else:
            raise DomainError(_("Choose or add a payment method."), code="unknown_payment_method",
                              field="payment_method")
    sub = subscription_buy(tenant=tenant, sku=sku, licenses=licenses, term=term, billing_frequency=billing_frequency,
                           payment_method=payment_method, order_token=order_token, actor=actor)
    sub.already_bought = False
    return sub
