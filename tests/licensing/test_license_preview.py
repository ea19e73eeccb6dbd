"""What changes, per user, before anything moves: Replace by hand (API and service) and an
automatic change's preview. Exact for mixed disabled plans and users holding two subscriptions."""

import pytest
from rest_framework.test import APIClient

from licensing.models import LicenseAssignment
from licensing.services import license_replace, license_replace_preview
from portal.errors import DomainError
from portal.models import Event
from tests.factories import (
    DirectoryUserFactory,
    LicenseFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import page_text, reviewed

pytestmark = pytest.mark.django_db

PREMIUM_ONLY = ["Microsoft Defender for Business", "Microsoft Entra ID P1", "Exchange Online Archiving",
                "Microsoft Intune", "Microsoft 365 Apps for business"]


@pytest.fixture
def mixed(at_date):
    """Business Premium → Business Basic by hand, four users who differ:
    alice: Premium with everything on;
    bob: Premium with Viva Engage and Intune turned off;
    carol: Premium with its archive turned off, and Exchange Online (Plan 2), which keeps her archive on;
    dave: Premium and already a Basic license with Teams turned off (he keeps that license)."""
    at_date("2026-06-15")
    tenant = TenantFactory(domain="fabrikam.example")
    premium = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=5)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=4)
    exchange = SubscriptionFactory(tenant=tenant, product=product("EXCHANGEENTERPRISE"), licenses=2)
    users = {name: DirectoryUserFactory(tenant=tenant, upn=f"{name}@fabrikam.example", display_name=name.title())
             for name in ("alice", "bob", "carol", "dave")}
    LicenseFactory(subscription=premium, user=users["alice"])
    LicenseFactory(subscription=premium, user=users["bob"], disabled_plans=["YAMMER_ENTERPRISE", "INTUNE_A"])
    LicenseFactory(subscription=premium, user=users["carol"], disabled_plans=["EXCHANGE_S_ARCHIVE_ADDON"])
    LicenseFactory(subscription=exchange, user=users["carol"])
    LicenseFactory(subscription=premium, user=users["dave"])
    LicenseFactory(subscription=basic, user=users["dave"], disabled_plans=["TEAMS1"])
    return tenant, premium, basic, users


EXPECTED = {
    "alice@fabrikam.example": {"gained": [], "lost": PREMIUM_ONLY, "reset_disabled_plans": [],
                               "data_lost": ["Exchange Online Archiving"]},
    # Viva Engage was off and Business Basic has it: on again (the setting isn't kept). Intune was off and
    # Basic hasn't it: neither lost nor reset.
    "bob@fabrikam.example": {"gained": ["Viva Engage"],
                             "lost": ["Microsoft Defender for Business", "Microsoft Entra ID P1",
                                      "Exchange Online Archiving", "Microsoft 365 Apps for business"],
                             "reset_disabled_plans": ["Viva Engage"], "data_lost": ["Exchange Online Archiving"]},
    # Her Exchange Online (Plan 2) license keeps the archive (on all along: not "turned back on") and a higher
    # Exchange: no data lost.
    "carol@fabrikam.example": {"gained": [], "lost": ["Microsoft Defender for Business", "Microsoft Entra ID P1",
                                                      "Microsoft Intune", "Microsoft 365 Apps for business"],
                               "reset_disabled_plans": [], "data_lost": []},
    # He keeps his own Basic license, Teams off: moving away from Premium loses Teams too.
    "dave@fabrikam.example": {"gained": [], "lost": [*PREMIUM_ONLY, "Microsoft Teams"], "reset_disabled_plans": [],
                              "data_lost": ["Exchange Online Archiving"]},
}


def test_the_preview_is_exact_per_user(mixed):
    tenant, premium, basic, users = mixed
    preview = license_replace_preview(tenant=tenant, from_subscription_id=premium.pk, to_subscription_id=basic.pk,
                                      upns=[u.upn for u in users.values()])
    assert {c.upn: {k: v for k, v in c.as_dict().items() if k != "upn"} for c in preview.users} == EXPECTED
    assert [c.upn for c in preview.users] == sorted(EXPECTED)
    assert preview.count == 4
    assert preview.data_lost == ("Exchange Online Archiving",)
    assert preview.backup_required
    # alice, bob and carol need a Basic license; dave has one. Basic has 4 - 1 = 3 unassigned.
    assert preview.missing == 0
    assert sorted(count for _change, count in preview.groups) == [1, 1, 1, 1]


def test_replace_refuses_without_the_backup_confirmation_and_moves_nothing(mixed):
    tenant, premium, basic, users = mixed
    before = sorted(LicenseAssignment.objects.values_list("user__upn", "subscription_id"))
    with pytest.raises(DomainError) as refused:
        license_replace(tenant=tenant, from_subscription_id=premium.pk, to_subscription_id=basic.pk,
                        upns=[u.upn for u in users.values()], actor="admin@fabrikam.example")
    assert refused.value.code == "backup_required"
    assert refused.value.extra["services"] == ["Exchange Online Archiving"]
    assert str(refused.value.detail) == (
        "Moving these users to Microsoft 365 Business Basic deletes their data of: Exchange Online Archiving. "
        "Back up the data you want to keep, then confirm that you have. Nothing was changed.")
    assert sorted(LicenseAssignment.objects.values_list("user__upn", "subscription_id")) == before


def test_a_user_who_keeps_the_data_elsewhere_needs_no_backup(mixed):
    tenant, premium, basic, users = mixed
    assert license_replace(tenant=tenant, from_subscription_id=premium.pk, to_subscription_id=basic.pk,
                           upns=[users["carol"].upn], actor="admin@fabrikam.example") == 1
    assert sorted(users["carol"].licenses.values_list("subscription__product__sku", flat=True)) == [
        "EXCHANGEENTERPRISE", "O365_BUSINESS_ESSENTIALS"]


def test_replace_with_the_confirmation_moves_everyone_and_audits_what_was_reset(mixed):
    tenant, premium, basic, users = mixed
    assert license_replace(tenant=tenant, from_subscription_id=premium.pk, to_subscription_id=basic.pk,
                           upns=[u.upn for u in users.values()], actor="admin@fabrikam.example",
                           backup_confirmed=True) == 4
    premium.refresh_from_db()
    basic.refresh_from_db()
    assert (premium.assigned_licenses, basic.assigned_licenses) == (0, 4)
    assert dict(LicenseAssignment.objects.filter(subscription=basic).values_list("user__upn", "disabled_plans")) == {
        "alice@fabrikam.example": [], "bob@fabrikam.example": [], "carol@fabrikam.example": [],
        "dave@fabrikam.example": ["TEAMS1"]}
    event = Event.objects.get(verb="licenses.replaced")
    assert event.data == {"users": sorted(EXPECTED), "from": premium.pk, "to": basic.pk,
                          "reset_disabled_plans": {"bob@fabrikam.example": ["Viva Engage"]},
                          "data_lost": ["Exchange Online Archiving"], "backup_confirmed": True}


def _api(tenant, role="global_admin"):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant, role))}")
    return api


def test_the_api_previews_and_requires_backup_confirmed(mixed):
    tenant, premium, basic, users = mixed
    body = {"users": [u.upn for u in users.values()], "from_subscription": premium.pk, "to_subscription": basic.pk}
    reader = _api(tenant, "global_reader")
    answer = reader.post("/api/v1/licenses/preview/", body, format="json")
    assert answer.status_code == 200
    data = answer.json()
    assert {u.pop("upn"): u for u in data["users"]} == EXPECTED
    assert (data["count"], data["data_lost"], data["backup_required"], data["missing"]) == (
        4, ["Exchange Online Archiving"], True, 0)
    assert reader.post("/api/v1/licenses/replace/", {**body, "backup_confirmed": True},
                       format="json").status_code == 403
    admin = _api(tenant)
    refused = admin.post("/api/v1/licenses/replace/", body, format="json")
    assert (refused.status_code, refused.json()["code"], refused.json()["services"]) == (
        422, "backup_required", ["Exchange Online Archiving"])
    assert admin.post("/api/v1/licenses/replace/", {**body, "backup_confirmed": "yes"},
                      format="json").status_code == 400
    done = admin.post("/api/v1/licenses/replace/", {**body, "backup_confirmed": True}, format="json")
    assert (done.status_code, done.json()) == (200, {"count": 4})


def test_the_api_preview_of_another_tenants_subscription_is_404(mixed):
    tenant, premium, basic, users = mixed
    other = SubscriptionFactory(tenant=TenantFactory())
    answer = _api(tenant).post("/api/v1/licenses/preview/", {"users": [users["alice"].upn],
                                                             "from_subscription": premium.pk,
                                                             "to_subscription": other.pk}, format="json")
    assert answer.status_code == 404


def test_short_of_licenses_says_how_many_are_missing(mixed):
    tenant, premium, basic, users = mixed
    basic.licenses = 2  # dave holds one: one left for alice, bob and carol
    basic.save(update_fields=["licenses"])
    preview = license_replace_preview(tenant=tenant, from_subscription_id=premium.pk, to_subscription_id=basic.pk,
                                      upns=[u.upn for u in users.values()])
    assert preview.missing == 2
    with pytest.raises(DomainError) as refused:
        license_replace(tenant=tenant, from_subscription_id=premium.pk, to_subscription_id=basic.pk,
                        upns=[u.upn for u in users.values()], actor="a", backup_confirmed=True)
    assert (refused.value.code, str(refused.value.detail)) == ("not_enough_licenses", (
        "3 licenses are needed but only 1 are available on Microsoft 365 Business Basic: buy 2 more, or choose "
        "fewer users. Nothing was changed."))


def test_an_automatic_change_preview_lists_each_users_change(at_date):
    at_date("2026-06-16")
    tenant, _card, standard, _users = mosa_standard(licenses=3)
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant, upn="ann@contoso.example"))
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant, upn="ben@contoso.example"),
                   disabled_plans=["TEAMS1"])
    quote = _api(tenant).post("/api/v1/plan-changes/preview/", {"subscription": standard.pk, "target_sku": "SPB"},
                              format="json").json()
    gained = ["Microsoft Defender for Business", "Microsoft Entra ID P1", "Exchange Online Archiving",
              "Microsoft Intune"]
    assert quote["users"] == [
        {"upn": "ann@contoso.example", "gained": gained, "lost": [], "reset_disabled_plans": [], "data_lost": []},
        {"upn": "ben@contoso.example", "gained": [*gained, "Microsoft Teams"], "lost": [],
         "reset_disabled_plans": ["Microsoft Teams"], "data_lost": []},
    ]
    assert (quote["users_count"], quote["data_lost"]) == (2, [])
    assert sorted(g["users"] for g in quote["user_groups"]) == [1, 1]


def test_the_page_reviews_each_user_and_requires_the_backup(client, mixed):
    tenant, premium, basic, users = mixed
    client.force_login(admin_of(tenant))
    body = {"action": "replace", "subscription": premium.pk, "to_subscription": basic.pk,
            "users": [u.upn for u in users.values()], "next": "/users/?pane=licenses"}
    review = client.post("/users/licenses/", body)
    text = page_text(review)
    assert review.status_code == 200
    assert ("Microsoft 365 Business Basic has fewer data-related services: the users lose the data of Exchange "
            "Online Archiving.") in text
    assert ("bob@fabrikam.example Viva Engage Microsoft Defender for Business, Microsoft Entra ID P1, Exchange Online "
            "Archiving, Microsoft 365 Apps for business Viva Engage Exchange Online Archiving") in text
    assert "I have backed up the data" in text
    before = sorted(LicenseAssignment.objects.values_list("user__upn", "subscription_id"))
    refused = client.post("/users/licenses/", {**body, "step": "confirm", "reviewed": reviewed(review)})
    assert refused.status_code == 200
    assert "deletes their data of: Exchange Online Archiving. Back up the data you want to keep" in page_text(refused)
    assert sorted(LicenseAssignment.objects.values_list("user__upn", "subscription_id")) == before
    done = client.post("/users/licenses/", {**body, "step": "confirm", "backup_confirmed": "yes",
                                            "reviewed": reviewed(review)})
    assert done.status_code == 302
    assert premium.assignments.count() == 0


def test_checkout_shows_what_changes_for_each_user(client, at_date):
    at_date("2026-06-16")
    tenant, _card, standard, _users = mosa_standard(licenses=3)
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant, upn="ann@contoso.example"))
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant, upn="ben@contoso.example"),
                   disabled_plans=["TEAMS1"])
    client.force_login(admin_of(tenant))
    text = page_text(client.get(f"/billing/products/{standard.pk}/upgrades/SPB/checkout/"))
    gained = ("Microsoft Defender for Business, Microsoft Entra ID P1, Exchange Online Archiving, Microsoft Intune")
    assert "What changes for your users 2 users move." in text
    assert f"1 user: gain {gained} 1 user: gain {gained}, Microsoft Teams · turned back on: Microsoft Teams" in text
    assert f"ben@contoso.example {gained}, Microsoft Teams — Microsoft Teams —" in text


def test_the_mca_pane_shows_what_changes_for_each_user(client, at_date):
    from tests.factories import BillingProfileFactory

    at_date("2026-06-16")
    tenant = TenantFactory(agreement="MCA", domain="mca.example")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice")
    standard = SubscriptionFactory(tenant=tenant, licenses=3, billing_profile=profile, payment="invoice")
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant, upn="eva@mca.example"),
                   disabled_plans=["SHAREPOINTWAC"])
    client.force_login(admin_of(tenant))
    text = page_text(client.get(f"/billing/products/{standard.pk}/change/", {"target_sku": "SPB"}))
    assert "What changes for your users 1 user moves." in text
    assert "turned back on: Office for the web" in text


def test_a_backup_confirmation_covers_only_what_was_reviewed(mixed):
    """Carol keeps her archive through Exchange Online (Plan 2), so her review shows no data lost. If that
    license goes before she is moved, the confirmation of the old review moves nobody (409)."""
    tenant, premium, basic, users = mixed
    api = _api(tenant)
    body = {"users": [users["carol"].upn], "from_subscription": premium.pk, "to_subscription": basic.pk}
    shown = api.post("/api/v1/licenses/preview/", body, format="json").json()
    assert (shown["data_lost"], len(shown["digest"])) == ([], 32)
    exchange = users["carol"].licenses.get(subscription__product__sku="EXCHANGEENTERPRISE").subscription
    assert api.post("/api/v1/licenses/unassign/", {"users": [users["carol"].upn], "subscription": exchange.pk},
                    format="json").status_code == 200
    late = api.post("/api/v1/licenses/replace/", {**body, "backup_confirmed": True, "reviewed": shown["digest"]},
                    format="json")
    assert (late.status_code, late.json()["code"]) == (409, "review_outdated")
    assert users["carol"].licenses.filter(subscription=premium).exists()
    again = api.post("/api/v1/licenses/preview/", body, format="json").json()
    assert again["data_lost"] == ["Exchange Online Archiving"]
    done = api.post("/api/v1/licenses/replace/", {**body, "backup_confirmed": True, "reviewed": again["digest"]},
                    format="json")
    assert done.status_code == 200
