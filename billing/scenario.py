"""Billing's rows as a scenario file states them, including states its services would refuse
(an overdue invoice, an expired subscription): the simulation's loader validates the file and calls
this (DESIGN.md: owners write their own tables)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from billing.lifecycle import DISABLED_DAYS, EXPIRED_DAYS, period_charge, provisioning_time
from billing.models import (
    AddOnProduct,
    BillingFrequency,
    BillingProfile,
    CreditCheck,
    Invoice,
    InvoiceLine,
    InvoicePayer,
    PaymentHabit,
    PaymentKind,
    PaymentMethod,
    Product,
    Subscription,
    SubscriptionAddOn,
    Term,
)
from billing.periods import billing_period, period_end
from billing.selectors import CREDIT_CHECK_BUSINESS_DAYS
from billing.texts import CHARGES
from billing.trials import trial_end_for
from portal import clock
from portal.models import Tenant
from portal.texts import Text


@dataclass
class LoadedBilling:
    subscriptions: dict[str, Subscription] = field(default_factory=dict)  # by the file's keys


def billing_load(tenant: Tenant, t: dict, *, today: date) -> LoadedBilling:
    """Billing profiles, payment methods, subscriptions with add-ons, invoices and credit checks
    of one tenant of the file, with the contract's defaults."""
    profiles = {bp["key"]: BillingProfile.objects.create(tenant=tenant, name=bp["name"],
                                                         payment=bp.get("payment", PaymentKind.INVOICE), **_habit(bp))
                for bp in t.get("billing_profiles", [])}
    if "payment_habit" in t:  # the tenant's, for its invoices without a billing profile
        InvoicePayer.objects.create(tenant=tenant, **_habit(t))
    methods = {pm["key"]: PaymentMethod.objects.create(
        tenant=tenant, kind=pm["kind"], last4=pm.get("last4", ""), holder_name=pm.get("holder_name", ""),
        is_default=pm.get("default", False)) for pm in t.get("payment_methods", [])}
    only_profile = next(iter(profiles.values())) if len(profiles) == 1 else None
    loaded = LoadedBilling()
    catalog = {p.sku: p for p in Product.objects.all()}, {a.code: a for a in AddOnProduct.objects.all()}
    for s in t.get("subscriptions", []):
        profile = profiles[s["billing_profile"]] if "billing_profile" in s else only_profile
        loaded.subscriptions[s["key"]] = _subscription_load(
            tenant, s, profile=profile, method=methods.get(s["payment_method"]) if "payment_method" in s else None,
            methods=methods, catalog=catalog, today=today)
    _invoices_load(tenant, t.get("invoices", []), profiles=profiles, only_profile=only_profile, today=today)
    _credit_checks_load(tenant, t.get("credit_checks", []), today=today)
    return loaded


def _habit(payer: dict) -> dict:
    return {"payment_habit": payer.get("payment_habit", PaymentHabit.ON_TIME),
            "payment_delay_days": payer.get("payment_delay_days", 0)}


def _default_card(methods: dict) -> PaymentMethod | None:
    cards = [m for m in methods.values() if m.kind == PaymentKind.CARD]
    return next((m for m in cards if m.is_default), cards[0] if cards else None)


def _subscription_load(tenant, s: dict, *, profile, method, methods, catalog, today) -> Subscription:
    """One subscription of the file as it stands, its current period taken as billed (its own invoices say
    what was paid; the next one is charged when the clock reaches it)."""
    products, addons = catalog
    payment = s.get("payment") or (profile.payment if profile else (method.kind if method else PaymentKind.CARD))
    if payment == PaymentKind.CARD and method is None:
        method = _default_card(methods)
    status = s.get("status", Subscription.Status.ACTIVE)
    start = date.fromisoformat(s["start_date"]) if "start_date" in s else today
    term, frequency = s.get("term", Term.P1Y), s.get("billing_frequency", BillingFrequency.MONTHLY)
    provisioning = s.get("provisioning", Subscription.Provisioning.PROVISIONED)
    stage_days = {Subscription.Status.EXPIRED: EXPIRED_DAYS, Subscription.Status.DISABLED: DISABLED_DAYS}
    source = s.get("source", Subscription.Source.DIRECT)
    trial = source == Subscription.Source.TRIAL  # not billed: it ends on its date (billing.trials)
    sub = Subscription.objects.create(
        tenant=tenant, product=products[s["sku"]], licenses=s["licenses"],
        term=term, billing_frequency=frequency, start_date=start,
        status=status, provisioning=provisioning,
        # Set up within the configured time from now; support can finish it sooner.
        provisioning_until=(clock.now() + provisioning_time()
                            if provisioning == Subscription.Provisioning.PROVISIONING else None),
        # Expired and Disabled start their stage today.
        billed_until=period_end(start=start, billing_frequency=frequency, term=term, begin=max(today, start))
        if status == Subscription.Status.ACTIVE and not trial else None,
        status_until=today + timedelta(days=stage_days[status]) if status in stage_days else None,
        source=source, payment=payment, payment_method=method,
        trial_ends_on=date.fromisoformat(s["trial_ends_on"]) if "trial_ends_on" in s else
        trial_end_for(start) if trial else None, trial_extended=s.get("trial_extended", False),
        billing_profile=profile, recurring_billing=s.get("recurring_billing", True),
        cancelled_on=today if status == Subscription.Status.CANCELLED else None,
    )
    if sub.billed_until is not None:  # what the file's current period was charged, for credits
        begin = billing_period(start=start, billing_frequency=frequency, term=term,
                               day=sub.billed_until - timedelta(days=1))[0]
        line, _end = period_charge(sub, begin=begin)
        if line is not None:
            sub.billed_amount = line["amount"]
            sub.save(update_fields=["billed_amount"])
    SubscriptionAddOn.objects.bulk_create(
        SubscriptionAddOn(subscription=sub, addon=addons[code], added_on=sub.start_date)
        for code in s.get("addons", []))
    return sub


def _invoices_load(tenant, invoices: list[dict], *, profiles, only_profile, today: date) -> None:
    """One line of ``amount``, of which ``paid`` is paid. An invoice the file states as past due fell past due
    before the file's world begins: it is loaded as told (``past_due_noted``), not told on the next day applied."""
    for inv in invoices:
        amount, paid = Decimal(inv["amount"]), Decimal(inv.get("paid", "0.00"))
        due = date.fromisoformat(inv["due_date"])
        invoice = Invoice.objects.create(
            tenant=tenant, billing_profile=profiles[inv["billing_profile"]] if "billing_profile" in inv
            else only_profile, number=inv["number"], date=date.fromisoformat(inv["date"]),
            due_date=due, total=amount, paid=paid, past_due_noted=paid < amount and due < today)
        # A description the scenario gives is its own data, kept as typed; without one the line is the
        # portal's own text, shown in the reader's language.
        text = {"description": inv["description"]} if "description" in inv else Text(CHARGES).stored()
        InvoiceLine.objects.create(invoice=invoice, amount=amount, **text)


def _credit_checks_load(tenant, checks: list[dict], *, today) -> None:
    for cc in checks:
        status = cc.get("status", CreditCheck.Status.PENDING)
        requested = date.fromisoformat(cc["requested"])
        CreditCheck.objects.create(
            tenant=tenant, status=status, requested=requested,
            decided_on=None if status == CreditCheck.Status.PENDING else min(
                clock.add_business_days(requested, CREDIT_CHECK_BUSINESS_DAYS), max(today, requested)))


def billing_unload(tenant: Tenant) -> None:
    """Forget the tenant's invoices and subscriptions (an import's ``--replace``); its billing profiles,
    payment methods and credit checks go with the tenant."""
    Invoice.objects.filter(tenant=tenant).delete()
    subs = Subscription.objects.filter(tenant=tenant)
    subs.update(replaced_by=None)
    subs.delete()
