"""The unassign review says what each user loses, counting the licenses they keep: a service a user also has
through another license isn't lost, and the review says which those are."""

import pytest

from tests.factories import DirectoryUserFactory, LicenseFactory, SubscriptionFactory, TenantFactory, admin_of, product
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

ALL = ("Exchange Online (Plan 1), Microsoft 365 Apps for business, Office for the web, SharePoint (Plan 1), "
       "Microsoft Teams, Viva Engage")
KEPT = "Exchange Online (Plan 1), Office for the web, SharePoint (Plan 1), Microsoft Teams, Viva Engage"


@pytest.fixture
def two_licenses(client, at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="contoso.example")
    std = SubscriptionFactory(tenant=tenant, licenses=3)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=3)
    alice = DirectoryUserFactory(tenant=tenant, upn="alice@contoso.example")
    bob = DirectoryUserFactory(tenant=tenant, upn="bob@contoso.example")
    LicenseFactory(subscription=std, user=alice)
    LicenseFactory(subscription=basic, user=alice)
    LicenseFactory(subscription=std, user=bob)
    client.force_login(admin_of(tenant))
    return std, alice, bob


def test_a_user_keeps_the_services_of_another_license_and_the_review_says_so(client, two_licenses):
    std, alice, bob = two_licenses
    review = client.post("/users/licenses/", {"action": "unassign", "subscription": std.pk,
                                              "users": [alice.upn, bob.upn]})
    text = page_text(review)
    assert ("2 users lose the license of Microsoft 365 Business Standard at once, and with it each service they "
            "don't also have through another license:") in text
    assert ("alice@contoso.example loses Microsoft 365 Apps for business; keeps through another license: "
            f"{KEPT}") in text
    assert f"bob@contoso.example loses {ALL}" in text
    assert "and with it the services it gives" not in text
    swedish = page_text(client.post("/users/licenses/", {"action": "unassign", "subscription": std.pk,
                                                         "users": [alice.upn]}, HTTP_ACCEPT_LANGUAGE="sv"))
    assert ("1 användare förlorar licensen för Microsoft 365 Business Standard direkt, och med den varje tjänst som "
            "användaren inte också har genom en annan licens:") in swedish
    assert ("alice@contoso.example förlorar Microsoft 365 Apps for business; behåller genom en annan licens: "
            f"{KEPT}") in swedish
