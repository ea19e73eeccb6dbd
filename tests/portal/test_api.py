"""The API's base: auth, tenant scoping, problem+json errors, pagination, schema and docs."""

import re
from datetime import date

import pytest
from django.core.management import call_command

from tests.factories import (
    BillingProfileFactory,
    LicenseFactory,
    LoginFactory,
    PlanChangeFactory,
    SubscriptionFactory,
    TenantFactory,
    addon,
    admin_of,
    licenses_bulk,
    product,
    token_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(name="Contoso", domain="contoso.com")
    admin = admin_of(tenant, "global_admin")
    sub = SubscriptionFactory(tenant=tenant, licenses=25)
    for _ in range(3):
        LicenseFactory(subscription=sub)
    return tenant, admin, sub


def auth(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/api/problems/{code}"
    assert body["title"]
    assert "detail" in body
    return body


def test_me_names_the_tenant_and_roles(api, contoso):
    tenant, admin, _ = contoso
    body = auth(api, admin).get("/api/v1/me/").json()
    assert body == {
        "username": admin.username,
        "tenant": {"id": tenant.id, "name": "Contoso", "domain": "contoso.com", "kind": "commercial",
                   "agreement": "MOSA"},
        "roles": ["global_admin"],
        "support_staff": False,
    }


def test_subscription_detail_has_the_contract_fields(api, contoso):
    tenant, admin, sub = contoso
    body = auth(api, admin).get(f"/api/v1/subscriptions/{sub.id}/").json()
    assert body == {
        "id": sub.id, "sku": "O365_BUSINESS_PREMIUM", "product_name": "Microsoft 365 Business Standard",
        "status": "active", "provisioning": "provisioned", "source": "direct", "licenses": 25,
        "assigned_licenses": 3, "term": "P1Y", "billing_frequency": "monthly", "price": "13.13",
        "start_date": "2026-01-01", "renewal_date": "2027-01-01", "recurring_billing": True,
        "payment": "card", "billing_profile": None, "addons": [], "change_in_progress": False,
        "status_until": None, "next_billing_date": "2026-07-01", "users_access": "full", "licenses_at_renewal": None,
        "trial_ends_on": None, "trial_extended": False,
    }


def test_subscription_shows_addons_profile_and_a_change_under_way(api, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing")
    admin = admin_of(profile.tenant)
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("SPB"), billing_profile=profile,
                              payment="invoice", licenses=12)
    sub.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    PlanChangeFactory(subscription=sub, status="running")
    body = auth(api, admin).get(f"/api/v1/subscriptions/{sub.id}/").json()
    assert body["billing_profile"] == {"id": profile.id, "name": "Fabrikam billing"}
    assert body["addons"] == ["AUDIO_CONFERENCING"]
    assert body["change_in_progress"] is True
    assert body["assigned_licenses"] == 0


def test_a_scheduled_change_is_not_a_change_in_progress(api, contoso):
    _, admin, sub = contoso
    PlanChangeFactory(subscription=sub, status="scheduled", schedule="renewal", scheduled_for=date(2027, 1, 1))
    assert auth(api, admin).get(f"/api/v1/subscriptions/{sub.id}/").json()["change_in_progress"] is False


def test_list_is_paginated_and_holds_only_the_tenants_subscriptions(api, contoso):
    tenant, admin, sub = contoso
    SubscriptionFactory()  # another tenant's
    body = auth(api, admin).get("/api/v1/subscriptions/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert [s["id"] for s in body["results"]] == [sub.id]


def test_another_tenants_subscription_is_a_404(api, contoso):
    _, admin, _ = contoso
    foreign = SubscriptionFactory()
    response = auth(api, admin).get(f"/api/v1/subscriptions/{foreign.id}/")
    body = assert_problem(response, 404, "subscription_not_found")
    missing = auth(api, admin).get("/api/v1/subscriptions/999999/")
    assert missing.json() == body  # the same answer for foreign and missing
    assert_problem(auth(api, admin).get("/api/v1/subscriptions/abc/"), 404, "not_found")


def test_another_tenants_subscription_is_a_404_whatever_the_body_says(api, contoso):
    """The path's object first: an action on another tenant's subscription answers its 404 even with a body
    that would be refused (schemathesis's foreign-id sweep sends empty ones)."""
    _, admin, _ = contoso
    foreign = SubscriptionFactory()
    client = auth(api, admin)
    for method, path in (("patch", ""), ("post", "licenses/"), ("post", "addons/")):
        response = getattr(client, method)(f"/api/v1/subscriptions/{foreign.id}/{path}", {}, format="json")
        assert_problem(response, 404, "subscription_not_found")


def test_no_credentials_is_a_401_problem(api, contoso):
    response = api.get("/api/v1/subscriptions/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_problem(api.get("/api/v1/me/"), 401, "authentication_failed")


def test_support_staff_have_no_tenant_endpoints(api, db):
    staff = LoginFactory(is_staff=True)
    body = assert_problem(auth(api, staff).get("/api/v1/subscriptions/"), 403, "permission_denied")
    assert body["detail"] == "This endpoint is for a tenant's admins."
    assert auth(api, staff).get("/api/v1/me/").json()["support_staff"] is True


def test_errors_are_in_the_callers_language(api, db):
    response = api.get("/api/v1/subscriptions/", HTTP_ACCEPT_LANGUAGE="sv")
    body = assert_problem(response, 401, "not_authenticated")
    assert body["title"] == "Inte autentiserad"
    assert body["detail"] == "Autentiseringsuppgifter ej tillhandahållna."  # DRF's own Swedish


def test_unknown_method_is_a_405_problem(api, contoso):
    _, admin, sub = contoso
    assert_problem(auth(api, admin).delete(f"/api/v1/subscriptions/{sub.id}/"), 405, "method_not_allowed")


def test_the_browser_session_works_for_the_api(client, contoso):
    _, admin, sub = contoso
    client.force_login(admin)
    assert client.get(f"/api/v1/subscriptions/{sub.id}/").status_code == 200


def test_create_api_token_prints_a_new_token_and_revokes_the_old(api, contoso, capsys):
    _, admin, _ = contoso
    old = token_for(admin)
    call_command("create_api_token", admin.username)
    new = capsys.readouterr().out.strip()
    assert re.fullmatch(r"pcp_[A-Za-z0-9]{48}", new) and new != old
    api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api.get("/api/v1/me/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/v1/me/").status_code == 401


def test_create_api_token_for_an_unknown_user_fails(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("create_api_token", "nobody")


def test_openapi_schema_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/me/", "/api/v1/products/", "/api/v1/subscriptions/", "/api/v1/subscriptions/{id}/"):
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html


def test_the_tenant_mixin_refuses_views_that_would_bypass_it():
    from rest_framework import viewsets

    from portal.api.mixins import TenantScopedMixin

    with pytest.raises(TypeError, match="tenant_queryset"):
        type("Leaky", (TenantScopedMixin, viewsets.ReadOnlyModelViewSet), {"get_queryset": lambda self: None})
    with pytest.raises(TypeError, match="class-level queryset"):
        type("Leaky2", (TenantScopedMixin, viewsets.ReadOnlyModelViewSet), {"queryset": object()})


def test_subscription_list_runs_the_same_queries_for_10_and_1000_users(api, contoso, django_assert_num_queries):
    from licensing.models import DirectoryUser

    tenant, admin, sub = contoso
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"))
    auth(api, admin)
    api.get("/api/v1/subscriptions/")  # warm: token lookup is the same either way

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/subscriptions/").status_code == 200
        return len(ctx)

    small = count()
    users = DirectoryUser.objects.bulk_create(
        DirectoryUser(tenant=tenant, upn=f"bulk{n}@contoso.com", display_name=f"Bulk {n}") for n in range(1000)
    )
    licenses_bulk(sub, users)
    assert count() == small
    assert api.get(f"/api/v1/subscriptions/{sub.id}/").json()["assigned_licenses"] == 1003


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/subscriptions/{id}/" in (tmp_path / "schema.yaml").read_text()
