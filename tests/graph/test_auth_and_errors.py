"""Who may call /graph/ and how it refuses: Bearer with the portal's API tokens, 401/403/429 (Retry-After) and
every other refusal in Graph's error shape; anything unsupported under /graph/ is Graph's 400, never HTML or 5xx."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ApiToken
from tests.factories import LoginFactory, TenantFactory, admin_of, token_for
from tests.graph.conftest import BASE, graph_client, graph_error

pytestmark = pytest.mark.django_db


def bearer(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_no_token_a_bad_one_or_a_revoked_one_is_401(world):
    tenant, *_ = world
    for api in (APIClient(), bearer("not-a-token")):
        response = api.get(f"{BASE}/users")
        graph_error(response, 401, "InvalidAuthenticationToken")
        assert response["WWW-Authenticate"].startswith("Bearer")
    admin = admin_of(tenant)
    token = token_for(admin)
    ApiToken.objects.filter(user=admin).update(revoked_at=timezone.now())
    assert graph_error(bearer(token).get(f"{BASE}/users"), 401, "InvalidAuthenticationToken") == \
        "This API token was revoked."


def test_the_apis_token_scheme_and_the_browser_session_are_not_graphs(world, client):
    tenant, *_ = world
    admin = admin_of(tenant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    graph_error(api.get(f"{BASE}/users"), 401, "InvalidAuthenticationToken")
    client.force_login(admin)
    graph_error(client.get(f"{BASE}/users"), 401, "InvalidAuthenticationToken")


def test_a_login_without_a_tenant_is_403(world):
    graph_error(bearer(token_for(LoginFactory())).get(f"{BASE}/subscribedSkus"), 403, "Authorization_RequestDenied")


def test_throttled_as_the_api_is_429_with_retry_after(world, settings):
    tenant, *_ = world
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "2/minute",
                                                          "token_failures": "4/hour"}}
    api = graph_client(tenant)
    assert [api.get(f"{BASE}/subscribedSkus").status_code for _ in range(2)] == [200, 200]
    response = api.get(f"{BASE}/subscribedSkus")
    graph_error(response, 429, "TooManyRequests")
    assert 1 <= int(response["Retry-After"]) <= 60
    cache.clear()


@pytest.mark.parametrize("path", ["/graph/v1.0/groups", "/graph/v1.0/me", "/graph/beta/users", "/graph/",
                                  "/graph/v1.0/users/anna@contoso.example/manager", "/graph/v1.0/users/$count",
                                  "/graph/v1.0/subscribedSkus/a/b"])
def test_unsupported_paths_are_graphs_400(world, path):
    tenant, *_ = world
    message = graph_error(graph_client(tenant).get(path), 400, "BadRequest")
    assert message.startswith("Resource not found for the segment")


def test_a_method_a_path_lacks_is_405_in_graphs_shape(world):
    tenant, *_ = world
    api = graph_client(tenant)
    graph_error(api.delete(f"{BASE}/users"), 405, "Request_BadRequest")
    graph_error(api.get(f"{BASE}/users/anna@contoso.example/assignLicense"), 405, "Request_BadRequest")


def test_a_body_that_is_no_json_is_graphs_400(world):
    tenant, *_ = world
    response = graph_client(tenant).post(f"{BASE}/users/anna@contoso.example/assignLicense", "{nope",
                                         content_type="application/json")
    graph_error(response, 400, "BadRequest")


def test_refusals_before_any_view_are_graphs_too(world, settings):
    tenant, *_ = world
    api = graph_client(tenant)
    graph_error(api.get(f"{BASE}/users", {"$filter": "userPrincipalName eq 'a\x00'"}), 400, "Request_BadRequest")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    graph_error(api.post(f"{BASE}/$batch", {"requests": [{"id": "x" * 200}]}, format="json"), 413,
                "Request_EntityTooLarge")


def test_client_request_id_is_echoed(world):
    tenant, *_ = world
    response = graph_client(tenant).get(f"{BASE}/users/nobody@contoso.example",
                                        HTTP_CLIENT_REQUEST_ID="my-request-1")
    graph_error(response, 404, "Request_ResourceNotFound")
    assert response["client-request-id"] == "my-request-1"
    assert response.json()["error"]["innerError"]["client-request-id"] == "my-request-1"
    assert TenantFactory  # another tenant's objects: tests/graph/test_users.py


def test_the_bare_graph_path_is_graphs_error_too(world):
    tenant, *_ = world
    response = graph_client(tenant).post("/graph", {}, format="json")
    assert response["Content-Type"] == "application/json"
    graph_error(response, 400, "Request_BadRequest")
