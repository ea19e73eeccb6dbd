"""Settle balance pays every past-due invoice at once, one payment per invoice (Bills & payments and
``POST invoices/settle/``); Pay now pays one."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Invoice
from tests.factories import BillingProfileFactory, InvoiceFactory, InvoiceLineFactory, TenantFactory, admin_of
from tests.helpers import page_text
from tests.planchange.test_plan_change_api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def owing(at_date):
    """An MCA tenant that never pays: two invoices past due (one partly paid), one due later, one upcoming."""
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="owing.example", name="Owing")
    profile = BillingProfileFactory(tenant=tenant, name="Owing billing", payment_habit="never")
    rows = [("OWE-04", date(2026, 4, 1), date(2026, 5, 1), "157.56", "57.56"),
            ("OWE-05", date(2026, 5, 1), date(2026, 5, 31), "157.56", "0.00"),
            ("OWE-06", date(2026, 6, 1), date(2026, 7, 1), "157.56", "0.00"),
            ("OWE-07", date(2026, 7, 1), date(2026, 7, 31), "157.56", "0.00")]
    for number, day, due, total, paid in rows:
        invoice = InvoiceFactory(tenant=tenant, billing_profile=profile, number=number, date=day, due_date=due,
                                 total=Decimal(total), paid=Decimal(paid))
        InvoiceLineFactory(invoice=invoice, description="Charges", amount=Decimal(total))
    return tenant


def paid(tenant) -> list[tuple[str, str]]:
    return list(Invoice.objects.filter(tenant=tenant).order_by("number").values_list("number", "paid"))


def test_settle_balance_on_the_page_pays_every_past_due_invoice_each_its_own_payment(owing, client):
    admin = admin_of(owing, "billing_admin")
    client.force_login(admin)
    page = client.get("/billing/bills/")
    text = page_text(page)
    assert "Overdue balance: USD 257.56 Settle balance" in text
    assert "Owing billing Never pays" in text  # the habit, read-only: no form of the admin's changes it
    assert "/support/" not in page.content.decode() and 'name="payment_habit"' not in page.content.decode()
    done = client.post("/billing/bills/settle/", follow=True)
    assert "2 past-due invoices are paid: USD 257.56." in page_text(done)
    assert [(n, str(p)) for n, p in paid(owing)] == [
        ("OWE-04", "157.56"), ("OWE-05", "157.56"), ("OWE-06", "0.00"), ("OWE-07", "0.00")]
    assert [(e.actor, e.data["number"], e.data["amount"], e.data["settled"])
            for e in owing.events.filter(verb="invoice.paid").order_by("pk")] == [
        (admin.username, "OWE-04", "100.00", True), (admin.username, "OWE-05", "157.56", True)]
    # Nothing past due any more: no Settle balance; a second post is refused beside the form.
    assert 'data-testid="settle-form"' not in client.get("/billing/bills/").content.decode()
    again = client.post("/billing/bills/settle/", follow=True)
    assert "Nothing is past due." in page_text(again)
    assert owing.events.filter(verb="invoice.paid").count() == 2


def test_settle_balance_through_the_api_answers_what_it_paid(owing):
    api = client_for(admin_of(owing))
    settled = api.post("/api/v1/invoices/settle/")
    assert settled.status_code == 200
    body = settled.json()
    assert (body["amount"], [(i["number"], i["status"], i["balance"]) for i in body["invoices"]]) == (
        "257.56", [("OWE-04", "paid", "0.00"), ("OWE-05", "paid", "0.00")])
    refused = api.post("/api/v1/invoices/settle/")
    assert (refused.status_code, refused.json()["code"]) == (409, "nothing_to_pay")
    # Pay now still pays one invoice: the one due later.
    june = Invoice.objects.get(number="OWE-06")
    assert api.post(f"/api/v1/invoices/{june.pk}/pay/").json()["balance"] == "0.00"


def test_only_billing_writers_settle_and_only_their_own_tenants_invoices(owing):
    reader = client_for(admin_of(owing, "global_reader"))
    assert reader.post("/api/v1/invoices/settle/").status_code == 403
    other = TenantFactory(domain="other.example")
    assert client_for(admin_of(other)).post("/api/v1/invoices/settle/").json()["code"] == "nothing_to_pay"
    assert [str(p) for _n, p in paid(owing)] == ["57.56", "0.00", "0.00", "0.00"]
