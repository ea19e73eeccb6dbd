"""An MCA billing profile's monthly invoice is issued on the 1st: until then it is Upcoming and
can't be paid (lines still arrive on it), and no change ever posts onto an invoice already paid."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import Invoice
from planchange import workflow
from planchange.models import PlanChange
from portal import clock
from tests.factories import BillingProfileFactory, LicenseFactory, SubscriptionFactory, admin_of, product, token_for
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def fabrikam():
    clock.set_date(date(2026, 6, 15))
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    for _ in range(4):
        LicenseFactory(subscription=sub)
    admin = admin_of(profile.tenant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    return api, admin, sub


def change(api, sub, sku, key) -> PlanChange:
    response = api.post("/api/v1/plan-changes/", {"subscription": sub.pk, "target_sku": sku}, format="json",
                        HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 202, response.json()
    assert workflow.run(response.json()["id"]) == "completed"
    return PlanChange.objects.get(pk=response.json()["id"])


def test_an_invoice_not_yet_issued_is_upcoming_and_cannot_be_paid(fabrikam, client):
    api, admin, sub = fabrikam
    upgrade = change(api, sub, "SPB", "up")
    invoice = upgrade.invoice
    assert (invoice.number, invoice.date) == (f"BP{sub.billing_profile_id}-202607", date(2026, 7, 1))
    body = api.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert body["status"] == "upcoming"
    refused = api.post(f"/api/v1/invoices/{invoice.pk}/pay/")
    assert (refused.status_code, refused.json()["code"]) == (409, "invoice_not_issued")
    assert refused.json()["detail"] == f"Invoice {invoice.number} is issued on 2026-07-01; it can be paid from then."
    assert Invoice.objects.get(pk=invoice.pk).paid == 0
    client.force_login(admin)
    page = client.get("/billing/bills/", HTTP_ACCEPT_LANGUAGE="sv")
    assert f"{invoice.number} Kommande" in page_text(page)
    detail = client.get(f"/billing/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="sv")
    assert f"Faktura {invoice.number} Kommande" in page_text(detail)
    assert "/pay/" not in detail.content.decode()
    assert f"/billing/invoices/{invoice.pk}/pay/" not in page.content.decode()


def test_a_second_change_in_the_same_month_keeps_the_invoice_whole(fabrikam):
    """The sequence that left a change stuck at bill (invoice_not_overpaid): July's invoice paid early,
    then a second change's credit for unused days made its total less than what was paid. Paying before
    the 1st is refused, so the credit lands on an unpaid invoice, and July is paid once issued. (A cheaper
    plan now is no upgrade: the second change goes up again, E3 to E5.)"""
    api, admin, sub = fabrikam
    upgrade = change(api, sub, "SPE_E3", "up")
    july = upgrade.invoice
    assert api.post(f"/api/v1/invoices/{july.pk}/pay/").status_code == 409
    clock.set_date(date(2026, 6, 16))
    again = change(api, upgrade.new_subscription, "SPE_E5", "again")
    assert again.invoice_id == july.pk
    july.refresh_from_db()
    assert [(line.description, str(line.amount)) for line in july.lines.order_by("pk")] == [
        ("Credit for 16 unused days of Microsoft 365 Business Standard (12 licenses)", "-84.03"),
        ("Microsoft 365 E3 (12 licenses), 2026-06-15 to 2026-07-15", "453.60"),
        ("Credit for 29 unused days of Microsoft 365 E3 (12 licenses)", "-438.48"),  # paid early, it broke bill
        ("Microsoft 365 E5 (12 licenses), 2026-06-16 to 2026-07-16", "718.20"),
    ]
    assert (july.total, july.paid) == (Decimal("649.29"), Decimal("0.00"))
    clock.set_date(date(2026, 7, 1))
    assert api.post(f"/api/v1/invoices/{july.pk}/pay/").json()["balance"] == "0.00"
