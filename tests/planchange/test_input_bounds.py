"""Numbers at the doors of plan changes, subscriptions and the clock: ASCII digits only,
bounded, so the database never sees a number it can't hold (DESIGN.md "Integrity")."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription
from planchange.models import PlanChange, Quote
from portal import clock
from portal.models import Event
from tests.factories import (
    BillingProfileFactory,
    LicenseFactory,
    LoginFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic(number) -> str:
    """``4`` → ``٤``: what isdigit() and int() take for a number."""
    return str(number).translate(ARABIC_INDIC)


def written() -> tuple:
    return Quote.objects.count(), PlanChange.objects.count(), Event.objects.count()


@pytest.fixture
def mosa(at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=3)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return tenant, card, std, api


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


def test_patch_licenses_of_2_31_is_400_and_changes_nothing(mosa):
    _, _, std, api = mosa
    response = api.patch(f"/api/v1/subscriptions/{std.pk}/", {"licenses": 2**31}, format="json")
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")
    assert response.json()["errors"] == {"licenses": ["Ensure this value is less than or equal to 1000000."]}
    assert Subscription.objects.get(pk=std.pk).licenses == 25
    assert Event.objects.count() == 0


@pytest.mark.parametrize(("field", "value", "error"), [
    ("subscription", "arabic-id", "A valid integer is required."),
    ("subscription", "4.0", "A valid integer is required."),
    ("subscription", 4.0, "A valid integer is required."),
    ("subscription", True, "A valid integer is required."),
    ("subscription", 2**63, "Ensure this value is less than or equal to 9223372036854775807."),
    ("subscription", 0, "Ensure this value is greater than or equal to 1."),
    ("licenses", "²⁵", "A valid integer is required."),
    ("licenses", 10**30, "Ensure this value is less than or equal to 1000000."),
    ("payment_method", "arabic-card", "A valid integer is required."),
    ("quote_id", -1, "Ensure this value is greater than or equal to 1."),
])
def test_api_integers_are_ascii_and_bounded(mosa, field, value, error):
    _, card, std, api = mosa
    value = {"arabic-id": arabic(std.pk), "arabic-card": arabic(card.pk)}.get(value, value)
    body = {"subscription": std.pk, "target_sku": "SPB", field: value}
    response = api.post("/api/v1/plan-changes/preview/", body, format="json")
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")
    assert response.json()["errors"] == {field: [error]}
    assert written() == (0, 0, 0)


def test_an_id_in_unicode_digits_is_not_the_subscription_it_spells(mosa):
    _, _, std, api = mosa
    response = api.get(f"/api/v1/subscriptions/{arabic(std.pk)}/")
    assert (response.status_code, response["Content-Type"]) == (404, "application/problem+json")
    response = api.patch(f"/api/v1/subscriptions/{arabic(std.pk)}/", {"licenses": 30}, format="json")
    assert (response.status_code, response["Content-Type"]) == (404, "application/problem+json")
    assert Subscription.objects.get(pk=std.pk).licenses == 25


def test_checkout_with_a_payment_method_id_in_unicode_digits_places_no_order(client, mosa):
    tenant, card, std, _ = mosa
    client.force_login(admin_of(tenant))
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                           {"payment_method": arabic(card.pk)})
    assert response.status_code == 200
    assert "Choose one of your organization's payment methods." in page_text(response)
    assert PlanChange.objects.count() == 0


@pytest.mark.parametrize("licenses", ["²⁵", arabic(15), str(10**30), "1000001", "-1"])
def test_the_pane_refuses_licenses_that_arent_a_bounded_ascii_number(client, mca, licenses):
    url = f"/billing/products/{mca.pk}/change/"
    response = client.post(url, {"target_sku": "SPB", "licenses": licenses})
    assert response.status_code == 200
    assert ('data-testid="licenses-error">Enter a whole number of licenses from 1 to 1,000,000.'
            in response.content.decode())
    fragment = client.get(url, {"fragment": "quote", "target_sku": "SPB", "licenses": licenses})
    assert page_text(fragment) == "Enter a whole number of licenses from 1 to 1,000,000."
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(("how", "value", "error"), [
    ("days", "²", "Enter a whole number of days from 1 to 3660."),
    ("days", arabic(4), "Enter a whole number of days from 1 to 3660."),
    ("business_days", "9" * 30, "Enter a whole number of days from 1 to 3660."),
    ("to", "٢٠٢٦-٠٧-٠١", "Enter a date as YYYY-MM-DD."),
    ("to", "2026-W27-3", "Enter a date as YYYY-MM-DD."),
    ("to", "2100-01-01", "The simulation clock goes up to 2099-12-31."),
])
def test_the_support_clock_form_takes_ascii_numbers_and_dates_only(client, at_date, how, value, error):
    at_date("2026-06-15")
    client.force_login(LoginFactory(is_staff=True))
    response = client.post("/support/clock/", {"how": how, "value": value}, follow=True)
    assert error in page_text(response)
    assert clock.today() == date(2026, 6, 15)
    assert Event.objects.count() == 0


@pytest.mark.parametrize(("body", "status", "errors_or_code"), [
    ({"days": arabic(4)}, 400, {"days": ["A valid integer is required."]}),
    ({"to": "٢٠٢٦-٠٧-٠١"}, 400, {"to": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ({"to": "2100-01-01"}, 422, "clock_out_of_range"),
])
def test_the_support_clock_api_takes_ascii_numbers_and_dates_up_to_2099(api, at_date, body, status, errors_or_code):
    at_date("2026-06-15")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(LoginFactory(is_staff=True))}")
    response = api.post("/api/v1/support/clock/", body, format="json")
    assert (response.status_code, response["Content-Type"]) == (status, "application/problem+json")
    if status == 400:
        assert response.json()["errors"] == errors_or_code
    else:
        assert response.json()["code"] == errors_or_code
    assert clock.today() == date(2026, 6, 15)
    assert Event.objects.count() == 0


def test_the_clock_stops_at_2099_12_31_however_it_is_moved(api, at_date):
    at_date("2099-06-01")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(LoginFactory(is_staff=True))}")
    response = api.post("/api/v1/support/clock/", {"days": 3660}, format="json")
    assert (response.status_code, response.json()["code"]) == (422, "clock_out_of_range")
    assert response.json()["detail"] == "The simulation clock goes up to 2099-12-31."
    assert api.post("/api/v1/support/clock/", {"to": "2099-12-31"}, format="json").json()["today"] == "2099-12-31"


@pytest.mark.parametrize("url", [
    "/billing/products/{big}/addons/EXTRA_FILE_STORAGE/remove/", "/billing/invoices/{big}/pay/",
    "/billing/products/{big}/changes/1/cancel/", "/billing/products/{big}/change/",
])
def test_an_id_past_the_databases_integers_is_404_on_a_page(client, mosa, url):
    tenant, _, _, _ = mosa
    client.force_login(admin_of(tenant))
    client.raise_request_exception = False
    for big in (2**63, 10**30):  # <int:…> took them, and the lock query overflowed (a 500)
        assert client.post(url.format(big=big)).status_code == 404
    assert client.get(f"/api/v1/subscriptions/{2**63}/upgrades/").status_code == 404
