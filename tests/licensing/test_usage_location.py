"""Users carry Graph's usageLocation: scenario files set it (``usage_location``), the Users page and the API show it."""

import pytest
from rest_framework.test import APIClient

from licensing.models import DirectoryUser
from portal.models import Tenant
from simulation.scenarios import ScenarioError, scenario_load
from tests.factories import admin_of, token_for
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def _scenario(**user):
    return {"clock": "2026-06-15", "tenants": [{
        "name": "Tiny", "domain": "tiny.example",
        "payment_methods": [{"key": "c", "kind": "card", "last4": "1111"}],
        "admins": [{"username": "a@tiny.example", "roles": ["global_admin"]}],
        "subscriptions": [{"key": "basic", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 5}],
        "users": [{"upn": "ann@tiny.example", "display_name": "Ann", "licenses": [{"subscription": "basic"}], **user}],
        "generate_users": [{"count": 2, "subscription": "basic", "usage_location": "NO"}],
    }]}


def test_a_scenario_gives_users_their_usage_location():
    scenario_load(_scenario(usage_location="SE"))
    assert dict(DirectoryUser.objects.values_list("upn", "usage_location")) == {
        "ann@tiny.example": "SE", "user1@tiny.example": "NO", "user2@tiny.example": "NO"}


def test_a_user_without_one_has_none():
    scenario_load(_scenario())
    assert DirectoryUser.objects.get(upn="ann@tiny.example").usage_location == ""


@pytest.mark.parametrize("bad", ["se", "SWE", "S", "1A"])
def test_a_usage_location_is_two_capital_letters(bad):
    with pytest.raises(ScenarioError) as refused:
        scenario_load(_scenario(usage_location=bad))
    assert any(e.startswith("tenants[0].users[0].usage_location:") for e in refused.value.errors)
    assert not DirectoryUser.objects.exists()


def test_the_users_page_and_the_api_show_it(client):
    scenario_load(_scenario(usage_location="SE"))
    tenant = Tenant.objects.get(domain="tiny.example")
    admin = admin_of(tenant)
    client.force_login(admin)
    text = page_text(client.get("/users/"))
    assert "Usage location" in text
    assert "Ann ann@tiny.example SE Microsoft 365 Business Basic" in text
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    users = api.get("/api/v1/users/", {"search": "ann"}).json()["results"]
    assert [(u["upn"], u["usage_location"]) for u in users] == [("ann@tiny.example", "SE")]
