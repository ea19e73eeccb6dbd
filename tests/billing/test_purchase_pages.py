"""Billing > Purchase services: the catalog, the order with its first period's total, and Buy
(MOSA with a card on file or a new one, MCA through the billing profile), once per form, for billing
writers only, every refusal beside its field."""

import html
import re
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import Invoice, PaymentMethod, Subscription
from billing.services import subscriptions as services
from portal.errors import DomainError
from portal.models import Event
from tests.factories import (
    BillingProfileFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
)
from tests.helpers import concurrently, page_text

URL = "/billing/purchase/"


def token_of(response) -> str:
    return re.search(r'name="order_token" value="([0-9a-f-]{36})"', response.content.decode()).group(1)


def order_form(client, sku: str, **choice) -> dict:
    """What the order form posts for ``sku`` and ``choice``, as the page renders it (its one-time token)."""
    page = client.get(URL, {"sku": sku, **choice})
    assert page.status_code == 200
    return {"sku": sku, "licenses": "1", "term": "P1Y", "billing_frequency": "monthly", **choice,
            "order_token": token_of(page)}


def written():
    return Subscription.objects.count(), Invoice.objects.count(), PaymentMethod.objects.count(), Event.objects.count()


@pytest.fixture
def contoso(client, at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=3)
    client.force_login(admin_of(tenant, "billing_admin"))
    return tenant, card, std


@pytest.mark.django_db
def test_the_catalog_shows_every_product_with_its_prices_per_license_per_month(client, contoso):
    text = page_text(client.get(URL))
    assert "Billing Purchase services Your products Bills & payments" in text  # the Billing navigation
    assert ("Product 1 month, billed monthly 1 year, billed monthly 1 year, billed annually 3 years, billed annually "
            "Most licenses") in text
    assert ("Microsoft 365 Business Basic O365_BUSINESS_ESSENTIALS USD 7.20 USD 6.30 USD 6.00 USD 6.00 300 Buy"
            in text)
    assert "Office 365 E3 ENTERPRISEPACK USD 27.60 USD 24.15 USD 23.00 USD 23.00 — Buy" in text
    assert "Subscriptions you buy here are for your organization, Contoso (contoso.example)" in text
    assert 'href="/billing/purchase/"' in client.get("/billing/products/").content.decode()  # from Your products


@pytest.mark.django_db
def test_the_order_shows_the_first_periods_total_before_buying(client, contoso):
    text = page_text(client.get(URL, {"sku": "O365_BUSINESS_PREMIUM", "licenses": "7"}))
    assert ("Order total Microsoft 365 Business Standard, 7 licenses × USD 13.13 license/month · 1 year · Monthly "
            "First billing period, 2026-06-16 to 2026-07-16 USD 91.91 Total USD 91.91") in text
    assert "It is invoiced today (2026-06-16); a card pays it at once." in text
    annual = page_text(client.get(URL, {"sku": "SPB", "licenses": "10", "term": "P3Y", "billing_frequency": "annual"}))
    assert "First billing period, 2026-06-16 to 2027-06-16 USD 2,640.00 Total USD 2,640.00" in annual
    # A one-month commitment is billed monthly, whatever is chosen.
    monthly = page_text(client.get(URL, {"sku": "SPB", "licenses": "10", "term": "P1M",
                                         "billing_frequency": "annual"}))
    assert "× USD 26.40 license/month · 1 month · Monthly" in monthly and "Total USD 264.00" in monthly
    fragment = client.get(URL, {"sku": "SPB", "licenses": "2", "fragment": "total"})
    assert page_text(fragment).startswith("Order total Microsoft 365 Business Premium, 2 licenses")
    assert "<form" not in fragment.content.decode()


@pytest.mark.django_db
def test_buying_with_a_card_on_file_invoices_the_first_period_today(client, contoso):
    tenant, card, std = contoso
    form = order_form(client, "O365_BUSINESS_PREMIUM", licenses="7")
    response = client.post(URL, {**form, "payment_method": str(card.pk)})
    sub = Subscription.objects.exclude(pk=std.pk).get()
    assert response["Location"] == f"/billing/products/{sub.pk}/"
    assert (sub.tenant, sub.product.sku, sub.licenses, sub.term, sub.billing_frequency, sub.start_date) == (
        tenant, "O365_BUSINESS_PREMIUM", 7, "P1Y", "monthly", date(2026, 6, 16))
    assert (sub.status, sub.provisioning, sub.payment, sub.payment_method, sub.billing_profile) == (
        "active", "provisioning", "card", card, None)
    assert (sub.billed_until, sub.billed_amount) == (date(2026, 7, 16), Decimal("91.91"))
    invoice = Invoice.objects.get(tenant=tenant)
    assert (invoice.number, invoice.date, invoice.due_date, invoice.total, invoice.paid, invoice.payment_method) == (
        f"INV-20260616-S{sub.pk:05d}", date(2026, 6, 16), date(2026, 6, 16), Decimal("91.91"), Decimal("91.91"), card)
    assert [(line.description, line.amount, line.start, line.end, line.subscription) for line in invoice.lines.all()] \
        == [("Microsoft 365 Business Standard (7 licenses), 2026-06-16 to 2026-07-16", Decimal("91.91"),
             date(2026, 6, 16), date(2026, 7, 16), sub)]
    assert list(Event.objects.filter(verb="subscription.bought").values_list("data", flat=True)) == [
        {"sku": "O365_BUSINESS_PREMIUM", "licenses": 7, "term": "P1Y", "billing_frequency": "monthly"}]
    shown = page_text(client.get(response["Location"]))
    assert (f"Microsoft 365 Business Standard is being set up; it is ready in a few minutes. Its first billing "
            f"period, USD 91.91, is on invoice INV-20260616-S{sub.pk:05d} of 2026-06-16.") in shown


@pytest.mark.django_db
def test_buying_with_a_new_card_keeps_its_last_four_digits_and_charges_it(client, contoso):
    tenant, card, std = contoso
    form = order_form(client, "SPB", licenses="2", term="P1Y", billing_frequency="annual")
    response = client.post(URL, {**form, "payment_method": "new", "card_number": "5555 5555 5555 4444",
                                 "card_expiry": "12/29", "card_name": "Contoso Ltd"})
    assert response.status_code == 302
    new_card = PaymentMethod.objects.exclude(pk=card.pk).get()
    assert (new_card.tenant, new_card.kind, new_card.last4, new_card.holder_name, new_card.is_default) == (
        tenant, "card", "4444", "Contoso Ltd", False)
    sub = Subscription.objects.exclude(pk=std.pk).get()
    assert (sub.payment_method, sub.billed_until, sub.billed_amount) == (new_card, date(2027, 6, 16), Decimal("528.00"))
    invoice = Invoice.objects.get(tenant=tenant)
    assert (invoice.total, invoice.paid, invoice.payment_method) == (Decimal("528.00"), Decimal("528.00"), new_card)
    assert [(line.description, line.amount) for line in invoice.lines.all()] == [
        ("Microsoft 365 Business Premium (2 licenses), 2026-06-16 to 2027-06-16", Decimal("528.00"))]


@pytest.mark.django_db
def test_a_bad_new_card_is_refused_beside_its_fields_and_nothing_is_kept(client, contoso):
    form = order_form(client, "SPB", licenses="2")
    before = written()
    response = client.post(URL, {**form, "payment_method": "new", "card_number": "4242 4242 4242 4241",
                                 "card_expiry": "01/20", "card_name": ""})
    html = response.content.decode()
    assert response.status_code == 422
    assert '<div class="field-error" id="card_number-error" data-testid="card-number-error">This card number isn' in html
    assert '<div class="field-error" id="card_expiry-error">This card has expired.</div>' in html
    assert '<div class="field-error" id="card_name-error">Enter the name on the card.</div>' in html
    assert token_of(response) == form["order_token"]  # the same order, still to be placed
    assert written() == before


@pytest.mark.django_db
def test_an_mca_tenant_buys_through_its_billing_profile_on_the_next_monthly_invoice(client, at_date):
    at_date("2026-06-16")
    profile = BillingProfileFactory(name="Fabrikam billing", tenant__name="Fabrikam")
    PaymentMethodFactory(tenant=profile.tenant, is_default=True)  # not offered: the profile pays
    client.force_login(admin_of(profile.tenant))
    page = client.get(URL, {"sku": "O365_BUSINESS_ESSENTIALS", "licenses": "3", "term": "P1M"})
    text, html = page_text(page), page.content.decode()
    assert "Billed to Billing profile Fabrikam billing (Invoice)" in text
    assert "Total USD 21.60 It goes on your billing profile's invoice of 2026-07-01." in text
    assert 'name="payment_method"' not in html and 'name="card_number"' not in html
    response = client.post(URL, {"sku": "O365_BUSINESS_ESSENTIALS", "licenses": "3", "term": "P1M",
                                 "billing_frequency": "monthly", "order_token": token_of(page)})
    sub = Subscription.objects.get(tenant=profile.tenant)
    assert response["Location"] == f"/billing/products/{sub.pk}/"
    assert (sub.billing_profile, sub.payment, sub.payment_method, sub.term, sub.billing_frequency) == (
        profile, "invoice", None, "P1M", "monthly")
    invoice = Invoice.objects.get(tenant=profile.tenant)
    assert (invoice.number, invoice.date, invoice.due_date, invoice.billing_profile, invoice.total, invoice.paid) == (
        f"BP{profile.pk}-202607", date(2026, 7, 1), date(2026, 7, 31), profile, Decimal("21.60"), Decimal("0.00"))
    assert [(line.description, line.amount, line.subscription) for line in invoice.lines.all()] == [
        ("Microsoft 365 Business Basic (3 licenses), 2026-06-16 to 2026-07-16", Decimal("21.60"), sub)]
    assert (f"Its first billing period, USD 21.60, is on invoice BP{profile.pk}-202607 of 2026-07-01."
            in page_text(client.get(response["Location"])))


@pytest.mark.django_db
def test_licenses_above_the_products_maximum_are_refused_with_the_number(client, contoso):
    tenant, card, std = contoso
    shown = client.get(URL, {"sku": "O365_BUSINESS_ESSENTIALS", "licenses": "301"})
    assert shown.status_code == 400
    assert ('data-testid="licenses-error">Microsoft 365 Business Basic allows 1 to 300 licenses.</div>'
            in shown.content.decode())
    assert "Correct the order to see its total." in page_text(shown)
    form = order_form(client, "O365_BUSINESS_ESSENTIALS")
    before = written()
    response = client.post(URL, {**form, "licenses": "301", "payment_method": str(card.pk)})
    assert response.status_code == 422
    assert ('data-testid="licenses-error">Microsoft 365 Business Basic allows 1 to 300 licenses.</div>'
            in response.content.decode())
    assert written() == before
    # A product without a maximum of its own takes as many as an order may hold.
    assert "Total USD 105,000.00" in page_text(client.get(URL, {"sku": "STANDARDPACK", "licenses": "10000"}))


@pytest.mark.django_db
def test_a_double_submit_buys_once_and_answers_the_first_purchase(client, contoso):
    tenant, card, std = contoso
    form = {**order_form(client, "SPB", licenses="2"), "payment_method": "new", "card_number": "5555 5555 5555 4444",
            "card_expiry": "12/29", "card_name": "Contoso Ltd"}
    first = client.post(URL, form)
    after_first = written()
    second = client.post(URL, form)
    assert second["Location"] == first["Location"]
    assert written() == after_first  # no second subscription, invoice, card or event
    assert Subscription.objects.filter(tenant=tenant, product__sku="SPB").count() == 1
    sub = Subscription.objects.get(tenant=tenant, product__sku="SPB")
    assert ("This order was already placed: Microsoft 365 Business Premium, bought on 2026-06-16. Nothing was bought "
            "again.") in page_text(client.get(second["Location"]))
    # A new visit of the page is a new order.
    again = client.post(URL, {**order_form(client, "SPB", licenses="2"), "payment_method": str(card.pk)})
    assert again["Location"] != first["Location"]
    assert Subscription.objects.filter(tenant=tenant, product__sku="SPB").count() == 2
    assert sub.order_token is not None


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_four_times_at_once_buys_once(at_date):
    at_date("2026-06-16")
    tenant, card, _std, _users = mosa_standard()
    admin = admin_of(tenant)
    reader = Client()
    reader.force_login(admin)
    form = {**order_form(reader, "SPB", licenses="2"), "payment_method": str(card.pk)}

    def post(_i):
        client = Client()
        client.force_login(admin)
        response = client.post(URL, form)
        return response.status_code, response.get("Location")

    results = concurrently(4, post)
    sub = Subscription.objects.get(tenant=tenant, product__sku="SPB")
    assert results == [(302, f"/billing/products/{sub.pk}/")] * 4
    assert Invoice.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
def test_a_send_that_loses_the_race_is_rolled_back_whole_and_answers_the_first_purchase(contoso, monkeypatch):
    """What PostgreSQL does with two sends at once: neither sees the other's subscription, the database
    refuses the second one with the same token, and everything the second wrote (its new card
    included) is rolled back; it answers the first one's subscription."""
    tenant, card, _std = contoso
    order = {"tenant": tenant, "sku": "SPB", "licenses": 2, "term": "P1Y", "billing_frequency": "monthly",
             "order_token": uuid.uuid4(), "actor": "admin"}
    first = services.subscription_purchase(**order, payment_choice=str(card.pk), card={})
    looked = []
    real = services._bought_with

    def not_yet_committed(**kwargs):  # the first look misses the other transaction's row
        looked.append(kwargs)
        return None if len(looked) == 1 else real(**kwargs)

    monkeypatch.setattr(services, "_bought_with", not_yet_committed)
    before = written()
    second = services.subscription_purchase(**order, payment_choice="new", card={
        "number": "5555 5555 5555 4444", "expiry": "12/29", "holder_name": "Contoso Ltd"})
    assert (second.pk, second.already_bought, first.already_bought) == (first.pk, True, False)
    assert written() == before and len(looked) == 2


@pytest.mark.django_db
def test_buy_and_place_order_refuse_an_order_with_no_payment_method_alike(contoso):
    """One way to read an order form's payment choice: Purchase services' Buy and Checkout's Place
    order refuse no choice with the same code beside the same field, and a bad new card the same way."""
    from planchange.services import checkout_place_order
    tenant, _card, std = contoso
    admin = admin_of(tenant)
    doors = {
        "buy": lambda choice, card: services.subscription_purchase(
            tenant=tenant, sku="SPB", licenses=2, term="P1Y", billing_frequency="monthly",
            order_token=uuid.uuid4(), payment_choice=choice, card=card, actor="admin"),
        "place order": lambda choice, card: checkout_place_order(
            tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", term=None,
            billing_frequency=None, payment_choice=choice, card=card),
    }
    before = written()
    refused = {}
    for door, order in doors.items():
        for choice, card in (("", {}), ("new", {"number": "1", "expiry": "01/20", "holder_name": ""})):
            with pytest.raises(DomainError) as exc:
                order(choice, card)
            refused.setdefault(door, []).append((exc.value.code, sorted(exc.value.field_errors())))
    assert refused["buy"] == refused["place order"] == [
        ("payment_method_required", ["payment_method"]), ("invalid_card", ["expiry", "holder_name", "number"])]
    assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["global_reader", "license_admin", "user_admin", "service_support_admin"])
def test_a_role_that_may_not_buy_sees_the_catalog_and_the_total_but_cannot_buy(client, at_date, role):
    at_date("2026-06-16")
    tenant, card, _std, _users = mosa_standard()
    client.force_login(admin_of(tenant, role))
    page = client.get(URL, {"sku": "SPB", "licenses": "2"})
    html, text = page.content.decode(), page_text(page)
    assert "Total USD 46.20" in text
    assert '<button type="submit" class="primary" disabled aria-describedby="buy-role">Buy</button>' in html
    assert "Your admin role can look at the catalog but not buy. A Global admin or Billing admin can." in text
    before = written()
    response = client.post(URL, {"sku": "SPB", "licenses": "2", "term": "P1Y", "billing_frequency": "monthly",
                                 "payment_method": str(card.pk), "order_token": token_of(page)})
    assert response.status_code == 403
    assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "status", "error"), [
    ("licenses", "٤", 422, ("licenses-error", "Enter a whole number of licenses from 1 to 300.")),
    ("licenses", "0", 422, ("licenses-error", "Enter a whole number of licenses from 1 to 300.")),
    ("licenses", str(2**63), 422, ("licenses-error", "Enter a whole number of licenses from 1 to 300.")),
    ("term", "P2Y", 422, ("term-error", "Choose a subscription length: 1 month, 1 year or 3 years.")),
    ("billing_frequency", "weekly", 422, ("billing_frequency-error", "Choose monthly or annual billing.")),
    ("billing_frequency", "annual", 422, ("billing_frequency-error",
                                          "Microsoft 365 Business Premium isn't sold for 3 years billed monthly.")),
    ("payment_method", "", 422, ("payment-error", "Choose or add a payment method.")),
    ("payment_method", "٤", 422, ("payment-error", "Choose one of your organization's payment methods.")),
    ("order_token", "", 422, ("form-error", "This order form has expired. Check the order and choose Buy again.")),
    ("order_token", "\u202e" + "0" * 36, 422, ("form-error", "This order form has expired. Check the order and "
                                                             "choose Buy again.")),
    ("sku", "NOPE", 422, ("sku-error", "Choose a product from the catalog.")),
])
def test_each_refused_value_is_a_4xx_with_the_reason_beside_its_field(client, contoso, field, value, status, error):
    tenant, card, _std = contoso
    form = {**order_form(client, "SPB", licenses="2"), "payment_method": str(card.pk)}
    if (field, value) == ("billing_frequency", "annual"):  # the catalog sells P3Y billed annually only
        form = {**form, "term": "P3Y", "billing_frequency": "monthly"}
        value = "monthly"
    before = written()
    response = client.post(URL, {**form, field: value})
    assert response.status_code == status
    testid, message = error
    assert re.search(rf'(id|data-testid)="{testid}"[^>]*>{re.escape(message)}', html.unescape(response.content.decode())), \
        page_text(response)
    assert written() == before


@pytest.mark.django_db
def test_another_organizations_card_is_refused(client, contoso):
    elsewhere = PaymentMethodFactory(tenant=TenantFactory(), last4="1111")
    form = order_form(client, "SPB", licenses="2")
    before = written()
    response = client.post(URL, {**form, "payment_method": str(elsewhere.pk)})
    assert response.status_code == 422
    assert "Choose one of your organization's payment methods." in page_text(response)
    assert written() == before


@pytest.mark.django_db
def test_an_unknown_product_in_the_address_is_404(client, contoso):
    assert client.get(URL, {"sku": "NOPE"}).status_code == 404
    assert client.get(URL, {"sku": "SPB", "licenses": "x"}).status_code == 400


@pytest.mark.django_db
def test_the_page_in_swedish(client, contoso):
    page = client.get(URL, {"sku": "SPB", "licenses": "2"}, HTTP_ACCEPT_LANGUAGE="sv")
    text = page_text(page)
    assert "Fakturering › Köp tjänster" in text
    assert "Fakturering Köp tjänster Dina produkter" in text
    assert "Totalt 46,20 US$" in text
    assert '<button type="submit" class="primary">Köp</button>' in page.content.decode()
    refused = client.post(URL, {"sku": "SPB", "licenses": "301", "term": "P1Y", "billing_frequency": "monthly",
                                "order_token": token_of(page)}, HTTP_ACCEPT_LANGUAGE="sv")
    assert "Microsoft 365 Business Premium tillåter 1 till 300 licenser." in page_text(refused)


@pytest.mark.django_db
def test_a_subscription_bought_elsewhere_with_the_same_token_does_not_count(client, contoso):
    """The token is one tenant's: the same value in another organization's order is a different order."""
    tenant, card, _std = contoso
    form = {**order_form(client, "SPB", licenses="2"), "payment_method": str(card.pk)}
    other = SubscriptionFactory(order_token=form["order_token"])
    response = client.post(URL, form)
    sub = Subscription.objects.get(tenant=tenant, product__sku="SPB")
    assert response["Location"] == f"/billing/products/{sub.pk}/" and sub.pk != other.pk
