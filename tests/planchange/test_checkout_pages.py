"""Checkout (MOSA), the Change plan pane (MCA) and the progress page, through the test client
(the browser runs them in tests/browser/)."""

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest

from billing.models import PaymentMethod
from planchange import workflow
from planchange.models import PlanChange, Quote
from portal import clock
from tests.factories import (
    BillingProfileFactory,
    LicenseFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db




@pytest.fixture
def mosa(client, at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=3)
    client.force_login(admin_of(tenant))
    return tenant, std, card


def test_checkout_shows_sold_to_billed_to_items_and_the_quote(client, mosa):
    tenant, std, card = mosa
    page = client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/")
    body = page_text(page)
    assert "Sold to Contoso contoso.example" in body
    assert "Billed to Payment method Card ending in 4242" in body
    assert "Items in this order Microsoft 365 Business Premium — 25 licenses, 1 year, billed monthly" in body
    assert "Credit for your current subscription -USD 164.13" in body
    assert "Charge for the new subscription USD 577.50" in body and "Total USD 413.37" in body
    # How the credit reaches the payer, and when: the old subscription is paid by card.
    assert ("Billing for the new subscription starts on 2026-06-16. The credit of USD 164.13 is taken off the invoice "
            "of 2026-06-16. Anything it leaves over would be refunded to the card ending 4242, 5 days after the "
            "invoice.") in body
    assert "within 30 days" not in body  # the invoice it is on, said once (it said both: UI review)


def test_the_quote_says_a_net_credit_goes_to_the_card_or_stays_as_account_credit(client, mosa):
    from billing.models import Subscription
    from tests.planchange.test_plan_change_api import client_for

    tenant, std, card = mosa
    api = client_for(admin_of(tenant))
    down = {"subscription": std.pk, "target_sku": "SPB", "licenses": 3}  # Premium for 3: a net credit
    quote = api.post("/api/v1/plan-changes/preview/", down, format="json").json()
    assert (quote["total"], quote["credit_delivery"]) == ("-94.83", {
        "kind": "card_refund", "invoice_date": "2026-06-16", "refund_date": "2026-06-21",
        "text": "The credit of USD 164.13 is taken off the invoice of 2026-06-16. The USD 94.83 it leaves over is "
                "refunded to the card ending 4242 on 2026-06-21."})
    Subscription.objects.filter(pk=std.pk).update(payment="invoice", payment_method=None)
    quote = api.post("/api/v1/plan-changes/preview/", down, format="json").json()
    assert quote["credit_delivery"] == {
        "kind": "account_credit", "invoice_date": "2026-06-16", "refund_date": None,
        "text": "The credit of USD 164.13 is taken off the invoice of 2026-06-16. The USD 94.83 it leaves over "
                "stays as account credit and is taken off your next invoice."}


def test_place_order_starts_the_change_and_shows_its_progress(client, mosa):
    tenant, std, card = mosa
    page = client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/")
    quote_id = re.search(r'name="quote_id" value="(\d+)"', page.content.decode()).group(1)
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                           {"quote_id": quote_id, "payment_method": card.pk, "term": "P1Y",
                            "billing_frequency": "monthly"})
    change = PlanChange.objects.get(subscription=std)
    assert response["Location"] == f"/billing/changes/{change.pk}/"
    assert (change.status, change.quote_id, change.payment_method) == ("queued", int(quote_id), card)
    assert "Validate — Pending" in page_text(client.get(f"/billing/changes/{change.pk}/"))
    # A second click on Place order while the change is queued shows the order already placed.
    again = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                        {"quote_id": quote_id, "payment_method": card.pk})
    assert again["Location"] == f"/billing/changes/{change.pk}/"
    assert PlanChange.objects.filter(subscription=std).count() == 1
    workflow.run(change.pk)
    fragment = client.get(f"/billing/changes/{change.pk}/progress/")
    assert 'data-final="completed"' in fragment.content.decode()
    assert "Your plan change is complete." in page_text(fragment)
    change.refresh_from_db()
    assert f'href="/billing/products/{change.new_subscription_id}/"' in fragment.content.decode()
    assert f'href="/billing/invoices/{change.invoice_id}/"' in fragment.content.decode()
    # A second click on Place order shows the order already placed.



def upgrade_link(client, sub, sku) -> str:
    """The href of Upgrade on a product's card of Available upgrades (one per product: the length and the
    billing frequency are chosen on Checkout, or in the MCA pane)."""
    html = client.get(f"/billing/products/{sub.pk}/upgrades/").content.decode()
    target = re.search(rf'<article class="card target" data-sku="{sku}".*?</article>', html, re.S).group(0)
    return unescape(re.search(r'<a class="button-primary" href="([^"]+)">Upgrade<', target).group(1))


def test_upgrade_on_another_offer_checks_out_that_offer_and_orders_it(client, mosa):
    """Business Standard P1Y billed monthly → Business Premium on a monthly commitment (P1M): USD 26.40."""
    tenant, std, card = mosa
    link = upgrade_link(client, std, "SPB")
    assert link == f"/billing/products/{std.pk}/upgrades/SPB/checkout/"
    choose = re.search(r'<a href="(\?term=P1M&amp;billing_frequency=monthly)">Choose', client.get(link).content.decode())
    page = client.get(link + unescape(choose.group(1)))
    body, html = page_text(page), page.content.decode()
    assert "Items in this order Microsoft 365 Business Premium — 25 licenses, 1 month, billed monthly" in body
    assert "Subscription length and billing frequency 1 month Monthly USD 26.40 license/month Selected" in body
    assert ('<tr class="selected" aria-current="true" data-term="P1M" data-billing-frequency="monthly">'
            in html)
    assert '<a href="?term=P1Y&amp;billing_frequency=monthly">Choose' in html  # the others can be chosen
    assert ("Microsoft 365 Business Premium (25 licenses), 2026-06-16 to 2026-07-16 2026-06-16 – 2026-07-16 "
            "USD 660.00") in body
    assert ("Credit for your current subscription -USD 164.13 Charge for the new subscription USD 660.00 "
            "Total USD 495.87") in body
    assert ('<input type="hidden" name="term" value="P1M"><input type="hidden" name="billing_frequency" '
            'value="monthly">') in html
    quote_id = re.search(r'name="quote_id" value="(\d+)"', html).group(1)
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                           {"quote_id": quote_id, "payment_method": card.pk, "term": "P1M",
                            "billing_frequency": "monthly"})
    change = PlanChange.objects.get(subscription=std)
    assert response["Location"] == f"/billing/changes/{change.pk}/"
    assert (change.term, change.billing_frequency, change.quote_id, change.quote.total) == (
        "P1M", "monthly", int(quote_id), Decimal("495.87"))
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    new = change.new_subscription
    assert (new.product.sku, new.term, new.billing_frequency, new.start_date) == (
        "SPB", "P1M", "monthly", date(2026, 6, 16))
    assert sorted(change.invoice.lines.values_list("amount", flat=True)) == [Decimal("-164.13"), Decimal("660.00")]


def test_the_current_offers_upgrade_checks_out_the_current_term(client, mosa):
    tenant, std, card = mosa
    link = upgrade_link(client, std, "SPB")
    body = page_text(client.get(link))
    assert "1 year Monthly USD 23.10 license/month Selected" in body and "Total USD 413.37" in body


def test_offers_and_the_chosen_one_in_swedish(client, mosa):
    tenant, std, card = mosa
    upgrades = client.get(f"/billing/products/{std.pk}/upgrades/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert 'Uppgradera<span class="visually-hidden"> Microsoft 365 Business Premium</span>' in upgrades
    checkout = page_text(client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/?term=P1Y&billing_frequency"
                                    "=annual", HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Prenumerationslängd och faktureringsfrekvens 1 månad Månadsvis 26,40 US$ licens/månad Välj" in checkout
    assert "1 år Årsvis 22,00 US$ licens/månad Valt" in checkout


def test_an_offer_the_target_isnt_sold_for_is_refused(client, mosa):
    tenant, std, card = mosa
    response = client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/?term=P3Y&billing_frequency=monthly",
                          follow=True)
    assert response.redirect_chain[-1][0] == f"/billing/products/{std.pk}/upgrades/"
    assert "Microsoft 365 Business Premium isn't sold for 3 years billed monthly." in page_text(response)
    assert PlanChange.objects.count() == 0


def test_an_invalid_card_is_refused_beside_its_field_and_nothing_is_kept(client, mosa):
    tenant, std, _ = mosa
    page = client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/")
    quote_id = re.search(r'name="quote_id" value="(\d+)"', page.content.decode()).group(1)
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/", {
        "quote_id": quote_id, "payment_method": "new", "card_number": "4242 4242 4242 4241",
        "card_expiry": "01/20", "card_name": ""})
    html = response.content.decode()
    assert '<div class="field-error" id="card_number-error" data-testid="card-number-error">This card number isn' in html
    assert '<div class="field-error" id="card_expiry-error">This card has expired.</div>' in html
    assert '<div class="field-error" id="card_name-error">Enter the name on the card.</div>' in html
    assert PlanChange.objects.count() == 0
    assert PaymentMethod.objects.filter(tenant=tenant).count() == 1


def test_a_quote_gone_since_the_page_was_drawn_says_so_and_orders_nothing(client, mosa):
    """Place order with a quote another tab has replaced or that has lapsed: the page is drawn again with a
    fresh quote and says why, not a 404 and not an order on the old price."""
    tenant, std, card = mosa
    page = client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/")
    quote_id = re.search(r'name="quote_id" value="(\d+)"', page.content.decode()).group(1)
    Quote.objects.filter(pk=quote_id).delete()
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                           {"quote_id": quote_id, "payment_method": card.pk})
    assert response.status_code == 200
    assert '<p class="msg-warning" role="status">No such quote.</p>' in response.content.decode()
    fresh = re.search(r'name="quote_id" value="(\d+)"', response.content.decode()).group(1)
    assert fresh != quote_id
    assert PlanChange.objects.count() == 0
    Quote.objects.filter(pk=fresh).update(expires_at=clock.now())
    lapsed = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                         {"quote_id": fresh, "payment_method": card.pk})
    assert "The quote has expired; preview the change again." in page_text(lapsed)
    assert PlanChange.objects.count() == 0


def test_a_new_card_pays_for_the_order_and_keeps_four_digits(client, mosa):
    tenant, std, _ = mosa
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/", {
        "payment_method": "new", "card_number": "5555 5555 5555 4444", "card_expiry": "12/29",
        "card_name": "Contoso Ltd"})
    change = PlanChange.objects.get(subscription=std)
    assert response.status_code == 302
    assert (change.payment_method.kind, change.payment_method.last4) == ("card", "4444")


def test_checkout_of_an_unsupported_plan_is_refused(client, mosa):
    tenant, std, _ = mosa
    response = client.get(f"/billing/products/{std.pk}/upgrades/O365_BUSINESS/checkout/", follow=True)
    assert "Microsoft 365 Apps for business can't be ordered as an automatic change." in page_text(response)
    assert client.get(f"/billing/products/{std.pk}/upgrades/NOPE/checkout/").status_code == 404


@pytest.fixture
def mca(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    for _ in range(10):
        LicenseFactory(subscription=sub)
    client.force_login(admin_of(profile.tenant))
    return sub


def test_the_pane_quotes_the_choices_and_schedules_at_renewal(client, mca):
    url = f"/billing/products/{mca.pk}/change/"
    body = page_text(client.get(url))
    assert "Change to a different subscription option" in body and "At renewal (2026-10-01)" in body
    fragment = page_text(client.get(url, {"fragment": "quote", "target_sku": "SPB", "licenses": "15",
                                     "schedule": "renewal", "term": "P1Y", "billing_frequency": "annual"}))
    assert "Charge for the new subscription USD 3,960.00" in fragment  # 22.00 × 15 × 12, no credit at renewal
    too_few = page_text(client.get(url, {"fragment": "quote", "target_sku": "SPB", "licenses": "5"}))
    assert "10 users have licenses on the current plan" in too_few
    response = client.post(url, {"target_sku": "SPB", "licenses": "15", "schedule": "renewal", "term": "P1Y",
                                 "billing_frequency": "annual"}, follow=True)
    assert "The change is scheduled for 2026-10-01." in page_text(response)
    assert PlanChange.objects.get(subscription=mca).status == "scheduled"


def test_upgrade_on_an_offer_opens_the_pane_with_that_offer_for_mca(client, mca):
    assert upgrade_link(client, mca, "SPB") == f"/billing/products/{mca.pk}/change/?target_sku=SPB"
    link = f"/billing/products/{mca.pk}/change/?target_sku=SPB&term=P1M&billing_frequency=monthly"
    page = client.get(link)
    html = page.content.decode()
    assert '<option value="SPB" selected>' in html
    assert '<option value="P1M" selected>' in html and '<option value="monthly" data-terms="P1M P1Y" selected>' in html
    assert "Charge for the new subscription USD 316.80" in page_text(page)  # 26.40 × 12 for one month
    # Checkout's address (an old link, a bookmark) takes an MCA tenant to the pane with the same choice.
    response = client.get(f"/billing/products/{mca.pk}/upgrades/SPB/checkout/?term=P1M&billing_frequency=monthly")
    assert (response.status_code, response["Location"]) == (302, link)
    client.post(f"/billing/products/{mca.pk}/change/", {"target_sku": "SPB", "licenses": "12", "schedule": "now",
                                                        "term": "P1M", "billing_frequency": "monthly"})
    change = PlanChange.objects.get(subscription=mca)
    assert (change.target_product.sku, change.term, change.billing_frequency) == ("SPB", "P1M", "monthly")


def test_the_pane_refuses_too_few_licenses_beside_the_field(client, mca):
    response = client.post(f"/billing/products/{mca.pk}/change/", {"target_sku": "SPB", "licenses": "5"})
    assert 'data-testid="licenses-error">10 users have licenses on the current plan' in response.content.decode()
    assert PlanChange.objects.count() == 0


def test_support_console_moves_the_clock_and_starts_due_changes(client, mca):
    from tests.factories import LoginFactory

    admin_client = client
    admin_client.post(f"/billing/products/{mca.pk}/change/", {"target_sku": "SPB", "schedule": "renewal"})
    change = PlanChange.objects.get(subscription=mca)
    client.force_login(LoginFactory(is_staff=True))
    page = page_text(client.get("/support/"))
    assert "Simulation date: 2026-06-15" in page and "Microsoft 365 Business Standard → Microsoft 365 Business Premium" in page
    bad = client.post("/support/clock/", {"how": "to", "value": "2026-01-01", "action": "preview"}, follow=True)
    assert "The clock only moves forward; today is 2026-06-15." in page_text(bad)
    bad = client.post("/support/clock/", {"how": "days", "value": "-2", "action": "preview"}, follow=True)
    assert "Enter a whole number of days from 1 to 3660." in page_text(bad)
    preview = client.post("/support/clock/", {"how": "to", "value": "2026-10-01", "action": "preview"})
    shown = page_text(preview)
    # Three monthly invoices on the way; the tenant pays each on its due date (the default habit), so
    # nothing falls past due and the change completes at renewal.
    assert "Moving from 2026-06-15 to 2026-10-01 will do these 6 things, in this order:" in shown
    profile = mca.billing_profile
    assert (f"2026-08-31 Invoice paid by habit {mca.tenant.domain} BP{profile.pk}-202608 USD 157.56 paid by "
            f"{profile.name} on its due date.") in shown
    assert (f"2026-10-01 Scheduled change {mca.tenant.domain} Microsoft 365 Business Standard → Microsoft 365 "
            "Business Premium The change scheduled for renewal completed: 12 licenses of Microsoft 365 Business "
            "Premium.") in shown
    assert "Past due" not in shown
    change.refresh_from_db()
    assert (change.status, clock.today()) == ("scheduled", date(2026, 6, 15))  # a preview moves nothing
    done = client.post("/support/clock/", {"how": "to", "value": "2026-10-01", "action": "move"}, follow=True)
    assert "The simulation date is now 2026-10-01. Things that happened on the way: 6." in page_text(done)
    assert "What happened from 2026-06-15 to 2026-10-01" in page_text(done)
    change.refresh_from_db()
    assert (change.status, change.new_subscription.start_date) == ("completed", date(2026, 10, 1))
    mca.refresh_from_db()
    assert (mca.status, mca.replaced_by_id) == ("cancelled", change.new_subscription_id)


def test_a_long_preview_can_be_confirmed_above_its_list(client, mca):
    """A year's preview lists dozens of things: its Move the clock button is above the list as well as below it
    (a short one's only below)."""
    import re

    from tests.factories import LoginFactory

    client.force_login(LoginFactory(is_staff=True))
    long = client.post("/support/clock/", {"how": "days", "value": "365", "action": "preview"}).content.decode()
    short = client.post("/support/clock/", {"how": "days", "value": "17", "action": "preview"}).content.decode()
    assert re.findall(r'data-testid="(clock-confirm[-a-z]*|happenings)"', long)[:3] == [
        "clock-confirm-top", "happenings", "clock-confirm"]
    assert "clock-confirm-top" not in short and 'data-testid="clock-confirm"' in short
    moved = client.post("/support/clock/", {"how": "days", "value": "365", "action": "move"}, follow=True)
    assert "The simulation date is now 2027-06-15." in page_text(moved)


def test_cancelling_a_change_through_another_subscriptions_url_is_404(client, mca):
    client.post(f"/billing/products/{mca.pk}/change/", {"target_sku": "SPB", "schedule": "renewal"})
    change = PlanChange.objects.get(subscription=mca)
    other = SubscriptionFactory(tenant=mca.tenant, product=product("O365_BUSINESS_ESSENTIALS"))
    for subscription_id in (other.pk, 2**31):
        response = client.post(f"/billing/products/{subscription_id}/changes/{change.pk}/cancel/")
        assert response.status_code == 404
    change.refresh_from_db()
    assert change.status == "scheduled"
    response = client.post(f"/billing/products/{mca.pk}/changes/{change.pk}/cancel/", follow=True)
    assert "The scheduled change was cancelled." in page_text(response)


def test_cancel_subscription_on_its_page_confirmed_with_the_credit_it_gave(client, at_date):
    at_date("2026-06-15")
    tenant, card, std, users = mosa_standard(users=2)
    client.force_login(admin_of(tenant))
    page = page_text(client.get(f"/billing/products/{std.pk}/"))
    assert ("Cancel subscription 2 users still have licenses of this subscription: move or unassign them first. "
            "View users with this license") in page
    from licensing.services import license_unassign

    license_unassign(tenant=tenant, subscription_id=std.pk, upns=[u.upn for u in users], actor="admin")
    page = page_text(client.get(f"/billing/products/{std.pk}/"))
    assert "The unused days of the period are credited: refunded to a card, or taken off your next invoice." in page
    unconfirmed = client.post(f"/billing/products/{std.pk}/cancel/", follow=True)
    assert "Confirm that users lose access and that the data is deleted after 90 days." in page_text(unconfirmed)
    std.refresh_from_db()
    assert std.status == "active"
    done = page_text(client.post(f"/billing/products/{std.pk}/cancel/", {"confirm": "yes"}, follow=True))
    assert f"The subscription is cancelled. A credit of USD 175.07 for its unused days is on invoice INV-20260615-C{std.pk:05d}." in done
    assert "Disabled: users have lost access; admins can still reach the data until 2026-09-13" in done
