"""Invoices get paid (issue 20, item 4): each billing profile and each MOSA invoice payer pays by its
habit as support moves the clock — on the due date, N days late, or never — each invoice one payment,
audited as the tenant's; the clock's preview lists the payments and the real move makes exactly them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, InvoicePayer
from portal import clock
from tests.factories import (
    BillingProfileFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    SubscriptionFactory,
    TenantFactory,
)
from tests.helpers import move

pytestmark = pytest.mark.django_db



def paid_by_habit(moved: dict) -> list[tuple]:
    return [(e["date"], e["tenant_domain"], e["subject"], e["detail"]) for e in moved["events"]
            if e["kind"] == "invoice_payment"]


def mca(domain: str, name: str, **habit):
    tenant = TenantFactory(agreement="MCA", domain=domain)
    profile = BillingProfileFactory(tenant=tenant, name=name, payment="invoice", **habit)
    # Business Standard, 12 licenses billed monthly: 12 × 13.13 = 157.56 on the profile's invoice of each 1st.
    SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice",
                        start_date=date(2025, 10, 1))
    return tenant, profile


def mosa_invoice_payer(domain: str, **habit):
    tenant = TenantFactory(domain=domain, name=domain.split(".")[0].title())
    if habit:
        InvoicePayer.objects.create(tenant=tenant, **habit)
    # 5 licenses billed monthly by invoice, no card: 5 × 13.13 = 65.65 on an invoice of each 1st, net 30.
    sub = SubscriptionFactory(tenant=tenant, licenses=5, payment="invoice", payment_method=None)
    return tenant, sub


def test_each_habit_pays_its_invoices_on_its_days_and_the_preview_lists_exactly_those_payments(at_date):
    at_date("2026-06-15")
    on_time, on_time_profile = mca("ontime.example", "On time billing")
    late, late_profile = mca("late.example", "Late billing", payment_habit="late", payment_delay_days=10)
    never, never_profile = mca("never.example", "Never billing", payment_habit="never")
    mosa, mosa_sub = mosa_invoice_payer("mosa.example")  # no habit set: on time
    slow, slow_sub = mosa_invoice_payer("slow.example", payment_habit="late", payment_delay_days=3)

    dry = move("2026-10-15", dry_run=True)
    assert Invoice.objects.filter(paid__gt=0).count() == 0 and clock.today() == date(2026, 6, 15)
    real = move("2026-10-15")
    assert real["events"] == dry["events"]

    def bp(profile, month):
        return f"BP{profile.pk}-2026{month}"

    def inv(sub, month):
        return f"INV-2026{month}01-P{sub.pk:05d}"

    on_due = "USD {} paid by {} on its due date."
    days_late = "USD {} paid by {} {} days after its due date {}."
    assert paid_by_habit(real) == [
        ("2026-07-31", "mosa.example", inv(mosa_sub, "07"), on_due.format("65.65", "Mosa")),
        ("2026-08-03", "slow.example", inv(slow_sub, "07"), days_late.format("65.65", "Slow", 3, "2026-07-31")),
        ("2026-08-31", "ontime.example", bp(on_time_profile, "08"), on_due.format("157.56", "On time billing")),
        ("2026-08-31", "mosa.example", inv(mosa_sub, "08"), on_due.format("65.65", "Mosa")),
        ("2026-09-03", "slow.example", inv(slow_sub, "08"), days_late.format("65.65", "Slow", 3, "2026-08-31")),
        ("2026-09-10", "late.example", bp(late_profile, "08"),
         days_late.format("157.56", "Late billing", 10, "2026-08-31")),
        ("2026-10-01", "ontime.example", bp(on_time_profile, "09"), on_due.format("157.56", "On time billing")),
        ("2026-10-01", "mosa.example", inv(mosa_sub, "09"), on_due.format("65.65", "Mosa")),
        ("2026-10-04", "slow.example", inv(slow_sub, "09"), days_late.format("65.65", "Slow", 3, "2026-10-01")),
        ("2026-10-11", "late.example", bp(late_profile, "09"),
         days_late.format("157.56", "Late billing", 10, "2026-10-01")),
    ]

    def state(tenant):
        today = clock.today()
        return [(i.number, i.due_date.isoformat(), str(i.total), str(i.paid), i.status_on(today))
                for i in Invoice.objects.filter(tenant=tenant).order_by("date", "pk")]

    assert state(never) == [
        (bp(never_profile, "08"), "2026-08-31", "157.56", "0.00", "overdue"),
        (bp(never_profile, "09"), "2026-10-01", "157.56", "0.00", "overdue"),
        (bp(never_profile, "10"), "2026-10-31", "157.56", "0.00", "unpaid"),
        (bp(never_profile, "11"), "2026-12-01", "157.56", "0.00", "upcoming"),  # October's line, so far
    ]
    assert state(late) == [
        (bp(late_profile, "08"), "2026-08-31", "157.56", "157.56", "paid"),
        (bp(late_profile, "09"), "2026-10-01", "157.56", "157.56", "paid"),
        (bp(late_profile, "10"), "2026-10-31", "157.56", "0.00", "unpaid"),
        (bp(late_profile, "11"), "2026-12-01", "157.56", "0.00", "upcoming"),
    ]
    # A late payer's invoice falls past due the day after its due date, then is paid.
    assert [(e.data["number"], e.occurred_at.date()) for e in late.events.filter(verb="invoice.overdue")
            .order_by("pk")] == [(bp(late_profile, "08"), date(2026, 9, 1)), (bp(late_profile, "09"), date(2026, 10, 2))]
    assert not on_time.events.filter(verb="invoice.overdue").exists()
    # Each invoice one payment, audited as the tenant's, on the day it paid.
    assert [(e.actor, e.data["number"], e.data["amount"], e.data["days_late"], e.occurred_at.date())
            for e in slow.events.filter(verb="invoice.paid").order_by("pk")] == [
        ("tenant", inv(slow_sub, "07"), "65.65", 3, date(2026, 8, 3)),
        ("tenant", inv(slow_sub, "08"), "65.65", 3, date(2026, 9, 3)),
        ("tenant", inv(slow_sub, "09"), "65.65", 3, date(2026, 10, 4)),
    ]
    assert not never.events.filter(verb="invoice.paid").exists()


def test_a_pay_day_already_passed_is_missed_and_left_to_the_admin(at_date):
    """An invoice a scenario states as past due, or one whose payer's habit changed after its day, isn't
    paid by the clock: the tenant missed it (Pay now / Settle balance pays it)."""
    at_date("2026-06-15")
    tenant = TenantFactory(domain="missed.example", name="Missed")
    old = InvoiceFactory(tenant=tenant, number="MIS-1", date=date(2026, 5, 1), due_date=date(2026, 5, 31),
                         total=Decimal("65.65"))
    InvoiceLineFactory(invoice=old, amount=Decimal("65.65"), description="Charges")
    partly = InvoiceFactory(tenant=tenant, number="MIS-2", date=date(2026, 6, 1), due_date=date(2026, 6, 20),
                            total=Decimal("100.00"), paid=Decimal("40.00"))
    InvoiceLineFactory(invoice=partly, amount=Decimal("100.00"), description="Charges")
    moved = move("2026-07-15")
    assert paid_by_habit(moved) == [
        ("2026-06-20", "missed.example", "MIS-2", "USD 60.00 paid by Missed on its due date.")]
    old.refresh_from_db()
    partly.refresh_from_db()
    assert (old.paid, old.status_on(clock.today()), partly.paid) == (Decimal("0.00"), "overdue", Decimal("100.00"))


def test_paying_by_habit_costs_the_same_queries_for_2_payers_as_for_20(at_date):
    at_date("2026-06-15")
    move("2026-06-16")  # the day loop's watermark

    def payers(count: int, day: date) -> None:
        """Half pay on time on ``day``, half (through a second billing profile) 5 days late on ``day``."""
        for n in range(count):
            tenant = TenantFactory(domain=f"payer{day.day}-{n}.example")
            if n % 2:
                BillingProfileFactory(tenant=tenant)
                profile = BillingProfileFactory(tenant=tenant, payment_habit="late", payment_delay_days=5)
                due = day - timedelta(days=5)
                InvoiceFactory(tenant=tenant, billing_profile=profile, date=due, due_date=due, total=Decimal("10.00"))
            else:
                InvoiceFactory(tenant=tenant, date=day, due_date=day, total=Decimal("10.00"))

    payers(2, date(2026, 6, 22))
    with CaptureQueriesContext(connection) as few:
        moved = move("2026-06-23")
    assert [e["date"] for e in moved["events"] if e["kind"] == "invoice_payment"] == ["2026-06-22"] * 2
    payers(20, date(2026, 6, 29))
    with CaptureQueriesContext(connection) as many:
        moved = move("2026-06-30")
    assert [e["date"] for e in moved["events"] if e["kind"] == "invoice_payment"] == ["2026-06-29"] * 20
    assert len(many.captured_queries) == len(few.captured_queries)
