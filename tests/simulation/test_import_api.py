"""POST /api/v1/support/tenants/import/: support staff send an export (the body) and get the tenant, what
was left out and assumed, and the admin login once; a bad file is a problem+json 4xx in the caller's
language, nothing written; tenant admins may not."""

import pytest
from rest_framework.test import APIClient

from tests.factories import TenantFactory, admin_of, token_for
from tests.simulation.conftest import counts, raw
from tests.simulation.tenants import DOMAIN, tenant_state

pytestmark = pytest.mark.django_db
URL = "/api/v1/support/tenants/import/"


def post(api, content: bytes, query: str = "", **headers):
    return api.generic("POST", f"{URL}{query}", content, content_type="application/json", **headers)


def test_support_imports_a_tenant_and_gets_its_admin_login_once(exported, support_api):
    data, before = exported
    response = post(support_api, raw(data), "?agreement=MCA&anonymize=false")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["tenant"]["name"], body["tenant"]["domain"], body["tenant"]["agreement"], body["users"]) == (
        "Rehearsal AB", DOMAIN, "MCA", 7)
    assert body["admin"]["username"] == "admin@rehearsal.example" and body["admin"]["api_token"].startswith("pcp_")
    assert {"what": "payment", "value": "card"} in body["assumed"] and body["unknown_skus"] == []
    assert tenant_state(DOMAIN) == before
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Token {body['admin']['api_token']}")
    assert admin.get("/api/v1/me/").json()["tenant"]["domain"] == DOMAIN
    again = post(support_api, raw(data))
    assert (again.status_code, again.json()["code"]) == (409, "tenant_already_imported")
    replaced = post(support_api, raw(data), "?replace=true")
    assert replaced.status_code == 201 and replaced.json()["replaced"] is True


def test_a_bad_file_is_a_problem_naming_its_paths_in_swedish_and_nothing_is_written(exported, support_api):
    data, _before = exported
    data["users"][0]["value"][0]["assignedLicenses"][0]["disabledPlans"] = ["nope"]
    response = post(support_api, raw(data), HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["detail"]) == ("import_invalid", "Exporten har 1 fel; inget importerades.")
    assert problem["errors"] == ['$.users[0].value[0].assignedLicenses[0].disabledPlans[0]: "nope" är inget GUID']
    assert counts() == (0, 0, 0, 0)


def test_not_json_and_a_bad_option(db, support_api):
    response = post(support_api, b"<html>")
    assert (response.status_code, response.json()["code"]) == (400, "import_not_json")
    response = post(support_api, b"{}", "?agreement=EA")
    assert (response.status_code, response.json()["errors"]) == (400, {"agreement": ['"EA" is not a valid choice.']})


def test_over_the_limit_the_body_is_refused_before_it_is_read(db, support_api, settings):
    settings.PORTAL_IMPORT_MAX_BYTES = 1000
    response = post(support_api, b" " * 1_100_000)
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")
    response = post(support_api, b" " * 5000)
    assert (response.status_code, response.json()["detail"]) == (
        413, "The file is 5 kB; an import takes at most 1 kB.")


def test_a_tenant_admin_may_not_import(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(TenantFactory()))}")
    assert post(api, b"{}").status_code == 403
    assert post(APIClient(), b"{}").status_code == 401


@pytest.mark.parametrize(("body", "query", "expected"), [
    (b"[" * 100_000 + b"]" * 100_000, "", (400, "import_not_json")),
    (b"[]", "", (400, "import_not_graph_export")),
    (b'"x"', "", (400, "import_not_graph_export")),
    (b"1e999", "", (400, "import_not_graph_export")),
    (b'{"users": "\\ud800"}', "", (400, "import_not_json")),
    (b"{}", "?admin=%00", (400, "nul_character")),
    (b"{}", "?admin=" + "x" * 151, (400, "invalid")),
    (b"{}", "?replace=maybe", (400, "invalid")),
])
def test_hostile_bodies_and_parameters_are_refused_and_write_nothing(db, support_api, body, query, expected):
    response = post(support_api, body, query)
    assert (response.status_code, response.json()["code"]) == expected
    assert response["Content-Type"] == "application/problem+json"
    assert counts() == (0, 0, 0, 0)


def test_a_post_without_a_body_or_its_type_is_not_json_not_a_server_error(db, support_api):
    """schemathesis's find: a POST with no body and no Content-Type reached the import as an empty dict."""
    response = support_api.generic("POST", URL)
    assert (response.status_code, response.json()["code"]) == (400, "import_not_json")


def test_a_choice_that_isnt_a_boolean_is_refused_in_swedish(db, support_api):
    """Django REST framework's Swedish catalog leaves some of its own refusals in English: the portal's has them."""
    response = post(support_api, b"{}", "?anonymize=maybe", HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 400
    assert response.json()["errors"]["anonymize"] == ["Måste vara ett giltigt booleskt värde (true eller false)."]


def test_an_export_over_what_the_upload_takes_states_the_imports_limit(db, support_api, settings):
    """The server refuses a body that large before reading it, stating the limit that path has (the import's,
    not every other request's 2.5 MB)."""
    settings.PORTAL_IMPORT_MAX_BYTES = 3_000_000
    response = post(support_api, b"{" + b" " * 4_100_000 + b"}")
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")
    assert response.json()["detail"] == "The request body is larger than 4000000 bytes."


def test_an_import_is_audited_in_the_support_logins_name_and_listed_among_support_actions(exported, support_api):
    """Who imported the tenant, how many users, and that it replaced one (whose own trail went with it)."""
    from portal.models import Event
    from portal.texts import event_key, render
    from support.selectors import support_actions

    data, _before = exported
    first = post(support_api, raw(data), "?anonymize=false").json()
    again = post(support_api, raw(data), "?replace=true")
    assert again.status_code == 201
    imported = Event.objects.get(verb="tenant.imported")  # the first import's went with the tenant it made
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username=imported.actor).is_staff and imported.tenant.domain == DOMAIN
    assert imported.data == {"users": 7, "anonymized": False, "replaced": True,
                             "replaced_tenant": first["tenant"]["id"]}
    assert render(event_key(imported.verb), imported.data) == (
        "Imported from a Microsoft Graph export: 7 users. It replaced the organization of the same domain, which "
        "was deleted whole.")
    assert imported in list(support_actions())
    anonymized = post(support_api, raw(data), "?anonymize=true").json()
    event = Event.objects.get(verb="tenant.imported", tenant_id=anonymized["tenant"]["id"])
    assert render(event_key(event.verb), event.data) == (
        "Imported from a Microsoft Graph export: 7 users. Names and domains anonymized.")
