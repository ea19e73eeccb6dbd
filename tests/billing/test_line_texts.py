"""Invoice and quote lines are rendered in the reader's language when a page shows them: a line
keeps the key of its text and what it is made of (``text``, ``params``) beside its English
``description``, which the API answers whatever the language asked for."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice, InvoiceLine
from billing.services import subscription_cancel, subscription_licenses_change
from planchange import workflow
from planchange.services import plan_change_preview, plan_change_request
from simulation.moves import clock_move
from tests.factories import SubscriptionFactory, admin_of, mosa_standard, product, token_for
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def _run(change):
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    return change


def _page(client, url, language) -> str:
    return page_text(client.get(url, HTTP_ACCEPT_LANGUAGE=language))


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=22)
    return tenant, admin_of(tenant), std


def test_a_changes_credit_and_charge_read_in_the_readers_language_and_stay_english_in_the_api(client, api, contoso):
    tenant, admin, std = contoso
    invoice = _run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")).invoice
    english = ["Credit for 15 unused days of Microsoft 365 Business Standard (25 licenses)",
               "Microsoft 365 Business Premium (25 licenses), 2026-06-16 to 2026-07-16"]
    lines = list(invoice.lines.all())
    assert [line.description for line in lines] == english
    assert [(line.text, line.params) for line in lines] == [
        ("line.credit", {"product": "Microsoft 365 Business Standard", "licenses": 25, "days": 15}),
        ("line.period", {"product": "Microsoft 365 Business Premium", "licenses": 25, "start": "2026-06-16",
                         "end": "2026-07-16"}),
    ]
    client.force_login(admin)
    for url in (reverse("billing:invoice", args=[invoice.pk]), reverse("billing:bills")):
        swedish = _page(client, url, "sv")
        assert "Kredit för 15 oanvända dagar av Microsoft 365 Business Standard (25 licenser)" in swedish
        assert "Microsoft 365 Business Premium (25 licenser), 2026-06-16 till 2026-07-16" in swedish
        assert "-164,13 US$" in swedish and "unused" not in swedish
        assert all(text in _page(client, url, "en") for text in english)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    body = api.get(f"/api/v1/invoices/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="sv").json()
    assert [line["description"] for line in body["lines"]] == english


def test_one_day_and_one_license_are_singular_in_both_languages(client, at_date):
    at_date("2026-06-30")
    tenant, _card, std, _users = mosa_standard(licenses=1, users=1)
    admin = admin_of(tenant)
    invoice = _run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")).invoice
    assert invoice.lines.first().description == "Credit for 1 unused day of Microsoft 365 Business Standard (1 license)"
    client.force_login(admin)
    swedish = _page(client, reverse("billing:invoice", args=[invoice.pk]), "sv")
    assert "Kredit för 1 oanvänd dag av Microsoft 365 Business Standard (1 licens)" in swedish
    assert "Microsoft 365 Business Premium (1 licens), 2026-06-30 till 2026-07-30" in swedish


def test_the_quote_on_checkout_reads_in_swedish_and_the_preview_api_stays_english(client, api, contoso):
    tenant, admin, std = contoso
    client.force_login(admin)
    swedish = _page(client, reverse("planchange:checkout", args=[std.pk, "SPB"]), "sv")
    assert "Kredit för 15 oanvända dagar av Microsoft 365 Business Standard (25 licenser)" in swedish
    assert "Microsoft 365 Business Premium (25 licenser), 2026-06-16 till 2026-07-16" in swedish
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    body = api.post("/api/v1/plan-changes/preview/", {"subscription": std.pk, "target_sku": "SPB"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="sv").json()
    assert [line["description"] for line in body["lines"]] == [
        "Credit for 15 unused days of Microsoft 365 Business Standard (25 licenses)",
        "Microsoft 365 Business Premium (25 licenses), 2026-06-16 to 2026-07-16"]
    assert set(body["lines"][0]) == {"description", "amount", "start", "end"}  # nothing added to the contract


def test_a_quote_kept_from_before_its_lines_had_keys_is_billed_and_shown_as_it_was(client, contoso):
    tenant, admin, std = contoso
    quote = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB")
    quote.lines = [{k: v for k, v in line.items() if k not in ("text", "params")} for line in quote.lines]
    quote.save()
    change = _run(plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB",
                                      quote_id=quote.pk))
    assert [(line.text, line.description) for line in change.invoice.lines.all()] == [
        ("", line["description"]) for line in quote.lines]
    client.force_login(admin)
    assert quote.lines[0]["description"] in _page(client, reverse("billing:invoice", args=[change.invoice.pk]), "sv")


def test_licenses_bought_and_removed_show_the_reversal_and_the_new_charge_in_swedish(client, contoso):
    tenant, admin, std = contoso
    subscription_licenses_change(tenant=tenant, subscription_id=std.pk, add=2, actor=admin.username)
    invoice = Invoice.objects.get(lines__text="line.reversed")
    assert [line.description for line in invoice.lines.all()] == [
        "Microsoft 365 Business Standard (25 licenses), 2026-06-16 to 2026-07-01: reversed",
        "Microsoft 365 Business Standard (27 licenses), 2026-06-16 to 2026-07-01"]
    client.force_login(admin)
    swedish = _page(client, reverse("billing:invoice", args=[invoice.pk]), "sv")
    assert "Microsoft 365 Business Standard (25 licenser), 2026-06-16 till 2026-07-01: återförd" in swedish
    assert "Microsoft 365 Business Standard (27 licenser), 2026-06-16 till 2026-07-01" in swedish


def test_a_cancellations_credit_a_period_charge_and_account_credit_read_in_swedish(client, at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard()
    spare = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=3,
                                payment_method=None, payment="invoice")
    admin = admin_of(tenant)
    credit = subscription_cancel(tenant=tenant, subscription_id=spare.pk, actor=admin.username).credit_line
    assert credit.description == "Credit for 15 unused days of Microsoft 365 Business Basic (3 licenses)"
    clock_move(actor="support@portal.local", to=date(2026, 7, 1))
    period = InvoiceLine.objects.get(text="line.period", start=date(2026, 7, 1))
    assert period.description == "Microsoft 365 Business Standard (25 licenses), 2026-07-01 to 2026-08-01"
    client.force_login(admin)
    bills = _page(client, reverse("billing:bills"), "sv")
    assert "Kredit för 15 oanvända dagar av Microsoft 365 Business Basic (3 licenser)" in bills
    assert "Microsoft 365 Business Standard (25 licenser), 2026-07-01 till 2026-08-01" in bills
    # The credit (an invoice payer's) is taken off the next invoice.
    used = InvoiceLine.objects.get(text="line.account_credit")
    assert used.description == f"Account credit from invoice {credit.invoice.number}"
    assert f"Kontokredit från faktura {credit.invoice.number}" in bills


def test_a_line_without_a_key_or_with_one_no_longer_known_shows_its_stored_description(client, contoso):
    tenant, admin, _std = contoso
    invoice = Invoice.objects.create(tenant=tenant, number="OLD-1", date=date(2026, 6, 1),
                                     due_date=date(2026, 6, 1) + timedelta(days=30), total=Decimal("3.00"))
    InvoiceLine.objects.create(invoice=invoice, description="Typed long ago", amount=Decimal("1.00"))
    InvoiceLine.objects.create(invoice=invoice, description="From a later version", text="line.gone",
                               amount=Decimal("1.00"))
    InvoiceLine.objects.create(invoice=invoice, description="Params missing", text="line.credit",
                               params={"product": "X"}, amount=Decimal("1.00"))
    client.force_login(admin)
    swedish = _page(client, reverse("billing:invoice", args=[invoice.pk]), "sv")
    assert all(text in swedish for text in ("Typed long ago", "From a later version", "Params missing"))
