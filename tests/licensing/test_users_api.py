"""POST users/: a UPN has Entra's characters only, a display name no control or
text-direction characters, and one UPN asked for by many at once is created once (409 for
the rest, never a 500)."""

import pytest
from rest_framework.test import APIClient

from licensing.models import DirectoryUser
from portal.models import Event
from tests.factories import TenantFactory, admin_of, token_for
from tests.helpers import concurrently


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(name="Contoso", domain="contoso.com")
    return tenant, token_for(admin_of(tenant))


def client_with(token) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.mark.django_db
@pytest.mark.parametrize("upn", ["o'brien@contoso.com", "a.b-c_d!e#f^g~h@contoso.com", "_x_@contoso.com",
                                 "Mixed.Case@Contoso.com", f"{'a' * 64}@contoso.com"])
def test_entras_upn_characters_are_accepted(contoso, upn):
    _, token = contoso
    response = client_with(token).post("/api/v1/users/", {"upn": upn, "display_name": "X"}, format="json")
    assert response.status_code == 201
    assert response.json()["upn"] == upn.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("upn", [
    "eve\u202emoc.osotnoc@contoso.com",  # right-to-left override
    "eve\u2066@contoso.com",  # left-to-right isolate
    "bell\x07@contoso.com",
    "user\u0664@contoso.com",  # an Arabic-Indic digit
    "user²@contoso.com",
    "åsa@contoso.com",
    "a b@contoso.com",
    "a&b@contoso.com",
    "a+b@contoso.com",
    "a@b@contoso.com",
    ".a@contoso.com",
    "a.@contoso.com",
    f"{'a' * 65}@contoso.com",
])
def test_other_characters_in_a_upn_are_refused(contoso, upn):
    _, token = contoso
    response = client_with(token).post("/api/v1/users/", {"upn": upn, "display_name": "X"}, format="json")
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")
    assert response.json()["errors"] == {"upn": [
        "Enter a user name of up to 64 letters (A-Z), digits (0-9) and ' . - _ ! # ^ ~, not starting or "
        "ending with a period, followed by @ and your organization's domain."]}
    assert (DirectoryUser.objects.count(), Event.objects.count()) == (0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Eve \u202eevE", "Eve\u200f", "Eve\u2067", "Tab\tName", "Bell\x07", "Del\x7f",
                                  "Line\u2028Break"])
def test_control_and_direction_characters_in_a_display_name_are_refused(contoso, name):
    _, token = contoso
    response = client_with(token).post("/api/v1/users/", {"upn": "eve@contoso.com", "display_name": name},
                                       format="json")
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")
    assert response.json()["errors"] == {"display_name": [
        "The name can't contain control characters or text-direction overrides."]}
    assert (DirectoryUser.objects.count(), Event.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_names_in_any_script_are_fine(contoso):
    _, token = contoso
    response = client_with(token).post("/api/v1/users/", {"upn": "amal@contoso.com", "display_name": "أمل ٤ Åsa"},
                                       format="json")
    assert (response.status_code, response.json()["display_name"]) == (201, "أمل ٤ Åsa")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_of_one_upn_create_it_once_and_answer_409_to_the_rest(contoso):
    tenant, token = contoso

    def post(i):
        response = client_with(token).post("/api/v1/users/", {"upn": "same@contoso.com", "display_name": f"N{i}"},
                                           format="json")
        return response.status_code, response["Content-Type"], response.json().get("code")

    results = concurrently(20, post)
    assert sorted(results, key=str) == sorted(
        [(201, "application/json", None)] + [(409, "application/problem+json", "user_exists")] * 19, key=str)
    assert DirectoryUser.objects.filter(upn="same@contoso.com").count() == 1
    assert Event.objects.filter(verb="user.created").count() == 1


@pytest.mark.django_db
def test_upns_taken_reads_a_file_of_any_size_a_few_hundred_names_a_query(monkeypatch):
    """A 200,000-user import asks which names are taken: one IN list of all of them is over SQLite's limit of
    parameters a statement (a 500); in slices it is a query a slice."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licensing import selectors
    from tests.factories import DirectoryUserFactory

    monkeypatch.setattr(selectors, "UPNS_PER_QUERY", 2)
    DirectoryUserFactory(upn="a@x.example")
    DirectoryUserFactory(upn="e@x.example")
    with CaptureQueriesContext(connection) as queries:
        taken = selectors.upns_taken([f"{c}@x.example" for c in "abcde"])
    assert (taken, len(queries.captured_queries)) == ({"a@x.example", "e@x.example"}, 3)
