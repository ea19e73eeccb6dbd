"""What a web process keeps between API requests (issue 24 part 3): a token's login, tenant and roles and
the simulation clock's offset, good for one generation of ``portal.generation``. Whatever changes what was
kept takes effect on the very next request: each test makes a request that keeps it, changes it the way
the portal (or an admin, a script, another process) does, and asks again."""

import time
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from portal import clock, generation, tokens
from portal.models import AdminMembership, ApiToken, Tenant
from portal.scenario import tenant_unload
from portal.services import api_token_create
from tests.factories import LoginFactory, SubscriptionFactory, TenantFactory, admin_of, product, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _kept(settings):
    settings.PORTAL_API_KEEP = True


@pytest.fixture
def tenant():
    tenant = TenantFactory(name="Contoso", domain="contoso.example")
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=5)
    return tenant


@pytest.fixture
def admin(tenant):
    return admin_of(tenant)


def client(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def kept(api, path="/api/v1/subscriptions/"):
    """Two requests: the first reads the token, the second is answered from what the process kept."""
    for _ in range(2):
        response = api.get(path)
        assert response.status_code == 200, response.content
    return response


def code(response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_a_kept_token_reads_no_token_login_membership_or_clock(admin):
    api = client(token_for(admin))
    kept(api)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/subscriptions/").status_code == 200
    read = [q["sql"].split(" FROM ", 1)[1].split(" ", 1)[0] for q in queries]
    assert not {'"portal_apitoken"', '"auth_user"', '"portal_adminmembership"', '"portal_simulationclock"'} & set(read)


def test_a_token_revoked_through_the_api_is_refused_on_the_next_request(admin):
    api = client(token_for(admin))
    doomed = api.post("/api/v1/tokens/", {"name": "Old laptop"}, format="json").json()
    kept(client(doomed["token"]))
    assert api.delete(f"/api/v1/tokens/{doomed['id']}/").status_code == 204
    assert code(client(doomed["token"]).get("/api/v1/subscriptions/")) == (401, "token_revoked")


def test_a_token_revoked_by_create_api_token_is_refused_on_the_next_request(admin):
    _token, key = api_token_create(user=admin, name="default")
    kept(client(key))
    call_command("create_api_token", admin.username)
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_revoked")


def test_a_token_revoked_in_bulk_is_refused_on_the_next_request(admin):
    key = token_for(admin)
    kept(client(key))
    ApiToken.objects.filter(user=admin).update(revoked_at=timezone.now())
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_revoked")


def test_a_token_whose_expiry_is_brought_forward_is_refused_on_the_next_request(admin):
    token, key = api_token_create(user=admin, name="Short", expires_at=timezone.now() + timedelta(days=3))
    kept(client(key))
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save(update_fields=["expires_at"])
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_expired")


def test_a_kept_token_expires_on_time(admin):
    _token, key = api_token_create(user=admin, name="Short", expires_at=timezone.now() + timedelta(seconds=1))
    kept(client(key))
    time.sleep(1.2)
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_expired")


def test_a_deleted_token_is_refused_on_the_next_request(admin):
    token, key = api_token_create(user=admin, name="Gone")
    kept(client(key))
    token.delete()
    assert client(key).get("/api/v1/subscriptions/").status_code == 401


def test_a_deactivated_login_is_refused_on_the_next_request(admin):
    key = token_for(admin)
    kept(client(key))
    admin.is_active = False
    admin.save()
    assert client(key).get("/api/v1/subscriptions/").status_code == 401


def test_a_deleted_login_is_refused_on_the_next_request(admin):
    key = token_for(admin)
    kept(client(key))
    get_user_model().objects.filter(pk=admin.pk).delete()
    assert client(key).get("/api/v1/subscriptions/").status_code == 401


def test_a_removed_membership_is_refused_on_the_next_request(admin):
    key = token_for(admin)
    kept(client(key))
    AdminMembership.objects.filter(user=admin).delete()
    assert code(client(key).get("/api/v1/subscriptions/")) == (403, "permission_denied")


def test_a_changed_role_holds_on_the_next_request(tenant, admin):
    key = token_for(admin)
    kept(client(key), "/api/v1/me/")
    membership = AdminMembership.objects.get(user=admin)
    membership.role = "global_reader"
    membership.save()
    assert client(key).get("/api/v1/me/").json()["roles"] == ["global_reader"]
    sub = tenant.subscriptions.get()
    refused = client(key).patch(f"/api/v1/subscriptions/{sub.pk}/", {"recurring_billing": False}, format="json")
    assert code(refused) == (403, "permission_denied")


def test_a_role_changed_in_bulk_holds_on_the_next_request(admin):
    key = token_for(admin)
    kept(client(key), "/api/v1/me/")
    AdminMembership.objects.filter(user=admin).update(role="billing_admin")
    assert client(key).get("/api/v1/me/").json()["roles"] == ["billing_admin"]


def test_a_membership_added_in_bulk_holds_on_the_next_request(tenant):
    login = LoginFactory()
    key = token_for(login)
    assert client(key).get("/api/v1/subscriptions/").status_code == 403
    assert client(key).get("/api/v1/subscriptions/").status_code == 403
    AdminMembership.objects.bulk_create([AdminMembership(user=login, tenant=tenant, role="global_reader")])
    assert client(key).get("/api/v1/subscriptions/").status_code == 200


def test_support_staff_who_lose_the_flag_are_refused_on_the_next_request():
    staff = LoginFactory(is_staff=True)
    key = token_for(staff)
    kept(client(key), "/api/v1/support/clock/")
    staff.is_staff = False
    staff.save()
    assert code(client(key).get("/api/v1/support/clock/")) == (403, "permission_denied")


def test_a_tenant_unloaded_is_gone_on_the_next_request(tenant, admin):
    key = token_for(admin)
    kept(client(key))
    tenant_unload(tenant)
    assert client(key).get("/api/v1/subscriptions/").status_code == 401  # its logins went with it


def test_a_tenant_changed_in_bulk_holds_on_the_next_request(tenant, admin):
    key = token_for(admin)
    kept(client(key), "/api/v1/me/")
    Tenant.objects.filter(pk=tenant.pk).update(name="Fabrikam")
    assert client(key).get("/api/v1/me/").json()["tenant"]["name"] == "Fabrikam"


def test_the_clock_moved_holds_on_the_next_request(support_api):
    clock.set_date(date(2026, 6, 15))
    assert kept(support_api, "/api/v1/support/clock/").json()["today"] == "2026-06-15"
    clock.set_date(date(2026, 9, 1))
    assert support_api.get("/api/v1/support/clock/").json()["today"] == "2026-09-01"


def test_what_another_process_changed_holds_on_the_next_request(admin):
    """Another process's change reaches this one through the shared stamp alone: here the token is revoked
    without a signal (raw SQL) and the stamp drawn anew as any process's change draws it."""
    key = token_for(admin)
    kept(client(key))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portal_apitoken SET revoked_at = %s WHERE digest = %s",
                       [timezone.now(), tokens.digest(key)])
    assert client(key).get("/api/v1/subscriptions/").status_code == 200  # nothing told this process yet
    cache.set(generation.KEY, 12345)
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_revoked")


def test_a_lost_stamp_forgets_everything(admin):
    key = token_for(admin)
    kept(client(key))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portal_apitoken SET revoked_at = %s WHERE digest = %s",
                       [timezone.now(), tokens.digest(key)])
    cache.delete(generation.KEY)  # Redis restarted, or evicted it
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_revoked")


def test_an_address_locked_out_for_bad_tokens_is_refused_a_kept_token_too(admin, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        "anon": "100/minute", "user": "100/minute", "token_failures": "3/hour"}}
    key = token_for(admin)
    kept(client(key))
    for n in range(3):
        assert client(f"pcp_not-a-token-{n}").get("/api/v1/subscriptions/").status_code == 401
    assert client(key).get("/api/v1/subscriptions/").status_code == 429
    cache.clear()


def test_a_kept_token_still_counts_against_its_login_rate(admin, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        "anon": "100/minute", "user": "4/minute", "token_failures": "100/hour"}}
    api = client(token_for(admin))
    kept(api)
    assert [api.get("/api/v1/subscriptions/").status_code for _ in range(3)] == [200, 200, 429]
    cache.clear()


def test_without_a_shared_cache_nothing_is_kept(admin, settings):
    """``make run``'s local-memory cache: its worker and commands could not draw a new stamp for the web
    process, so the web process reads the token, its login and memberships, and the clock, every time."""
    settings.PORTAL_API_KEEP = False
    key = token_for(admin)
    kept(client(key))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE portal_apitoken SET revoked_at = %s WHERE digest = %s",
                       [timezone.now(), tokens.digest(key)])
    assert code(client(key).get("/api/v1/subscriptions/")) == (401, "token_revoked")


def test_production_keeps_only_with_a_cache_every_process_shares():
    from portal.settings.base import cache_is_shared

    assert cache_is_shared({"default": {"BACKEND": "portal.cache.RedisCache"}})
    assert not cache_is_shared({"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
