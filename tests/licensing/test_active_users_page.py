
import pytest

from licensing.models import DirectoryUser, LicenseAssignment
from tests.factories import DirectoryUserFactory, LicenseFactory, SubscriptionFactory, TenantFactory, admin_of, product
from tests.helpers import page_text, reviewed

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


def test_manage_licenses_pane_opens_for_the_selected_users(client, tenant_with_users):
    std, basic, licensed, free = tenant_with_users
    body = page_text(client.get("/users/"))
    assert "Manage product licenses" in body and "Select all 5 users that match" in body
    pane = page_text(client.get("/users/", {"pane": "licenses", "users": [free[0].upn, free[1].upn]}))
    assert "2 users selected." in pane
    assert "Microsoft 365 Business Standard (2 of 3 assigned) — 1 available" in pane
    assert "Microsoft 365 Business Basic (0 of 2 assigned) — 2 available" in pane
    assert "All 5 users that match are selected." in page_text(client.get("/users/", {"pane": "licenses", "all": "1"}))
    assert "Select users in the list first." in page_text(client.get("/users/", {"pane": "licenses"}))


def test_assign_unassign_and_replace_through_the_page(client, tenant_with_users):
    std, basic, licensed, free = tenant_with_users
    response = client.post("/users/licenses/", {"action": "assign", "subscription": basic.pk,
                                                "users": [u.upn for u in free[:2]], "next": "/users/"}, follow=True)
    assert "Licenses were assigned to 2 users." in page_text(response)
    # Replace is reviewed first: nothing moves, and the pane says Basic is short of a license.
    body = {"action": "replace", "subscription": std.pk, "to_subscription": basic.pk, "users": [licensed[0].upn]}
    review = client.post("/users/licenses/", body)
    assert review.status_code == 200
    assert "Microsoft 365 Business Basic is short of 1 license for these users." in page_text(review)
    response = client.post("/users/licenses/", {**body, "step": "confirm", "reviewed": reviewed(review)})
    assert ("1 license is needed but only 0 are available on Microsoft 365 Business Basic: buy 1 more, or choose "
            "fewer users. Nothing was changed.") in page_text(response)
    # Unassign is reviewed too: who loses which license.
    unassign = {"action": "unassign", "subscription": basic.pk, "users": [free[0].upn]}
    review = client.post("/users/licenses/", unassign)
    assert ("1 user loses the license of Microsoft 365 Business Basic at once, and with it each service the user "
            f"doesn't also have through another license: {free[0].upn} loses Exchange Online (Plan 1), Office for the "
            "web, SharePoint (Plan 1), Microsoft Teams, Viva Engage Unassign the license of 1 user") \
        in page_text(review)
    assert LicenseAssignment.objects.filter(user=free[0]).exists()
    response = client.post("/users/licenses/", {**unassign, "step": "confirm", "reviewed": reviewed(review)},
                           follow=True)
    assert "A license was unassigned from 1 user." in page_text(response)
    review = client.post("/users/licenses/", body)
    assert f"{licensed[0].upn} — Microsoft 365 Apps for business — —" in page_text(review)  # loses the apps
    assert "I have backed up the data" not in page_text(review)  # Basic keeps Standard's data-related services
    done = client.post("/users/licenses/", {**body, "step": "confirm", "reviewed": reviewed(review)})
    assert done["Location"] == f"/users/?subscription={basic.pk}"
    assert list(licensed[0].licenses.values_list("subscription_id", flat=True)) == [basic.pk]


def test_a_confirmation_without_its_review_or_after_a_change_moves_nothing(client, tenant_with_users):
    std, basic, licensed, free = tenant_with_users
    body = {"action": "replace", "subscription": std.pk, "to_subscription": basic.pk, "users": [licensed[0].upn],
            "step": "confirm"}
    refused = client.post("/users/licenses/", body)  # no review digest: shown the review instead
    assert "Review the change again. Nothing was changed." in page_text(refused)
    unassign = client.post("/users/licenses/", {"action": "unassign", "subscription": std.pk, "step": "confirm",
                                                "users": [licensed[0].upn], "reviewed": "0" * 32})
    assert "The users are no longer the ones you reviewed." in page_text(unassign)
    assert std.assignments.count() == 2


def test_all_matching_users_are_moved_as_reviewed(client, tenant_with_users):
    std, basic, licensed, free = tenant_with_users
    basic.licenses = 5
    basic.save(update_fields=["licenses"])
    body = {"action": "replace", "all": "1", "filter_subscription": std.pk, "filter_q": "", "subscription": std.pk,
            "to_subscription": basic.pk}
    review = client.post("/users/licenses/", body)
    assert "All 2 users that match are selected." in page_text(review)
    assert "Replace the licenses of 2 users" in page_text(review)
    # A user joined the filter since the review: refused, the review shown again with all 3, nothing moved.
    LicenseFactory(subscription=std, user=free[2])
    changed = client.post("/users/licenses/", {**body, "step": "confirm", "reviewed": reviewed(review)})
    assert ("What changes for these users is no longer what you reviewed: their licenses changed since. Review the "
            "change again. Nothing was changed.") in page_text(changed)
    assert "Replace the licenses of 3 users" in page_text(changed)
    assert std.assignments.count() == 3
    client.post("/users/licenses/", {**body, "step": "confirm", "reviewed": reviewed(changed)})
    assert (std.assignments.count(), basic.assignments.count()) == (0, 3)


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
    assert "Page 1 of 1 (1 user)" in page_text(client.get("/users/", {"q": "Bulk 007"}))
    assert "Page 1 of 1 (1 user)" in page_text(client.get("/users/", {"q": "bulk7@"}))


@pytest.mark.parametrize("back", ["2", "-1", "²", "٤", "x" * 300, "users:active", "//evil.example/", "https://evil.example/"])
def test_manage_licenses_goes_back_only_to_a_path_of_this_site(client, tenant_with_users, back):
    std, _basic, _licensed, free = tenant_with_users
    response = client.post("/users/licenses/", {"action": "assign", "subscription": std.pk,
                                                "users": [free[0].upn], "next": back})
    assert (response.status_code, response["Location"]) == (302, "/users/")  # was a 500 NoReverseMatch for "2"
    assert LicenseAssignment.objects.filter(user=free[0]).count() == 1
