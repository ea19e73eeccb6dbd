"""The eligibility through the API and the pages: blockers with their fix links, the
greyed link, Available upgrades, and fixing a blocker through the pages."""

from datetime import date

import pytest

from billing.models import Invoice, Subscription
from licensing.models import LicenseAssignment
from simulation.scenarios.loader import scenario_load_file
from tests.factories import (
    IncidentFactory,
    InvoiceFactory,
    LicenseFactory,
    SubscriptionFactory,
    addon,
    admin_of,
    product,
    token_for,
)
from tests.helpers import page_text, reviewed

pytestmark = pytest.mark.django_db




@pytest.fixture
def basic(at_date):
    at_date("2026-06-15")
    sub = SubscriptionFactory(product=product("O365_BUSINESS_ESSENTIALS"), licenses=5)
    for _ in range(3):
        LicenseFactory(subscription=sub)
    return sub


def as_admin(api, sub):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(sub.tenant))}")
    return api


def test_upgrades_of_a_healthy_subscription(api, basic):
    body = as_admin(api, basic).get(f"/api/v1/subscriptions/{basic.pk}/upgrades/").json()
    assert body["can_change_automatically"] is True
    assert body["blockers"] == []
    assert [u["sku"] for u in body["upgrades"]] == [
        "O365_BUSINESS_PREMIUM", "SPB", "STANDARDPACK", "ENTERPRISEPACK", "SPE_E3", "ENTERPRISEPREMIUM", "SPE_E5",
        "O365_BUSINESS", "EXCHANGEENTERPRISE", "EXCHANGESTANDARD"]
    standard = body["upgrades"][0]
    assert standard["name"] == "Microsoft 365 Business Standard"
    assert standard["supported"] is True and standard["reasons"] == []
    assert {"term": "P1Y", "billing_frequency": "monthly", "price": "13.13", "licenses": 5,
            "monthly_total": "65.65", "period_total": "65.65"} in standard["offers"]
    apps = body["upgrades"][7]
    assert apps["supported"] is False
    (reason,) = apps["reasons"]
    assert reason == {
        "code": "target_not_supported",
        "title": "The plan that you want to change to isn't supported.",
        "resolution": reason["resolution"],
        "detail": "Users would lose the data of: Exchange Online (Plan 1), SharePoint (Plan 1), Viva Engage.",
        "action": {"label": "Change plans manually", "url": f"/billing/change-plans-manually/?from={basic.pk}"},
        "services": ["Exchange Online (Plan 1)", "SharePoint (Plan 1)", "Viva Engage"],
    }
    assert reason["resolution"].startswith("The plans available to change to are shown based on the services")


def test_a_blocked_subscription_lists_every_blocker_with_its_fix(api, basic):
    Subscription.objects.filter(pk=basic.pk).update(payment="invoice", licenses=2)
    invoice = InvoiceFactory(tenant=basic.tenant, number="INV-77", total="36.00", due_date=date(2026, 5, 31))
    IncidentFactory(tenant=basic.tenant, service="exchange", title="Mail delays")
    body = as_admin(api, basic).get(f"/api/v1/subscriptions/{basic.pk}/upgrades/").json()
    assert body["can_change_automatically"] is False
    assert [(b["code"], b["action"]) for b in body["blockers"]] == [
        ("users_exceed_licenses", {"label": "Unassign licenses", "url": f"/users/?subscription={basic.pk}"}),
        ("service_incident", {"label": "Go to Health > Service health", "url": "/health/"}),
        ("unpaid_balance", {"label": "Pay now", "url": f"/billing/invoices/{invoice.pk}/"}),
    ]
    assert body["blockers"][0]["title"] == "You have more users than licenses."
    assert body["blockers"][0]["resolution"] == (
        "To change plans automatically, all users must have valid licenses. Unassign licenses from users until "
        "you have the same or fewer users than the number of licenses.")


def test_blockers_in_swedish_are_the_articles_words(api, basic):
    Subscription.objects.filter(pk=basic.pk).update(licenses=2)
    body = as_admin(api, basic).get(f"/api/v1/subscriptions/{basic.pk}/upgrades/", HTTP_ACCEPT_LANGUAGE="sv").json()
    (blocker,) = body["blockers"]
    assert blocker["title"] == "Du har fler användare än licenser."
    assert blocker["resolution"] == (
        "Om du vill ändra planer automatiskt måste alla användare ha giltiga licenser. Ta bort tilldelningen av "
        "licenser från användare tills du har samma eller färre användare som antalet licenser.")
    assert blocker["detail"] == "3 användare har licenser, men prenumerationen har 2."


def test_another_tenants_subscription_is_a_404_on_every_new_endpoint(api, basic):
    foreign = SubscriptionFactory(product=product("SPB"))
    foreign.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    foreign_invoice = InvoiceFactory(tenant=foreign.tenant, total="10.00")
    foreign_user = LicenseFactory(subscription=foreign).user
    as_admin(api, basic)
    assert api.get(f"/api/v1/subscriptions/{foreign.pk}/upgrades/").status_code == 404
    assert api.delete(f"/api/v1/subscriptions/{foreign.pk}/addons/AUDIO_CONFERENCING/").status_code == 404
    assert api.get(f"/api/v1/invoices/{foreign_invoice.pk}/").status_code == 404
    assert api.post(f"/api/v1/invoices/{foreign_invoice.pk}/pay/").status_code == 404
    response = api.post("/api/v1/licenses/unassign/", {"users": [foreign_user.upn], "subscription": foreign.pk})
    assert response.status_code == 404
    assert foreign.subscription_addons.count() == 1
    assert Invoice.objects.get(pk=foreign_invoice.pk).paid == 0
    assert LicenseAssignment.objects.filter(subscription=foreign).count() == 1


def test_the_api_fixes_remove_the_blockers(api, basic):
    Subscription.objects.filter(pk=basic.pk).update(payment="invoice", licenses=2)
    basic.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    invoice = InvoiceFactory(tenant=basic.tenant, total="36.00", due_date=date(2026, 5, 31))
    as_admin(api, basic)
    url = f"/api/v1/subscriptions/{basic.pk}/upgrades/"
    assert [b["code"] for b in api.get(url).json()["blockers"]] == [
        "users_exceed_licenses", "addon_present", "unpaid_balance"]
    upn = basic.assignments.first().user.upn
    assert api.post("/api/v1/licenses/unassign/", {"users": [upn], "subscription": basic.pk}).json() == {"count": 1}
    assert api.delete(f"/api/v1/subscriptions/{basic.pk}/addons/AUDIO_CONFERENCING/").status_code == 204
    paid = api.post(f"/api/v1/invoices/{invoice.pk}/pay/").json()
    assert (paid["status"], paid["balance"], paid["paid"]) == ("paid", "0.00", "36.00")
    assert api.get(url).json()["can_change_automatically"] is True


def test_license_errors_are_problems_and_change_nothing(api, basic):
    as_admin(api, basic)
    before = LicenseAssignment.objects.count()
    response = api.post("/api/v1/licenses/unassign/", {"users": ["nobody@x.example"], "subscription": basic.pk})
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_users"
    assert response.json()["users"] == ["nobody@x.example"]
    other = SubscriptionFactory(tenant=basic.tenant, product=product("SPB"), licenses=1)
    upns = list(basic.assignments.values_list("user__upn", flat=True))
    response = api.post("/api/v1/licenses/replace/",
                        {"users": upns, "from_subscription": basic.pk, "to_subscription": other.pk})
    assert response.status_code == 422
    assert response.json()["detail"] == ("3 licenses are needed but only 1 are available on Microsoft 365 Business "
                                         "Premium: buy 2 more, or choose fewer users. Nothing was changed.")
    assert (response.json()["needed"], response.json()["available"], response.json()["missing"]) == (3, 1, 2)
    assert api.post("/api/v1/licenses/assign/", {"users": [], "subscription": basic.pk}).status_code == 400
    assert LicenseAssignment.objects.count() == before


def test_the_subscription_page_greys_the_link_and_lists_fixes(client, basic):
    Subscription.objects.filter(pk=basic.pk).update(licenses=2)
    client.force_login(admin_of(basic.tenant))
    page = client.get(f"/billing/products/{basic.pk}/")
    html = page.content.decode()
    assert '<span class="link-disabled" aria-disabled="true" data-testid="upgrades-link">' in html
    assert f'href="/billing/products/{basic.pk}/upgrades/"' not in html
    body = page_text(page)
    assert "Why can't I change plans?" in body and "You have more users than licenses." in body
    assert f'href="/users/?subscription={basic.pk}"' in html
    # The fix: unassign one user through Users > Active users, then the link works.
    users_page = client.get(f"/users/?subscription={basic.pk}")
    assert "3 of 2 licenses assigned" in page_text(users_page)
    upn = basic.assignments.first().user.upn
    unassign = {"action": "unassign", "subscription": basic.pk, "users": [upn], "next": f"/users/?subscription={basic.pk}"}
    review = client.post("/users/licenses/", unassign)  # who loses what, first
    client.post("/users/licenses/", {**unassign, "step": "confirm", "reviewed": reviewed(review)})
    html = client.get(f"/billing/products/{basic.pk}/").content.decode()
    assert f'<a class="button-primary" href="/billing/products/{basic.pk}/upgrades/" data-testid="upgrades-link">' in html
    assert "Why can't I change plans?" not in html


def test_available_upgrades_page_lists_supported_plans_and_the_others_apart(client, basic):
    client.force_login(admin_of(basic.tenant))
    body = page_text(client.get(f"/billing/products/{basic.pk}/upgrades/"))
    recommended, unsupported = body.split("Not available for an automatic change")
    assert "Microsoft 365 Business Standard" in recommended and "Upgrade" in recommended
    assert "Adds Microsoft 365 Apps for business USD 13.13 license/month Upgrade" in recommended
    assert "Microsoft 365 Apps for business — Users would lose the data of" in unsupported
    assert "Office 365 E1 The same services as your current plan USD 10.50 license/month Upgrade" in recommended


def test_available_upgrades_of_a_blocked_subscription_offers_no_upgrade(client, basic):
    basic.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    client.force_login(admin_of(basic.tenant))
    html = client.get(f"/billing/products/{basic.pk}/upgrades/").content.decode()
    assert "Your subscription has an add-on." in html
    assert "/checkout/" not in html
    # Remove the add-on on the subscription page, confirmed: unblocked.
    client.post(f"/billing/products/{basic.pk}/addons/AUDIO_CONFERENCING/remove/", {"confirm": "yes"})
    assert "/checkout/" in client.get(f"/billing/products/{basic.pk}/upgrades/").content.decode()


def test_pay_now_on_the_invoice_page(client, basic):
    Subscription.objects.filter(pk=basic.pk).update(payment="invoice")
    invoice = InvoiceFactory(tenant=basic.tenant, number="INV-5", total="36.00", due_date=date(2026, 5, 31))
    client.force_login(admin_of(basic.tenant))
    assert "Pay now / Settle balance" in page_text(client.get(f"/billing/products/{basic.pk}/"))
    assert "USD 36.00" in page_text(client.get(f"/billing/invoices/{invoice.pk}/"))
    response = client.post(f"/billing/invoices/{invoice.pk}/pay/", follow=True)
    assert "Invoice INV-5 is paid." in page_text(response)
    assert Invoice.objects.get(pk=invoice.pk).balance == 0
    assert "Pay now" not in page_text(client.get(f"/billing/products/{basic.pk}/"))


def test_mca_tenants_get_other_subscription_options(client):
    scenario_load_file("scenarios/demo.json")
    client.post("/login/", {"username": "admin@fabrikam.com", "password": "Fabrikam-demo-2026"})
    sub = Subscription.objects.get(tenant__domain="fabrikam.com")
    body = page_text(client.get(f"/billing/products/{sub.pk}/"))
    assert "Other subscription options" in body and "Change to a different subscription option" in body
    assert "Product details and upgrades" not in body
    assert "Your subscription has an add-on." in body  # Audio Conferencing


def test_service_health_page_shows_open_incidents(client, basic):
    IncidentFactory(tenant=basic.tenant, service="exchange", title="Mail delays")
    IncidentFactory(tenant=basic.tenant, service="teams", status="resolved", title="Old")
    client.force_login(admin_of(basic.tenant))
    body = page_text(client.get("/health/"))
    assert "Exchange Online Service degradation Mail delays" in body
    assert "Old" not in body


def test_pages_of_another_tenant_are_404(client, basic):
    foreign = SubscriptionFactory()
    invoice = InvoiceFactory(tenant=foreign.tenant)
    client.force_login(admin_of(basic.tenant))
    for url in (f"/billing/products/{foreign.pk}/", f"/billing/products/{foreign.pk}/upgrades/",
                f"/billing/invoices/{invoice.pk}/", f"/users/?subscription={foreign.pk}"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(("data", "message"), [
    ({"subscription": "abc", "users": ["x@y.example"]}, "No such subscription."),
    ({"subscription": "", "users": ["x@y.example"]}, "No such subscription."),
    ({"users": ["x@y.example"]}, "No such subscription."),
])
def test_bad_unassign_forms_say_why_and_change_nothing(client, basic, data, message):
    client.force_login(admin_of(basic.tenant))
    before = LicenseAssignment.objects.count()
    response = client.post("/users/licenses/", {"action": "unassign", **data}, follow=True)
    assert response.status_code == 200
    assert message in page_text(response)
    assert LicenseAssignment.objects.count() == before


def test_unassign_with_nobody_selected_says_so(client, basic):
    client.force_login(admin_of(basic.tenant))
    response = client.post("/users/licenses/", {"action": "unassign", "subscription": basic.pk}, follow=True)
    assert "Choose at least one user." in page_text(response)
    assert basic.assignments.count() == 3


def test_paying_twice_says_nothing_is_left(client, basic):
    invoice = InvoiceFactory(tenant=basic.tenant, number="INV-6", total="10.00", paid="10.00")
    client.force_login(admin_of(basic.tenant))
    response = client.post(f"/billing/invoices/{invoice.pk}/pay/", follow=True)
    assert "Invoice INV-6 has nothing left to pay." in page_text(response)


def test_while_a_change_is_under_way_the_subscription_is_read_only(api, client, basic):
    from tests.factories import PlanChangeFactory

    basic.subscription_addons.create(addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    PlanChangeFactory(subscription=basic, status="running")
    response = as_admin(api, basic).delete(f"/api/v1/subscriptions/{basic.pk}/addons/EXTRA_FILE_STORAGE/")
    assert response.status_code == 409
    assert response.json()["code"] == "change_in_progress"
    assert basic.subscription_addons.count() == 1
    client.force_login(admin_of(basic.tenant))
    page = client.get(f"/billing/products/{basic.pk}/")
    assert "A plan change of this subscription is in progress." in page_text(page)
    assert "/addons/EXTRA_FILE_STORAGE/remove/" not in page.content.decode()
    assert 'aria-disabled="true" data-testid="upgrades-link"' in page.content.decode()
