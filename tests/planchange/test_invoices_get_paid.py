"""Issue 20, item 4: invoices get paid. The admin's story, through the doors the admin and support use:
an MCA tenant pays its past-due invoice, schedules a change at renewal in the pane, and support moves
the clock a year. The tenant pays on time (the default habit), so nothing falls past due on the way and
the change completes on its date."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Invoice
from planchange.models import PlanChange
from portal import clock
from tests.factories import (
    BillingProfileFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    LicenseFactory,
    LoginFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
)
from tests.helpers import page_text
from tests.planchange.test_plan_change_api import client_for

pytestmark = pytest.mark.django_db


def test_an_mca_tenant_paying_on_time_keeps_its_change_at_renewal_through_a_year_and_it_completes_on_its_date(
        at_date, client):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="punctual.example")
    profile = BillingProfileFactory(tenant=tenant, name="Punctual billing", payment="invoice")
    # Business Standard P1Y billed monthly, renewed on 2026-06-01: the next renewal is 2027-06-01.
    sub = SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice",
                              start_date=date(2025, 6, 1))
    for _ in range(10):
        LicenseFactory(subscription=sub)
    may = InvoiceFactory(tenant=tenant, billing_profile=profile, number="PUN-2026-05", date=date(2026, 5, 1),
                         due_date=date(2026, 5, 31), total=Decimal("157.56"))
    InvoiceLineFactory(invoice=may, description="Charges", amount=Decimal("157.56"))
    admin = admin_of(tenant)
    api = client_for(admin)
    # Past due: the pane refuses a change until it is paid.
    refused = api.post("/api/v1/plan-changes/", {"subscription": sub.pk, "target_sku": "SPB", "schedule": "renewal"},
                       format="json", HTTP_IDEMPOTENCY_KEY="story-0")
    assert (refused.status_code, [b["code"] for b in refused.json()["blockers"]]) == (422, ["unpaid_balance"])
    client.force_login(admin)
    client.post(f"/billing/invoices/{may.pk}/pay/", {"next": "/billing/bills/"})
    may.refresh_from_db()
    assert may.balance == Decimal("0.00")
    pane = client.post(f"/billing/products/{sub.pk}/change/", {"target_sku": "SPB", "licenses": "12",
                                                               "schedule": "renewal"})
    assert pane.status_code == 302
    change = PlanChange.objects.get(subscription=sub)
    assert (change.status, change.scheduled_for) == ("scheduled", date(2027, 6, 1))

    staff = client_for(LoginFactory(is_staff=True, username="support@portal.local"))
    moved = staff.post("/api/v1/support/clock/", {"to": "2027-06-15"}, format="json").json()
    assert moved["today"] == "2027-06-15"

    change.refresh_from_db()
    assert (change.status, change.completed_at.date()) == ("completed", date(2027, 6, 1))
    assert [(e["date"], e["detail"]) for e in moved["events"] if e["kind"] == "plan_change"] == [
        ("2027-06-01", "The change scheduled for renewal completed: 12 licenses of Microsoft 365 Business Premium.")]
    # Every monthly invoice of the year was paid on its due date, each its own payment by the tenant.
    paid = [(e["date"], e["subject"]) for e in moved["events"] if e["kind"] == "invoice_payment"]
    issued = list(Invoice.objects.filter(tenant=tenant, date__gte=date(2026, 7, 1), date__lte=date(2027, 6, 15))
                  .order_by("date").values_list("due_date", "number"))
    assert paid == [(due.isoformat(), number) for due, number in issued if due <= date(2027, 6, 15)]
    assert len(paid) == 10  # the invoices of 2026-08-01 to 2027-05-01; June's is due 2027-07-01
    assert list(tenant.events.filter(verb="invoice.paid").order_by("pk").values_list("actor", flat=True)) == [
        admin.username] + ["tenant"] * 10
    assert not tenant.events.filter(verb="invoice.overdue").exists()
    assert [i.status_on(clock.today()) for i in Invoice.objects.filter(tenant=tenant, due_date__lt=clock.today())] \
        == ["paid"] * 11


def test_the_unpaid_balance_blocker_names_the_total_and_every_past_due_invoice(at_date, client):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="owing.example")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice", payment_habit="never")
    sub = SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice")
    for number, day, due, total, paid in (("OWE-03", 1, 31, "157.56", "0.00"), ("OWE-04", 1, 30, "157.56", "57.56"),
                                          ("OWE-06", 1, 30, "157.56", "0.00")):
        month = int(number[-2:])
        invoice = InvoiceFactory(tenant=tenant, billing_profile=profile, number=number, date=date(2026, month, day),
                                 due_date=date(2026, month, due), total=Decimal(total), paid=Decimal(paid))
        InvoiceLineFactory(invoice=invoice, description="Charges", amount=Decimal(total))
    api = client_for(admin_of(tenant))
    (blocker,) = api.get(f"/api/v1/subscriptions/{sub.pk}/upgrades/").json()["blockers"]
    # OWE-06 isn't due yet; the two past due, oldest first, and their total.
    assert (blocker["code"], blocker["detail"], blocker["action"]) == (
        "unpaid_balance", "USD 257.56 is unpaid on 2 past-due invoices: OWE-03 (USD 157.56, due 2026-03-31), "
                          "OWE-04 (USD 100.00, due 2026-04-30).",
        {"label": "Settle balance", "url": "/billing/bills/"})
    client.force_login(admin_of(tenant))
    page = page_text(client.get(f"/billing/products/{sub.pk}/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("257,56 US$ är obetalt på 2 förfallna fakturor: OWE-03 (157,56 US$, förfallodag 2026-03-31), "
            "OWE-04 (100,00 US$, förfallodag 2026-04-30).") in page
    # Settle balance pays both at once; nothing blocks any more.
    settled = api.post("/api/v1/invoices/settle/")
    assert (settled.status_code, settled.json()["amount"], [i["number"] for i in settled.json()["invoices"]]) == (
        200, "257.56", ["OWE-03", "OWE-04"])
    assert api.get(f"/api/v1/subscriptions/{sub.pk}/upgrades/").json()["blockers"] == []


def test_many_past_due_invoices_are_named_by_the_three_oldest_and_a_count(at_date, client):
    """Two years of a payer who never pays: the blocker reads as a sentence, not a wall of 23 invoices."""
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="owing.example")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice", payment_habit="never")
    sub = SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice")
    for month in range(1, 6):
        invoice = InvoiceFactory(tenant=tenant, billing_profile=profile, number=f"OWE-0{month}",
                                 date=date(2026, month, 1), due_date=date(2026, month, 28), total=Decimal("157.56"))
        InvoiceLineFactory(invoice=invoice, description="Charges", amount=Decimal("157.56"))
    api = client_for(admin_of(tenant))
    (blocker,) = api.get(f"/api/v1/subscriptions/{sub.pk}/upgrades/").json()["blockers"]
    assert (blocker["code"], blocker["detail"]) == (
        "unpaid_balance", "USD 787.80 is unpaid on 5 past-due invoices: OWE-01 (USD 157.56, "
                          "due 2026-01-28), OWE-02 (USD 157.56, due 2026-02-28), OWE-03 (USD 157.56, due 2026-03-28) "
                          "and 2 more.")
    client.force_login(admin_of(tenant))
    page = page_text(client.get(f"/billing/products/{sub.pk}/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("787,80 US$ är obetalt på 5 förfallna fakturor: OWE-01 (157,56 US$, "
            "förfallodag 2026-01-28), OWE-02 (157,56 US$, förfallodag 2026-02-28), OWE-03 (157,56 US$, förfallodag "
            "2026-03-28) och 2 till.") in page


def test_the_scheduled_changes_warning_counts_on_the_payers_habit(at_date):
    """An invoice due before a change's date is only a warning when nobody will have paid it by then: a payer
    paying on time will, one that never pays won't."""
    from billing.models import BillingProfile
    from planchange.selectors import scheduled_change_warnings
    from planchange.services import plan_change_request
    from tests.factories import mca_subscription

    at_date("2026-06-16")
    profile = BillingProfileFactory()
    tenant = profile.tenant
    sub = mca_subscription(profile, licenses=5, start_date=date(2025, 10, 1))
    InvoiceFactory(tenant=tenant, billing_profile=profile, number="DUE-07", total="50.00", date=date(2026, 6, 1),
                   due_date=date(2026, 7, 1))
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    assert scheduled_change_warnings(change) == []  # on time: paid on 2026-07-01, before 2026-10-01
    BillingProfile.objects.filter(pk=profile.pk).update(payment_habit="never")
    (warning,) = scheduled_change_warnings(change)
    assert warning["code"] == "unpaid_balance" and "DUE-07" in warning["detail"]
