"""portalctl writes money as the language it runs in writes it (``--lang``), through Babel, as the pages
do: "USD 1,402.43" in English, "1 402,43 US$" in Swedish."""

from datetime import date

import pytest

from portal import clock
from portalctl import texts
from tests.factories import InvoiceFactory, InvoiceLineFactory, admin_of, mosa_standard, token_for

NBSP = "\u00a0"


def test_an_amount_of_the_api_in_each_language():
    try:
        texts.language_set("en")
        assert texts.money("1402.43") == "USD 1,402.43"
        assert texts.money("-164.13") == "-USD 164.13"
        texts.language_set("sv")
        assert texts.money("1402.43") == f"1{NBSP}402,43{NBSP}US$"
        assert texts.money(None) == ""
    finally:
        texts.language_set("en")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_invoices_show_their_money_in_the_language_asked(portal_url, cli):
    clock.set_date(date(2026, 6, 16))
    tenant, _card, std, _users = mosa_standard()
    invoice = InvoiceFactory(tenant=tenant, number="INV-7", total="1402.43", due_date=date(2026, 6, 30))
    InvoiceLineFactory(invoice=invoice, subscription=std, amount="1402.43")
    token = token_for(admin_of(tenant))
    english = cli("invoices", url=portal_url, token=token)
    assert english.code == 0, english.err
    assert "USD 1,402.43" in english.out and "1402.43" not in english.out
    swedish = cli("invoices", "--lang", "sv", url=portal_url, token=token)
    assert swedish.code == 0, swedish.err
    assert f"1{NBSP}402,43{NBSP}US$" in swedish.out
    as_json = cli("invoices", "--json", url=portal_url, token=token)
    assert as_json.json[0]["total"] == "1402.43"  # the API's own format, for scripts
