"""Time has a range and never runs backwards: the clock moves up to 2099-12-31; beyond is
422 ``clock_out_of_range`` with nothing committed, and every tenant page still works at the
end of the range."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from portal import clock
from portal.models import Event
from tests.factories import LoginFactory, admin_of, mosa_standard, product, token_for
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(support_api):
    return support_api


@pytest.mark.parametrize("body", [{"to": "9999-12-31"}, {"to": "9999-06-01"}, {"to": "2100-01-01"},
                                  {"days": 3660}, {"business_days": 2600}])
def test_beyond_2099_is_422_and_nothing_moves(staff, body):
    clock.set_date(date(2095, 6, 15))
    events = Event.objects.count()
    response = staff.post("/api/v1/support/clock/", body, format="json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "clock_out_of_range"
    assert response.json()["detail"] == "The simulation clock goes up to 2099-12-31."
    assert clock.today() == date(2095, 6, 15)
    assert Event.objects.count() == events


def test_the_last_day_is_allowed_and_every_page_still_answers(staff, client):
    clock.set_date(date(2090, 6, 15))  # one move goes at most 3,660 days
    tenant, card, std, users = mosa_standard(users=3)
    assert staff.post("/api/v1/support/clock/", {"to": "2099-12-31"}, format="json").json()["today"] == "2099-12-31"
    refused = staff.post("/api/v1/support/clock/", {"days": 1}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (422, "clock_out_of_range")
    admin = admin_of(tenant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    body = api.get(f"/api/v1/subscriptions/{std.pk}/").json()
    assert (body["start_date"], body["renewal_date"]) == ("2026-01-01", "2100-01-01")
    assert api.get(f"/api/v1/subscriptions/{std.pk}/upgrades/").status_code == 200
    preview = api.post("/api/v1/plan-changes/preview/", {"subscription": std.pk, "target_sku": "SPB"}, format="json")
    assert preview.status_code == 200, preview.json()
    client.force_login(admin)
    for url in ("/", "/billing/products/", f"/billing/products/{std.pk}/", f"/billing/products/{std.pk}/upgrades/",
                "/billing/bills/", "/users/", "/health/"):
        assert client.get(url).status_code == 200, url


def test_the_support_console_says_why_in_swedish(client):
    clock.set_date(date(2099, 12, 30))
    client.force_login(LoginFactory(is_staff=True))
    response = client.post("/support/clock/", {"how": "days", "value": "5"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="sv")
    assert "Simuleringsklockan går till och med 2099-12-31." in page_text(response)
    assert clock.today() == date(2099, 12, 30)
    assert product("SPB")  # the catalog is untouched


def test_one_move_goes_at_most_ten_years(staff):
    clock.set_date(date(2026, 6, 15))
    far = staff.post("/api/v1/support/clock/", {"to": "2036-06-23"}, format="json")
    assert (far.status_code, far.json()["code"]) == (422, "clock_move_too_far")
    assert clock.today() == date(2026, 6, 15)
    assert staff.post("/api/v1/support/clock/", {"to": "2036-06-22"}, format="json").status_code == 200


def test_dry_run_takes_only_json_true_or_false(staff):
    clock.set_date(date(2026, 6, 15))
    for value in ("false", "true", 0, 1, None):
        answer = staff.post("/api/v1/support/clock/", {"days": 1, "dry_run": value}, format="json")
        assert answer.status_code == 400, value
    assert clock.today() == date(2026, 6, 15)
