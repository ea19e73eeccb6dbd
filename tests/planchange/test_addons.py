"""Add-ons removed and added back (the article: "remove the add-on ... you can add it back later if
you still need it"): through the API and the subscription page, each step confirmed on the page,
every refusal with its reason and nothing written."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription, SubscriptionAddOn
from billing.services import subscription_addon_add, subscription_addon_remove
from planchange import workflow
from planchange.eligibility import eligibility_check
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal.errors import NotFound
from portal.models import Event
from tests.factories import (
    BillingProfileFactory,
    PlanChangeFactory,
    SubscriptionFactory,
    addon,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


@pytest.fixture
def contoso(at_date):
    """Business Standard with Audio Conferencing (blocks a plan change) and Extra File Storage."""
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard(users=3)
    for code in ("AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"):
        std.subscription_addons.create(addon=addon(code), added_on=date(2026, 1, 1))
    return tenant, std, client_for(admin_of(tenant))


def codes_on(sub) -> list[str]:
    return sorted(SubscriptionAddOn.objects.filter(subscription=sub).values_list("addon__code", flat=True))


def addon_events(tenant) -> list[tuple]:
    return [(e.verb, e.object_id, e.data) for e in Event.objects.filter(
        tenant=tenant, verb__in=["subscription.addon_removed", "subscription.addon_added"]).order_by("pk")]


def writes() -> tuple:
    return SubscriptionAddOn.objects.count(), Event.objects.count()


# --- The API ----------------------------------------------------------------------------------


def test_an_addon_removed_is_added_back_and_blocks_the_plan_change_again(contoso):
    tenant, std, api = contoso
    assert api.delete(f"/api/v1/subscriptions/{std.pk}/addons/AUDIO_CONFERENCING/").status_code == 204
    assert eligibility_check(subscription=std).can_change_automatically is True
    response = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "AUDIO_CONFERENCING"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["id"], body["sku"], body["change_in_progress"], sorted(body["addons"])) == (
        std.pk, "O365_BUSINESS_PREMIUM", False, ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"])
    assert codes_on(std) == ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    assert SubscriptionAddOn.objects.get(subscription=std, addon__code="AUDIO_CONFERENCING").added_on == date(
        2026, 6, 16)
    assert [b.code for b in eligibility_check(subscription=std).blockers] == ["addon_present"]
    assert addon_events(tenant) == [
        ("subscription.addon_removed", str(std.pk), {"addon": "AUDIO_CONFERENCING"}),
        ("subscription.addon_added", str(std.pk), {"addon": "AUDIO_CONFERENCING", "blocks_plan_change": True}),
    ]
    actor = Event.objects.get(verb="subscription.addon_added").actor
    assert actor == tenant.memberships.get().user.username


def test_the_answer_lists_the_addon_added_back(contoso):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    body = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json").json()
    assert sorted(body["addons"]) == ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    assert sorted(api.get(f"/api/v1/subscriptions/{std.pk}/").json()["addons"]) == sorted(body["addons"])


@pytest.mark.parametrize(("code", "status", "problem"), [
    ("AUDIO_CONFERENCING", 409, "addon_present_already"),  # still on the subscription
    ("EXCHANGE_ARCHIVING_ADDON", 409, "addon_not_restorable"),  # in the catalog, never on it
    ("NO_SUCH_ADDON", 404, "addon_not_found"),
])
def test_only_an_addon_that_was_removed_can_be_added_back(contoso, code, status, problem):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    before = writes()
    response = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": code}, format="json")
    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        status, "application/problem+json", problem)
    assert writes() == before
    assert codes_on(std) == ["AUDIO_CONFERENCING"]


def test_a_refusal_says_why_and_what_can_be_added_back(contoso):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    body = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "EXCHANGE_ARCHIVING_ADDON"},
                    format="json").json()
    assert body["detail"] == (
        "Exchange Online Archiving add-on can't be added back to Microsoft 365 Business Standard: only an add-on "
        "removed from this subscription, or from the one a plan change replaced with it, can be added back.")
    assert body["can_add_back"] == ["EXTRA_FILE_STORAGE"]
    present = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "AUDIO_CONFERENCING"}, format="json",
                       HTTP_ACCEPT_LANGUAGE="sv").json()
    assert present["detail"] == "Microsoft 365 Business Standard har redan Microsoft 365 Audio Conferencing."


@pytest.mark.parametrize("body", [
    {}, {"code": ""}, {"code": None}, {"code": 123}, {"code": ["AUDIO_CONFERENCING"]},
    {"code": "audio_conferencing"}, {"code": " AUDIO_CONFERENCING"}, {"code": "AUDIO_CONFERENCING\n"},
    {"code": "A" * 65}, {"code": "AUDIO-CONFERENCING"}, {"code": "ＡUDIO_CONFERENCING"},
])
def test_the_code_is_a_short_string_of_capitals_digits_and_underscores(contoso, body):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/AUDIO_CONFERENCING/")
    before = writes()
    response = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "code" in response.json()["errors"]
    assert writes() == before


@pytest.mark.parametrize("code", ["AUDIO_CONFERENCING\x00", "A" * 300, "audio_conferencing", ["AUDIO_CONFERENCING"],
                                  None, 7])
def test_the_services_hold_their_own_bound_on_the_code(contoso, code):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    before = writes()
    for service in (subscription_addon_add, subscription_addon_remove):
        with pytest.raises(NotFound) as refused:
            service(tenant=tenant, subscription_id=std.pk, code=code, actor="script")
        assert refused.value.code == "addon_not_found"
    assert writes() == before


def test_while_a_change_is_under_way_nothing_is_added_back(contoso):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    PlanChangeFactory(subscription=std, status="running")
    before = writes()
    response = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "change_in_progress")
    assert writes() == before


def test_only_an_active_subscription_gets_an_addon_back(contoso):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    Subscription.objects.filter(pk=std.pk).update(status="expired", status_until=date(2026, 7, 16))
    before = writes()
    response = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "subscription_not_active")
    assert writes() == before


def test_another_tenants_subscription_is_a_404(contoso):
    tenant, std, api = contoso
    foreign = SubscriptionFactory(product=product("SPB"))
    foreign.subscription_addons.create(addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    client_for(admin_of(foreign.tenant)).delete(f"/api/v1/subscriptions/{foreign.pk}/addons/EXTRA_FILE_STORAGE/")
    before = writes()
    response = api.post(f"/api/v1/subscriptions/{foreign.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "subscription_not_found")
    assert writes() == before
    assert codes_on(foreign) == []


@pytest.mark.parametrize("role", ["global_reader", "license_admin", "user_admin", "service_support_admin"])
def test_a_role_that_may_not_change_billing_gets_403(contoso, role):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    before = writes()
    reader = client_for(admin_of(tenant, role))
    response = reader.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert reader.delete(f"/api/v1/subscriptions/{std.pk}/addons/AUDIO_CONFERENCING/").status_code == 403
    assert writes() == before


def test_a_billing_admin_adds_back(contoso):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/EXTRA_FILE_STORAGE/")
    billing = client_for(admin_of(tenant, "billing_admin"))
    response = billing.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json")
    assert response.status_code == 201


# --- After a plan change: the article's case ----------------------------------------------------


def test_the_addons_of_the_replaced_subscription_can_be_added_to_the_new_one(contoso):
    """Remove the blocking add-on, change plans, then add it back to the new plan. Extra File Storage
    (it doesn't block) stayed on the old subscription when it was cancelled: it can come over too."""
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/AUDIO_CONFERENCING/")
    change = plan_change_request(tenant=tenant, user=tenant.memberships.get().user, subscription_id=std.pk,
                                 target_sku="SPB")
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    new = change.new_subscription
    assert codes_on(new) == []
    for code in ("AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"):
        response = api.post(f"/api/v1/subscriptions/{new.pk}/addons/", {"code": code}, format="json")
        assert response.status_code == 201, response.json()
    assert codes_on(new) == ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    # The old subscription is cancelled: nothing is added to it.
    response = api.post(f"/api/v1/subscriptions/{std.pk}/addons/", {"code": "AUDIO_CONFERENCING"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "subscription_not_active")
    # A subscription no change made has no history to add back from.
    other = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"))
    response = api.post(f"/api/v1/subscriptions/{other.pk}/addons/", {"code": "AUDIO_CONFERENCING"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "addon_not_restorable")


def test_a_blocking_addon_is_refused_while_a_change_is_scheduled(at_date):
    """MCA, a change scheduled for renewal: the add-on would make it fail on its date."""
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2025, 10, 1))
    for code in ("AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"):
        sub.subscription_addons.create(addon=addon(code), added_on=date(2025, 10, 1))
    api = client_for(admin_of(profile.tenant))
    api.delete(f"/api/v1/subscriptions/{sub.pk}/addons/AUDIO_CONFERENCING/")
    api.delete(f"/api/v1/subscriptions/{sub.pk}/addons/EXTRA_FILE_STORAGE/")
    change = plan_change_request(tenant=profile.tenant, user=profile.tenant.memberships.get().user,
                                 subscription_id=sub.pk, target_sku="SPB", schedule="renewal")
    before = writes()
    response = api.post(f"/api/v1/subscriptions/{sub.pk}/addons/", {"code": "AUDIO_CONFERENCING"}, format="json")
    assert (response.status_code, response.json()["code"], response.json()["plan_change"]) == (
        409, "addon_blocks_scheduled_change", change.pk)
    assert response.json()["detail"] == (
        "The change to Microsoft 365 Business Premium scheduled for 2026-10-01 can't run with Microsoft 365 Audio "
        "Conferencing, which prevents an automatic plan change. Add it back after the change, or cancel the "
        "scheduled change first.")
    assert writes() == before
    # One that doesn't block is added back; the change stays scheduled.
    response = api.post(f"/api/v1/subscriptions/{sub.pk}/addons/", {"code": "EXTRA_FILE_STORAGE"}, format="json")
    assert response.status_code == 201
    assert PlanChange.objects.get(pk=change.pk).status == "scheduled"


# --- The subscription page ----------------------------------------------------------------------


@pytest.fixture
def page_admin(client, contoso):
    tenant, std, _api = contoso
    client.force_login(admin_of(tenant))
    return tenant, std


def test_remove_and_add_back_on_the_page_each_need_confirmation(client, page_admin):
    tenant, std = page_admin
    url = f"/billing/products/{std.pk}/"
    html = client.get(url).content.decode()
    assert (f'<form method="post" action="/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/remove/">'
            in html)
    assert ('<input type="checkbox" name="confirm" value="yes" required> I want to remove Microsoft 365 Audio '
            'Conferencing from this subscription.') in html
    assert "Add back" not in html  # nothing removed yet
    # Not confirmed: nothing changes, the page says what is missing.
    response = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/remove/", follow=True)
    assert "Confirm that you want to remove the add-on." in page_text(response)
    assert codes_on(std) == ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    # Confirmed: removed, and offered back with the warning that it blocks a plan change again.
    response = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/remove/", {"confirm": "yes"},
                           follow=True)
    body = page_text(response)
    assert "The add-on was removed. You can add it back later if you still need it." in body
    assert codes_on(std) == ["EXTRA_FILE_STORAGE"]
    assert ("Add-ons you can add back Add back Microsoft 365 Audio Conferencing This add-on prevents an automatic "
            "plan change. With it back, you'll have to remove it again before you can change plans automatically. "
            "I want to add Microsoft 365 Audio Conferencing back to this subscription. Add back Microsoft 365 Audio "
            "Conferencing") in body
    assert (f'<form method="post" action="/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/add/">'
            in response.content.decode())
    # Add back, not confirmed: nothing changes.
    events = Event.objects.count()
    response = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/add/", {"confirm": "no"},
                           follow=True)
    assert "Confirm that you want to add the add-on back." in page_text(response)
    assert (codes_on(std), Event.objects.count()) == (["EXTRA_FILE_STORAGE"], events)
    # Confirmed: back, with what it means for a plan change.
    response = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/add/", {"confirm": "yes"},
                           follow=True)
    body = page_text(response)
    assert ("Microsoft 365 Audio Conferencing was added back. It prevents an automatic plan change: remove it again "
            "before you change plans.") in body
    assert codes_on(std) == ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]
    assert "Add back" not in body
    assert "Your subscription has an add-on." in body  # Why can't I change plans? again


def test_a_non_blocking_addon_added_back_says_only_that(client, page_admin):
    tenant, std = page_admin
    client.post(f"/billing/products/{std.pk}/addons/EXTRA_FILE_STORAGE/remove/", {"confirm": "yes"})
    page = page_text(client.get(f"/billing/products/{std.pk}/"))
    assert "Add back Office 365 Extra File Storage I want to add Office 365 Extra File Storage back" in page
    response = client.post(f"/billing/products/{std.pk}/addons/EXTRA_FILE_STORAGE/add/", {"confirm": "yes"},
                           follow=True)
    body = page_text(response)
    assert "Office 365 Extra File Storage was added back." in body
    assert "It prevents an automatic plan change" not in body


def test_page_refusals_and_successes_in_swedish(client, page_admin):
    tenant, std = page_admin
    client.cookies.load({"django_language": "sv"})
    response = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/remove/", follow=True,
                           HTTP_ACCEPT_LANGUAGE="sv")
    assert "Bekräfta att du vill ta bort tillägget." in page_text(response)
    response = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/remove/", {"confirm": "yes"},
                           follow=True, HTTP_ACCEPT_LANGUAGE="sv")
    body = page_text(response)
    assert "Tillägget har tagits bort. Du kan lägga tillbaka det senare om du fortfarande behöver det." in body
    assert ("Tillägg som du kan lägga tillbaka Lägg tillbaka Microsoft 365 Audio Conferencing Det här tillägget "
            "hindrar en automatisk planändring.") in body
    refused = client.post(f"/billing/products/{std.pk}/addons/EXCHANGE_ARCHIVING_ADDON/add/", {"confirm": "yes"},
                          follow=True, HTTP_ACCEPT_LANGUAGE="sv")
    assert ("Exchange Online Archiving add-on kan inte läggas tillbaka i Microsoft 365 Business Standard: bara ett "
            "tillägg som har tagits bort från den här prenumerationen") in page_text(refused)
    done = client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/add/", {"confirm": "yes"},
                       follow=True, HTTP_ACCEPT_LANGUAGE="sv")
    assert ("Microsoft 365 Audio Conferencing har lagts tillbaka. Det hindrar en automatisk planändring: ta bort det "
            "igen innan du ändrar planer.") in page_text(done)


def test_a_read_only_role_sees_no_add_back_and_may_not_post(client, contoso):
    tenant, std, api = contoso
    api.delete(f"/api/v1/subscriptions/{std.pk}/addons/AUDIO_CONFERENCING/")
    client.force_login(admin_of(tenant, "global_reader"))
    html = client.get(f"/billing/products/{std.pk}/").content.decode()
    assert "/addons/AUDIO_CONFERENCING/add/" not in html and "/remove/" not in html
    before = writes()
    assert client.post(f"/billing/products/{std.pk}/addons/AUDIO_CONFERENCING/add/",
                       {"confirm": "yes"}).status_code == 403
    assert client.post(f"/billing/products/{std.pk}/addons/EXTRA_FILE_STORAGE/remove/",
                       {"confirm": "yes"}).status_code == 403
    assert writes() == before


def test_the_page_of_another_tenants_subscription_is_a_404_for_both_forms(client, page_admin):
    tenant, std = page_admin
    foreign = SubscriptionFactory(product=product("SPB"))
    foreign.subscription_addons.create(addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    before = writes()
    for action in ("remove", "add"):
        response = client.post(f"/billing/products/{foreign.pk}/addons/EXTRA_FILE_STORAGE/{action}/",
                               {"confirm": "yes"})
        assert response.status_code == 404, action
    assert writes() == before


def test_while_a_change_is_under_way_the_page_offers_neither(client, page_admin):
    tenant, std = page_admin
    client.post(f"/billing/products/{std.pk}/addons/EXTRA_FILE_STORAGE/remove/", {"confirm": "yes"})
    PlanChangeFactory(subscription=std, status="running")
    html = client.get(f"/billing/products/{std.pk}/").content.decode()
    assert "/add/" not in html and "/remove/" not in html
    response = client.post(f"/billing/products/{std.pk}/addons/EXTRA_FILE_STORAGE/add/", {"confirm": "yes"},
                           follow=True)
    assert ("A plan change involving Microsoft 365 Business Standard is under way; the subscription can't be "
            "edited until the change finishes.") in page_text(response)
    assert codes_on(std) == ["AUDIO_CONFERENCING"]


def test_the_add_on_blocker_in_swedish_says_det_of_the_add_on(client, at_date):
    """"Tillägg" is neuter: you put it back ("lägga tillbaka det"), if you still need it ("behöver det")."""
    at_date("2026-06-15")
    tenant, _card, std, _users = mosa_standard(users=2)
    std.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    client.force_login(admin_of(tenant))
    text = page_text(client.get(f"/billing/products/{std.pk}/upgrades/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Du kan lägga tillbaka det senare om du fortfarande behöver det." in text
    assert "tillbaka den" not in text and "behöver den" not in text
