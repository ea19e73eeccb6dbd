"""The shell in the browser's terms: login, navigation, Your products, languages."""


import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.models import DirectoryUser
from simulation.scenarios.loader import scenario_load_file
from tests.factories import LoginFactory, SubscriptionFactory, TenantFactory, admin_of, licenses_bulk, product
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    scenario_load_file("scenarios/demo.json")




def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/billing/products/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/billing/products/"
    page = client.get("/login/")
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode() and 'name="password"' in page.content.decode()


def test_a_wrong_password_is_refused_next_to_the_form(client, demo):
    response = client.post("/login/", {"username": "admin@contoso.com", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in page_text(response)
    assert "_auth_user_id" not in client.session


def test_demo_admin_logs_in_and_sees_contosos_subscriptions(client, demo):
    response = client.post("/login/", {"username": "admin@contoso.com", "password": "Contoso-demo-2026"},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/"
    page = client.get("/billing/products/")
    assert page.status_code == 200
    body = page_text(page)
    assert "Your products" in body
    assert "Contoso" in body
    assert "Microsoft 365 Business Standard" in body and "Microsoft 365 Business Basic" in body
    assert "22 of 25" in body  # licenses assigned / total
    assert "5 of 5" in body
    assert "2027-01-01" in body  # renewal of the P1Y subscription started 2026-01-01
    assert "2026-07-10" in body  # the monthly one started 2026-03-10
    assert "USD 13.13" in body and "USD 328.25 per month" in body
    assert "Fabrikam" not in body and "Business Premium" not in body  # another tenant's


def test_the_navigation_has_the_shells_sections(client, demo):
    client.post("/login/", {"username": "admin@contoso.com", "password": "Contoso-demo-2026"})
    html = client.get("/").content.decode()
    for href, label in [("/", "Home"), ("/users/", "Users"), ("/billing/products/", "Billing"), ("/health/", "Health")]:
        assert f'href="{href}"' in html and label in html
    assert 'href="/support/"' not in html


def test_support_staff_land_on_the_support_console(client, demo):
    client.post("/login/", {"username": "support@portal.local", "password": "Support-demo-2026"})
    response = client.get("/billing/products/", follow=True)
    assert response.redirect_chain[-1][0] == "/support/"
    assert "Support console" in page_text(response)


def test_tenant_admins_cannot_open_the_support_console(client, demo):
    client.post("/login/", {"username": "admin@contoso.com", "password": "Contoso-demo-2026"})
    assert client.get("/support/").status_code == 403


def test_a_login_with_no_tenant_is_told_so(client, db):
    client.force_login(LoginFactory())
    response = client.get("/billing/products/")
    assert response.status_code == 403
    assert "Your account is not an admin of any organization." in page_text(response)


def test_swedish_from_the_browser_language_and_from_the_menu(client, demo):
    client.post("/login/", {"username": "admin@contoso.com", "password": "Contoso-demo-2026"})
    body = page_text(client.get("/billing/products/", HTTP_ACCEPT_LANGUAGE="sv-SE,sv;q=0.9"))
    assert "Dina produkter" in body and "Produkter" in body and "22 av 25" in body
    assert "Fakturering" in body and "Användare" in body and "Hälsa" in body
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert "Dina produkter" in page_text(client.get("/billing/products/"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Your products" in page_text(client.get("/billing/products/"))


def test_logout(client, demo):
    client.post("/login/", {"username": "admin@contoso.com", "password": "Contoso-demo-2026"})
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/billing/products/").status_code == 302


def test_support_staff_can_read_but_not_edit_in_the_django_admin(client, demo):
    from planchange.models import PlanChange  # noqa: F401 - registered

    client.post("/login/", {"username": "support@portal.local", "password": "Support-demo-2026"})
    assert client.get("/django-admin/billing/subscription/").status_code == 200
    assert client.get("/django-admin/billing/subscription/add/").status_code == 403


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("url", ["/", "/billing/products/"])
def test_pages_run_the_same_queries_for_10_and_1000_users(client, url):
    tenant = TenantFactory()
    client.force_login(admin_of(tenant))
    subs = [SubscriptionFactory(tenant=tenant, licenses=300),
            SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=300)]

    def add_users(n, start):
        users = DirectoryUser.objects.bulk_create(
            DirectoryUser(tenant=tenant, upn=f"u{i}@{tenant.domain}", display_name=f"U {i}")
            for i in range(start, start + n))
        licenses_bulk(subs[0], users[0::2])
        licenses_bulk(subs[1], users[1::2])

    add_users(10, 0)
    small = _queries(client, url)
    add_users(990, 10)
    assert _queries(client, url) == small
