"""Bills & payments after years of invoices (issue 21's long clock moves): a year's invoices to a page, newest first,
the balance, the overdue balance and Settle balance over all of them, and Pay now brings the admin back to the page
they paid from."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Invoice
from portal import clock
from tests.factories import InvoiceFactory, InvoiceLineFactory, TenantFactory, admin_of
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(client):
    """Fifteen monthly invoices, 2025-04 to 2026-06, the first ten past due and unpaid (USD 100.00 each)."""
    clock.set_date(date(2026, 6, 15))
    tenant = TenantFactory(domain="owing.example")
    for month in range(15):
        year, m = 2025 + (month + 3) // 12, (month + 3) % 12 + 1
        invoice = InvoiceFactory(tenant=tenant, number=f"OWE-{year}-{m:02d}", date=date(year, m, 1),
                                 due_date=date(year, m, 28), total=Decimal("100.00"),
                                 paid=Decimal("0.00") if month < 10 else Decimal("100.00"))
        InvoiceLineFactory(invoice=invoice, description="Charges", amount=Decimal("100.00"))
    client.force_login(admin_of(tenant))
    return tenant


def shown(page: str) -> list[str]:
    return list(dict.fromkeys(word for word in page.split() if word.startswith("OWE-")))  # (Pay now names it too)


def test_a_year_of_invoices_to_a_page_newest_first_and_the_balances_over_all(owing, client):
    first = page_text(client.get("/billing/bills/"))
    assert shown(first) == [f"OWE-{d}" for d in ("2026-06", "2026-05", "2026-04", "2026-03", "2026-02", "2026-01",
                                                  "2025-12", "2025-11", "2025-10", "2025-09", "2025-08", "2025-07")]
    assert "Page 1 of 2 (15 invoices)" in first
    assert "Balance due: USD 1,000.00" in first and "Overdue balance: USD 1,000.00" in first
    second = page_text(client.get("/billing/bills/?page=2"))
    assert shown(second) == ["OWE-2025-06", "OWE-2025-05", "OWE-2025-04"]
    assert "Page 2 of 2 (15 invoices)" in second and "Balance due: USD 1,000.00" in second
    for hostile in ("99", "abc", "-1", "0", "1e3", "%00"):
        assert client.get(f"/billing/bills/?page={hostile}").status_code in (200, 400), hostile  # never a 5xx
    assert shown(page_text(client.get("/billing/bills/?page=abc"))) == shown(first)
    assert page_text(client.get("/billing/bills/?page=99", HTTP_ACCEPT_LANGUAGE="sv")).count("Sida 2 av 2 (15 fakturor)") == 1


def test_pay_now_on_the_second_page_comes_back_to_it(owing, client):
    invoice = Invoice.objects.get(number="OWE-2025-05")
    response = client.post(f"/billing/invoices/{invoice.pk}/pay/", {"next": "/billing/bills/?page=2"})
    assert (response.status_code, response["Location"]) == (302, "/billing/bills/?page=2")
    invoice.refresh_from_db()
    assert invoice.paid == Decimal("100.00")
    for elsewhere in ("https://evil.example/billing/bills/?page=2", "/billing/bills/?page=2&next=//evil", "//evil"):
        other = Invoice.objects.get(number="OWE-2025-06")
        response = client.post(f"/billing/invoices/{other.pk}/pay/", {"next": elsewhere})
        assert response["Location"] == f"/billing/invoices/{other.pk}/", elsewhere
        other.paid = Decimal("0.00")
        other.save(update_fields=["paid"])
