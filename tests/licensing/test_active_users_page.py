
import pytest

from licensing.models import DirectoryUser, LicenseAssignment
from tests.factories import DirectoryUserFactory, LicenseFactory, SubscriptionFactory, TenantFactory, admin_of, product
from tests.helpers import page_text

pytestmark = pytest.mark.django_db




@pytest.fixture
def tenant_with_users(client, at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="contoso.example")
    std = SubscriptionFactory(tenant=tenant, licenses=3)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=2)
    licensed = [LicenseFactory(subscription=std).user for _ in range(2)]
    free = [DirectoryUserFactory(tenant=tenant) for _ in range(3)]
    client.force_login(admin_of(tenant))
    return std, basic, licensed, free


def test_manage_licenses_shows_available_counts(client, tenant_with_users):
    body = page_text(client.get("/users/"))
    assert "Manage product licenses" in body
    assert "Microsoft 365 Business Standard — 1 available" in body
    assert "Microsoft 365 Business Basic — 2 available" in body


def test_assign_unassign_and_replace_through_the_page(client, tenant_with_users):
    std, basic, licensed, free = tenant_with_users
    response = client.post("/users/licenses/", {"action": "assign", "subscription": basic.pk,
                                                "users": [u.upn for u in free[:2]], "next": "/users/"}, follow=True)
    assert "Licenses assigned to 2 users." in page_text(response)
    response = client.post("/users/licenses/", {"action": "replace", "subscription": std.pk,
                                                "to_subscription": basic.pk, "users": [licensed[0].upn]},
                           follow=True)
    assert "2 licenses are needed" not in page_text(response)
    assert "1 licenses are needed but only 0 are available." in page_text(response)  # Basic is full now
    response = client.post("/users/licenses/", {"action": "unassign", "subscription": basic.pk,
                                                "users": [free[0].upn]}, follow=True)
    assert "Licenses unassigned from 1 users." in page_text(response)
    client.post("/users/licenses/", {"action": "replace", "subscription": std.pk, "to_subscription": basic.pk,
                                     "users": [licensed[0].upn]})
    assert list(licensed[0].licenses.values_list("subscription_id", flat=True)) == [basic.pk]


def test_a_refused_change_says_why_and_changes_nothing(client, tenant_with_users):
    std, basic, licensed, free = tenant_with_users
    before = list(LicenseAssignment.objects.values_list("pk", flat=True))
    response = client.post("/users/licenses/", {"action": "assign", "subscription": std.pk,
                                                "users": [u.upn for u in free]}, follow=True)
    assert '<div class="form-error" role="alert" data-testid="licenses-error">3 licenses are needed but only 1 are' \
           in response.content.decode()
    response = client.post("/users/licenses/", {"action": "explode", "users": [free[0].upn]}, follow=True)
    assert "Choose what to do with the licenses." in page_text(response)
    assert list(LicenseAssignment.objects.values_list("pk", flat=True)) == before


def test_search_and_pagination(client, tenant_with_users):
    std, *_ = tenant_with_users
    DirectoryUser.objects.bulk_create(DirectoryUser(tenant=std.tenant, upn=f"bulk{i}@contoso.example",
                                                    display_name=f"Bulk {i:03d}") for i in range(120))
    body = page_text(client.get("/users/"))
    assert "Page 1 of 3 (125 users)" in body
    assert "Page 3 of 3" in page_text(client.get("/users/?page=3"))
    assert "Page 1 of 1 (1 users)" in page_text(client.get("/users/", {"q": "Bulk 007"}))
    assert "Page 1 of 1 (1 users)" in page_text(client.get("/users/", {"q": "bulk7@"}))


@pytest.mark.parametrize("back", ["2", "-1", "²", "٤", "x" * 300, "users:active", "//evil.example/", "https://evil.example/"])
def test_manage_licenses_goes_back_only_to_a_path_of_this_site(client, tenant_with_users, back):
    std, _basic, _licensed, free = tenant_with_users
    response = client.post("/users/licenses/", {"action": "assign", "subscription": std.pk,
                                                "users": [free[0].upn], "next": back})
    assert (response.status_code, response["Location"]) == (302, "/users/")  # was a 500 NoReverseMatch for "2"
    assert LicenseAssignment.objects.filter(user=free[0]).count() == 1
