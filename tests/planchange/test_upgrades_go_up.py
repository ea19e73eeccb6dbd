"""Upgrades are upgrades (DESIGN.md "Eligibility", per target): Available upgrades and the API offer only
plans with a higher list price per license that keep every data-related service; a plan that costs less is
the manual path for a MOSA admin and the renewal only for an MCA admin (the pane says so); Available
upgrades is one card per product: what it adds against the current plan, its price, one Upgrade button."""

import pytest

from planchange.models import PlanChange
from tests.factories import (
    BillingProfileFactory,
    admin_of,
    mca_subscription,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def mosa(client, at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=3)
    client.force_login(admin_of(tenant))
    return tenant, std


@pytest.fixture
def mca(client, at_date):
    at_date("2026-06-16")
    profile = BillingProfileFactory()
    sub = mca_subscription(profile, licenses=10)
    client.force_login(admin_of(profile.tenant))
    return profile.tenant, sub


def _api(api, tenant):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return api


def _post(api, body, key):
    return api.post("/api/v1/plan-changes/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_api_offers_only_dearer_plans_and_says_why_a_cheaper_one_is_not_an_upgrade(api, mosa):
    tenant, std = mosa
    body = _api(api, tenant).get(f"/api/v1/subscriptions/{std.pk}/upgrades/").json()
    supported = [u["sku"] for u in body["upgrades"] if u["supported"]]
    assert supported == ["SPB", "ENTERPRISEPACK", "SPE_E3", "ENTERPRISEPREMIUM", "SPE_E5"]
    basic = next(u for u in body["upgrades"] if u["sku"] == "O365_BUSINESS_ESSENTIALS")
    assert (basic["supported"], basic["upgrade"], basic["renewal_only"]) == (False, False, False)
    (reason,) = basic["reasons"]
    assert reason["code"] == "target_not_upgrade"
    assert reason["title"] == "The plan that you want to change to isn't an upgrade."
    assert reason["detail"] == ("Microsoft 365 Business Basic costs USD 6.30 per license a month, less than "
                                "Microsoft 365 Business Standard (USD 13.13): it isn't an upgrade.")
    assert reason["action"] == {"label": "Change plans manually",
                                "url": f"/billing/change-plans-manually/?from={std.pk}"}
    premium = next(u for u in body["upgrades"] if u["sku"] == "SPB")
    assert (premium["upgrade"], premium["renewal_only"]) == (True, False)
    assert premium["gains"] == ["Exchange Online Archiving", "Microsoft Defender for Business",
                                "Microsoft Entra ID P1", "Microsoft Intune"]


def test_ordering_a_cheaper_plan_now_is_refused_with_the_reason_and_changes_nothing(api, mosa):
    tenant, std = mosa
    answer = _post(_api(api, tenant), {"subscription": std.pk, "target_sku": "STANDARDPACK"}, "e1")
    assert answer.status_code == 422
    assert [b["code"] for b in answer.json()["blockers"]] == ["target_not_upgrade"]
    assert not PlanChange.objects.exists()


def test_available_upgrades_is_one_card_per_product_with_its_gains_price_and_one_button(client, mosa):
    tenant, std = mosa
    page = client.get(f"/billing/products/{std.pk}/upgrades/")
    html = page.content.decode()
    assert html.count('class="card target"') == 5
    assert html.count(">Upgrade<") == 5
    body = page_text(page)
    assert ("Microsoft 365 Business Premium Adds Exchange Online Archiving, Microsoft Defender for Business, "
            "Microsoft Entra ID P1, Microsoft Intune USD 23.10 license/month Upgrade") in body
    assert f'href="/billing/products/{std.pk}/upgrades/SPB/checkout/"' in html
    # The cheaper plans: not upgrades, sent to the manual path.
    assert ("Microsoft 365 Business Basic — Microsoft 365 Business Basic costs USD 6.30 per license a month, less "
            "than Microsoft 365 Business Standard (USD 13.13): it isn't an upgrade.") in body
    assert "Change plans manually" in body


def test_checkout_of_a_cheaper_plan_sends_back_to_available_upgrades_saying_why(client, mosa):
    tenant, std = mosa
    page = client.get(f"/billing/products/{std.pk}/upgrades/O365_BUSINESS_ESSENTIALS/checkout/", follow=True)
    assert page.redirect_chain[-1][0] == f"/billing/products/{std.pk}/upgrades/"
    assert "Microsoft 365 Business Basic can't be ordered as an automatic change." in page_text(page)


def test_the_mca_pane_offers_a_cheaper_plan_for_the_renewal_only(client, api, mca):
    tenant, std = mca
    page = client.get(f"/billing/products/{std.pk}/change/?target_sku=O365_BUSINESS_ESSENTIALS")
    body = page_text(page)
    assert "Microsoft 365 Business Basic (at renewal only)" in body
    assert "A plan that costs less than your current one takes effect at renewal, never mid-term." in body
    html = page.content.decode()
    assert 'name="schedule" value="renewal" data-requote checked' in html
    now = _post(_api(api, tenant), {"subscription": std.pk, "target_sku": "O365_BUSINESS_ESSENTIALS",
                                    "schedule": "now"}, "now")
    assert now.status_code == 422
    assert [b["code"] for b in now.json()["blockers"]] == ["target_not_upgrade"]
    renewal = _post(api, {"subscription": std.pk, "target_sku": "O365_BUSINESS_ESSENTIALS", "schedule": "renewal"},
                    "renewal")
    assert renewal.status_code == 202, renewal.json()
    assert renewal.json()["status"] == "scheduled"
    body = api.get(f"/api/v1/subscriptions/{std.pk}/upgrades/").json()
    basic = next(u for u in body["upgrades"] if u["sku"] == "O365_BUSINESS_ESSENTIALS")
    assert (basic["supported"], basic["renewal_only"]) == (False, True)


def test_a_cheaper_plan_that_loses_data_is_not_offered_even_at_renewal(api, at_date):
    at_date("2026-06-16")
    profile = BillingProfileFactory()
    tenant = profile.tenant
    premium = mca_subscription(profile, product=product("SPB"), licenses=2)
    answer = _post(_api(api, tenant), {"subscription": premium.pk, "target_sku": "O365_BUSINESS_PREMIUM",
                                       "schedule": "renewal"}, "std")
    assert answer.status_code == 422
    assert [b["code"] for b in answer.json()["blockers"]] == ["target_not_supported"]
