"""Hostile input stops at the door (DESIGN.md "Integrity"): bodies limited in size and depth,
NUL refused, and nothing under /api/ answers HTML, whatever goes wrong."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from licensing.models import DirectoryUser
from portal.models import Event
from tests.factories import LoginFactory, SubscriptionFactory, TenantFactory, admin_of, token_for
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(name="Contoso", domain="contoso.com")
    admin = admin_of(tenant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    return tenant, admin, api


def assert_problem(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"/api/problems/{code}")
    assert body["title"] and body["detail"]
    return body


def nothing_written(before_users=0, before_events=0):
    return (DirectoryUser.objects.count(), Event.objects.count()) == (before_users, before_events)


# --- Bodies -------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_413_problem_json(contoso):
    _, _, api = contoso
    body = json.dumps({"upn": "big@contoso.com", "display_name": "x" * TEN_MB})
    response = api.post("/api/v1/users/", body, content_type="application/json")
    problem = assert_problem(response, 413, "body_too_large")
    assert problem["detail"] == "The request body is larger than 2621440 bytes."
    assert nothing_written()


def test_a_form_body_over_the_limit_is_413_problem_json_too(contoso):
    _, _, api = contoso
    response = api.post("/api/v1/users/", f"upn=big%40contoso.com&display_name={'x' * TEN_MB}",
                        content_type="application/x-www-form-urlencoded")
    assert_problem(response, 413, "body_too_large")
    assert nothing_written()


def test_a_page_form_over_the_limit_is_413_in_the_users_language(client, contoso):
    _, admin, _ = contoso
    client.force_login(admin)
    response = client.post("/users/licenses/", {"action": "assign", "users": "x" * TEN_MB},
                           HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Begäran är för stor." in page_text(response)


@pytest.mark.parametrize(("language", "detail"), [
    ("en", "JSON parse error - Expecting ',' delimiter: line 1 column 13 (char 12)"),
    ("sv", "Fel i JSON - Avgränsaren ',' väntades: rad 1 kolumn 13 (tecken 12)"),
])
def test_malformed_json_is_named_in_the_callers_language(contoso, language, detail):
    _, _, api = contoso
    response = api.post("/api/v1/users/", '{"upn": "a" "b"}', content_type="application/json",
                        HTTP_ACCEPT_LANGUAGE=language)
    assert assert_problem(response, 400, "parse_error")["detail"] == detail
    assert nothing_written()


def test_json_nested_100000_deep_is_400_not_a_recursion_error(contoso):
    _, _, api = contoso
    body = '{"upn": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api.post("/api/v1/users/", body, content_type="application/json")
    problem = assert_problem(response, 400, "parse_error")
    assert problem["detail"] == "JSON parse error - nested deeper than 32 levels."
    assert nothing_written()


def test_malformed_json_is_400_problem_json(contoso):
    _, _, api = contoso
    response = api.post("/api/v1/users/", '{"upn": "a@contoso.com",', content_type="application/json")
    assert_problem(response, 400, "parse_error")
    assert nothing_written()


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/support/tenants/import/", "/graph/v1.0/$batch"])
def test_a_multipart_body_without_its_boundary_is_400_not_a_server_error(contoso, path):
    """A client that says multipart/form-data without the boundary that splits it (schemathesis found it on
    the import's endpoint): the body can't be read, so it's the caller's 400, in the door's own shape."""
    _, _, api = contoso
    response = api.generic("POST", path, b"x", content_type="multipart/form-data")
    assert response.status_code == 400, response.content
    assert nothing_written()


def test_nul_in_any_json_string_is_400_even_in_a_field_nobody_reads(contoso):
    _, _, api = contoso
    body = '{"upn": "new@contoso.com", "display_name": "New", "note": "a\\u0000b"}'
    response = api.post("/api/v1/users/", body, content_type="application/json")
    problem = assert_problem(response, 400, "parse_error")
    assert problem["detail"] == "JSON parse error - a string contains a NUL character."
    assert nothing_written()


def test_a_lone_surrogate_in_a_json_string_is_400(contoso):
    _, _, api = contoso
    body = '{"upn": "new@contoso.com", "display_name": "New", "note": "\\ud800"}'
    response = api.post("/api/v1/users/", body, content_type="application/json")
    problem = assert_problem(response, 400, "parse_error")
    assert problem["detail"] == "JSON parse error - a string contains a lone surrogate."
    assert nothing_written()


# --- NUL in query strings, paths, headers and form fields ----------------------


def test_nul_in_the_search_query_is_400_problem_json(contoso):
    _, _, api = contoso
    problem = assert_problem(api.get("/api/v1/users/", {"search": "a\x00b"}), 400, "nul_character")
    assert problem["detail"] == "The request contains a NUL character, which isn't allowed."


def test_nul_in_a_path_or_a_header_is_400_problem_json(contoso):
    _, _, api = contoso
    assert_problem(api.delete("/api/v1/subscriptions/1/addons/A%00B/"), 400, "nul_character")
    response = api.post("/api/v1/plan-changes/", {"subscription": 1, "target_sku": "SPB"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k\x00")
    assert_problem(response, 400, "nul_character")


def test_nul_in_a_form_field_is_a_400_page_in_the_users_language(client, contoso):
    tenant, admin, _ = contoso
    client.force_login(admin)
    sub = SubscriptionFactory(tenant=tenant)
    response = client.post("/users/licenses/", {"action": "assign", "subscription": sub.pk,
                                                 "users": "a\x00@contoso.com"})
    assert response.status_code == 400
    assert "The request contains a NUL character, which isn't allowed." in page_text(response)
    response = client.get("/users/", {"q": "a\x00"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    assert "Begäran innehåller ett NUL-tecken, vilket inte är tillåtet." in page_text(response)


def test_nul_in_the_login_form_is_400(client, contoso):
    response = Client().post("/login/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400


# --- Nothing under /api/ answers HTML ------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/nope", "/api/v1/subscriptions/abc/",
                                  "/api/v1/subscriptions/%D9%A4/", "/api/v1/users/%C2%B2/"])
def test_an_unknown_api_path_is_404_problem_json(contoso, path):
    _, _, api = contoso
    assert_problem(api.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/nope", "/api/v1/subscriptions/abc/",
                                  "/api/v1/subscriptions/99999999999999999999999/upgrades/",
                                  "/api/v1/tokens/99999999999999999999999/"])
def test_an_unknown_api_path_is_404_problem_json_with_debug_on_too(contoso, settings, path):
    """make run has DEBUG on: Django's debug 404 page is HTML (portalctl then said the portal wasn't one)."""
    settings.DEBUG = True
    _, _, api = contoso
    assert_problem(api.get(path), 404, "not_found")
    assert_problem(api.delete(path), 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
def test_a_write_without_the_trailing_slash_is_404_problem_json_saying_so(contoso, settings, debug):
    """With DEBUG (make run) it was a 500 HTML page, without a 301 that a client follows as a GET."""
    settings.DEBUG = debug
    _, admin, api = contoso
    before = admin.api_tokens.count()
    problem = assert_problem(api.post("/api/v1/tokens", {"name": "curl"}, format="json"), 404, "not_found")
    assert problem["detail"] == "No such path: the API's paths end with a slash (/api/v1/tokens/)."
    assert admin.api_tokens.count() == before
    sv = api.post("/api/v1/tokens", {"name": "curl"}, format="json", HTTP_ACCEPT_LANGUAGE="sv")
    assert assert_problem(sv, 404, "not_found")["detail"].startswith("Ingen sådan sökväg")
    # A GET still follows APPEND_SLASH's redirect, as before.
    assert api.get("/api/v1/me").status_code == 301


def test_a_wrong_method_is_405_problem_json(contoso):
    _, _, api = contoso
    response = api.delete("/api/v1/me/")
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_a_session_call_without_csrf_is_403_problem_json(contoso):
    _, admin, _ = contoso
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(admin)
    response = browser.post("/api/v1/users/", {"upn": "new@contoso.com"}, format="json")
    problem = assert_problem(response, 403, "permission_denied")
    assert problem["detail"].startswith("CSRF Failed")
    assert nothing_written()


@pytest.mark.urls("tests.portal.urls_failing")
def test_a_crash_under_api_is_500_problem_json(contoso):
    _, _, api = contoso
    api.raise_request_exception = False
    response = api.get("/api/v1/test-crash/")
    problem = assert_problem(response, 500, "server_error")
    assert problem["detail"] == "Something went wrong on our side. Try again later."
    plain = Client(raise_request_exception=False).get("/api/test-crash-django/")
    assert_problem(plain, 500, "server_error")


@pytest.mark.urls("tests.portal.urls_failing")
def test_a_leftover_integrity_error_is_409_problem_json(contoso):
    tenant, _, api = contoso
    DirectoryUser.objects.create(tenant=tenant, upn="taken@contoso.com", display_name="Taken")
    response = api.post("/api/v1/test-integrity/")
    problem = assert_problem(response, 409, "conflict")
    assert problem["detail"] == "The request conflicts with the current state of the data. Reload it and try again."
    assert DirectoryUser.objects.count() == 1


def test_the_api_docs_are_still_html(contoso):
    staff = Client()
    staff.force_login(LoginFactory())
    assert staff.get("/api/docs/")["Content-Type"].startswith("text/html")
