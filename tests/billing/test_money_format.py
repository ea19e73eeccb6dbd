"""Money reads as the reader's language writes it, with the currency as CLDR writes it and thousands
separators, through Babel: "USD 1,402.43" in English, "1 402,43 US$" in Swedish (CLDR's no-break spaces),
on every page and in the texts that embed an amount."""

from datetime import date

import pytest
from django.utils import translation

from billing.money import money_text
from billing.verbs import INVOICE_PAID
from portal.models import Event
from portal.templatetags.texts import event_text
from tests.factories import InvoiceFactory, InvoiceLineFactory, admin_of, mosa_standard
from tests.helpers import page_text

NBSP = "\u00a0"


def test_an_amount_in_english_and_in_swedish():
    assert money_text("1402.43", language="en") == "USD 1,402.43"
    assert money_text("1402.43", language="sv") == f"1{NBSP}402,43{NBSP}US$"
    assert money_text("-164.125", language="en") == "-USD 164.13"  # rounded half up by the one helper
    assert money_text("105000", language="sv") == f"105{NBSP}000,00{NBSP}US$"
    with translation.override("sv"):
        assert money_text("402.43") == f"402,43{NBSP}US$"
    with translation.override("en"):
        assert money_text("402.43") == "USD 402.43"


@pytest.mark.django_db
def test_the_purchase_total_with_thousands_separators_in_both_languages(client, at_date):
    at_date("2026-06-16")
    tenant, _card, _std, _users = mosa_standard()
    client.force_login(admin_of(tenant, "billing_admin"))
    order = {"sku": "STANDARDPACK", "licenses": "10000"}
    assert "Total USD 105,000.00" in page_text(client.get("/billing/purchase/", order))
    swedish = client.get("/billing/purchase/", order, HTTP_ACCEPT_LANGUAGE="sv")
    assert f"105{NBSP}000,00{NBSP}US$" in swedish.content.decode()
    assert "Totalt 105 000,00 US$" in page_text(swedish)


@pytest.mark.django_db
def test_an_invoice_and_its_payment_event_in_both_languages(client, at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard()
    invoice = InvoiceFactory(tenant=tenant, number="INV-7", total="1402.43", due_date=date(2026, 6, 30))
    InvoiceLineFactory(invoice=invoice, subscription=std, amount="1402.43")
    client.force_login(admin_of(tenant, "billing_admin"))
    assert "USD 1,402.43" in page_text(client.get(f"/billing/invoices/{invoice.pk}/"))
    assert "1 402,43 US$" in page_text(client.get(f"/billing/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="sv"))
    client.post(f"/billing/invoices/{invoice.pk}/pay/")
    paid = Event.objects.get(verb=INVOICE_PAID, object_id=str(invoice.pk))
    with translation.override("en"):
        assert event_text(paid).startswith("Invoice INV-7 paid: USD 1,402.43")
    with translation.override("sv"):
        assert f"1{NBSP}402,43{NBSP}US$" in event_text(paid)
