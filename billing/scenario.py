"""Billing's rows as a scenario file states them, including states its services would refuse
(an overdue invoice, an expired subscription): the simulation's loader validates the file and calls
this (DESIGN.md: owners write their own tables)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from billing.lifecycle import DISABLED_DAYS, EXPIRED_DAYS, period_charge, provisioning_time
from billing.models import (
    AddOnProduct,
    BillingProfile,
    CreditCheck,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Product,
    Subscription,
    SubscriptionAddOn,
)
from billing.periods import billing_period, period_end
from billing.selectors import CREDIT_CHECK_BUSINESS_DAYS
from billing.texts import CHARGES
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
                                                         payment=bp.get("payment", "invoice"))
                for bp in t.get("billing_profiles", [])}
    methods = {pm["key"]: PaymentMethod.objects.create(
        tenant=tenant, kind=pm["kind"], last4=pm.get("last4", ""), holder_name=pm.get("holder_name", ""),
        is_default=pm.get("default", False)) for pm in t.get("payment_methods", [])}
    cards = [m for m in methods.values() if m.kind == "card"]
    default_card = next((m for m in cards if m.is_default), cards[0] if cards else None)
    only_profile = next(iter(profiles.values())) if len(profiles) == 1 else None
    products = {p.sku: p for p in Product.objects.all()}
    addons = {a.code: a for a in AddOnProduct.objects.all()}

    loaded = LoadedBilling()
    for s in t.get("subscriptions", []):
        profile = profiles[s["billing_profile"]] if "billing_profile" in s else only_profile
        method = methods[s["payment_method"]] if "payment_method" in s else None
        payment = s.get("payment") or (profile.payment if profile else (method.kind if method else "card"))
        if payment == "card" and method is None:
            method = default_card
        status = s.get("status", "active")
        start = date.fromisoformat(s["start_date"]) if "start_date" in s else today
        term, frequency = s.get("term", "P1Y"), s.get("billing_frequency", "monthly")
        provisioning = s.get("provisioning", "provisioned")
        sub = Subscription.objects.create(
            tenant=tenant, product=products[s["sku"]], licenses=s["licenses"],
            term=term, billing_frequency=frequency, start_date=start,
            status=status, provisioning=provisioning,
            # Set up within the configured time from now; support can finish it sooner.
            provisioning_until=clock.now() + provisioning_time() if provisioning == "provisioning" else None,
            # The file's period is taken as billed (its own invoices say what was paid); the next one is
            # charged when the clock reaches it. Expired and Disabled start their stage today.
            billed_until=period_end(start=start, billing_frequency=frequency, term=term, begin=max(today, start))
            if status == "active" else None,
            status_until=today + timedelta(days={"expired": EXPIRED_DAYS, "disabled": DISABLED_DAYS}[status])
            if status in ("expired", "disabled") else None,
            source=s.get("source", "direct"), payment=payment, payment_method=method,
            billing_profile=profile, recurring_billing=s.get("recurring_billing", True),
            cancelled_on=today if status == "cancelled" else None,
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
        loaded.subscriptions[s["key"]] = sub

    for inv in t.get("invoices", []):  # one line of `amount`, of which `paid` is paid
        amount = Decimal(inv["amount"])
        invoice = Invoice.objects.create(
            tenant=tenant, billing_profile=profiles[inv["billing_profile"]] if "billing_profile" in inv
            else only_profile, number=inv["number"], date=date.fromisoformat(inv["date"]),
            due_date=date.fromisoformat(inv["due_date"]), total=amount, paid=Decimal(inv.get("paid", "0.00")))
        # A description the scenario gives is its own data, kept as typed; without one the line is the
        # portal's own text, shown in the reader's language.
        text = {"description": inv["description"]} if "description" in inv else Text(CHARGES).stored()
        InvoiceLine.objects.create(invoice=invoice, amount=amount, **text)
    for cc in t.get("credit_checks", []):
        status = cc.get("status", "pending")
        requested = date.fromisoformat(cc["requested"])
        CreditCheck.objects.create(
            tenant=tenant, status=status, requested=requested,
            decided_on=None if status == "pending" else min(
                clock.add_business_days(requested, CREDIT_CHECK_BUSINESS_DAYS), max(today, requested)))
    return loaded
