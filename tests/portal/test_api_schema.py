"""The OpenAPI schema says what the API answers (tests/contract/run_schemathesis.py checks it against a
live portal in CI): every operation's problem+json errors, JSON bodies, the patterns and rules its
fields enforce; and the bugs that run found, each through the API."""

import itertools
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import CharField
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from portal.api.fields import NOT_BLANK_PATTERN, UPN_PATTERN, NameField
from portal.inputs import is_upn
from portal.models import ServiceIncident
from portal.wsgi import application
from tests.factories import (
    InvoiceFactory,
    InvoiceLineFactory,
    LoginFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
    token_for,
)

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [(path, method, operation) for path, item in SCHEMA["paths"].items()
              for method, operation in item.items() if method in METHODS]
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_documents_its_errors_as_problem_json(path, method, operation):
    responses = operation["responses"]
    expected = {"400", "401", "429"}
    if method != "get" or not re.match(r"/api/v1/(me|products)/", path):  # anyone signed in may read those
        expected.add("403")
    if "{" in path or method != "get":
        expected.add("404")
    if method != "get":
        expected |= {"409", "413", "422"}
    if "requestBody" in operation:
        expected.add("415")
    assert expected <= set(responses), f"{method.upper()} {path} lacks {expected - set(responses)}"
    for status, response in responses.items():
        if status >= "400":
            assert response["content"] == {"application/problem+json": {
                "schema": PROBLEM_REF, "examples": response["content"]["application/problem+json"]["examples"]}}
            assert response["description"]
    assert responses["429"]["headers"]["Retry-After"]["required"] is True


def test_no_component_is_described_by_a_mixin_s_docstring():
    # drf-spectacular describes a component by the first docstring up its serializer's classes: FieldsBuiltOnce's (how
    # its fields are copied) described Subscription, PlanChange, Step and the support console's three.
    described = {name: component["description"] for name, component in SCHEMA["components"]["schemas"].items()
                 if "description" in component}
    assert not {"Subscription", "PlanChange", "Step", "SupportPlanChange", "SupportPlanChangeDetail",
                "SupportSubscription"} & set(described)
    assert [name for name, text in described.items() if re.search(r"ModelSerializer|get_fields|serializer", text)] == []


def test_the_problem_component_names_what_every_error_has():
    problem = SCHEMA["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert {"errors", "field", "blockers"} <= set(problem["properties"])


@pytest.mark.parametrize(("path", "method", "operation"), [o for o in OPERATIONS if "requestBody" in o[2]],
                         ids=[f"{m.upper()} {p}" for p, m, o in OPERATIONS if "requestBody" in o])
def test_request_bodies_are_json_only(path, method, operation):
    # A form can't send true, null or 10,000 users: offering it made valid-looking requests fail.
    assert set(operation["requestBody"]["content"]) == {"application/json"}


# Every character but surrogates, and short strings of the characters where the rules differ.
CHARACTERS = [chr(point) for point in range(0x30000) if not 0xD800 <= point <= 0xDFFF]
TRICKY = [" ", "\t", "\n", "\x1c", "\x85", "\xa0", "\u2028", "\u202e", "\u3000", "\ufeff", "\x00", "\x7f", "a", "Å"]
MIXED = ["".join(combination) for n in range(2, 4) for combination in itertools.product(TRICKY, repeat=n)]


@pytest.mark.parametrize("allow_blank", [False, True])
def test_the_name_pattern_takes_what_a_name_field_takes(allow_blank):
    # A name is stripped, then must be plain text and not blank (schemathesis sent "\x0b" and "\x1a").
    # A field that may be blank takes "" through drf-spectacular's second branch (oneOf), so the
    # pattern must not take it too.
    field = NameField(max_length=500, allow_blank=allow_blank)
    pattern = re.compile(field.openapi_pattern)
    assert not pattern.fullmatch("")
    for text in CHARACTERS + MIXED:
        try:
            field.run_validation(text)
            taken = True
        except ValidationError:
            taken = False
        assert bool(pattern.fullmatch(text) or (allow_blank and text == "")) == taken, repr(text)


def test_the_not_blank_pattern_takes_what_a_text_field_takes():
    pattern = re.compile(NOT_BLANK_PATTERN)
    for text in CHARACTERS + MIXED:
        assert bool(pattern.search(text)) == bool(CharField().to_internal_value(text)), repr(text)


@pytest.mark.parametrize("upn", ["alice@contoso.com", "a@b", "o'neil.x_y-z!#^~@sub.contoso.com", "x" * 64 + "@a",
                                 ".alice@contoso.com", "alice.@contoso.com", "x" * 65 + "@a", "alice@@contoso.com",
                                 "alice@contoso..com", "alice smith@contoso.com", "ålice@contoso.com", "alice@"])
def test_the_upn_pattern_takes_what_the_upn_field_takes(upn):
    assert bool(re.fullmatch(UPN_PATTERN, upn)) == is_upn(upn)


def test_rules_across_fields_are_in_the_schema():
    components = SCHEMA["components"]["schemas"]
    assert components["LicensesChangeRequest"]["oneOf"] == [{"required": ["add"]}, {"required": ["remove"]}]
    assert len(components["ClockRequest"]["oneOf"]) == 3
    assert components["PatchedSubscriptionUpdateRequest"]["anyOf"]
    assert components["PatchedIncidentStatusRequest"]["required"] == ["status"]
    for path in ("/api/v1/subscriptions/{id}/", "/api/v1/support/incidents/{id}/"):
        assert SCHEMA["paths"][path]["patch"]["requestBody"]["required"] is True
    key = next(p for p in SCHEMA["paths"]["/api/v1/plan-changes/"]["post"]["parameters"]
               if p["name"] == "Idempotency-Key")
    assert key["schema"]["minLength"] == 1 and key["schema"]["maxLength"] == 255


# --- What the live run found, through the API ----------------------------------------------------


@pytest.fixture
def wsgi_db(db):
    # As Django's test client does: a request's end must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_an_invoice_line_of_no_subscription_answers_what_the_schema_says(at_date, wsgi_db):
    # The schema said an invoice line's subscription is always an integer; a line of the whole
    # invoice (scenario-loaded charges) has none, and the answer didn't conform.
    at_date("2026-06-16")
    tenant, _card, sub, _users = mosa_standard()
    invoice = InvoiceFactory(tenant=tenant)
    InvoiceLineFactory(invoice=invoice, subscription=None, description="Subscription charges")
    InvoiceLineFactory(invoice=invoice, subscription=sub)
    live = schemathesis.openapi.from_wsgi("/api/schema/", application)
    case = live["/api/v1/invoices/{id}/"]["GET"].Case(path_parameters={"id": str(invoice.pk)})
    response = case.call_and_validate(headers={"Authorization": f"Token {token_for(admin_of(tenant))}"},
                                      checks=[not_a_server_error, response_schema_conformance])
    assert [line["subscription"] for line in response.json()["lines"]] == [None, sub.pk]


@pytest.mark.parametrize("size", ["null", "abc", "0", "-1", "1.5", "٤"])
def test_a_page_size_that_isnt_a_whole_number_is_400_not_ignored(api, db, size):
    # The schema says page_size is an integer of 1 or more; anything else used to give the default page.
    tenant, _card, _sub, _users = mosa_standard()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    response = api.get("/api/v1/subscriptions/", {"page_size": size})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == ["page_size"]


@pytest.mark.parametrize("page", ["", "abc", "0", "٤"])
def test_a_page_that_isnt_a_page_number_is_404_even_empty(api, db, page):
    # schemathesis sent "?page=" (the schema says an integer) and got the first page.
    tenant, _card, _sub, _users = mosa_standard()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    response = api.get("/api/v1/subscriptions/", {"page": page})
    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        404, "application/problem+json", "not_found")
    assert api.get("/api/v1/subscriptions/").status_code == 200


def test_a_page_size_over_the_maximum_gives_the_maximum(api, db):
    tenant, _card, _sub, users = mosa_standard(users=3)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    assert len(api.get("/api/v1/users/", {"page_size": 100000}).json()["results"]) == 3
    assert len(api.get("/api/v1/users/", {"page_size": 2}).json()["results"]) == 2


def test_an_incident_for_an_organization_that_doesnt_exist_is_404_tenant_not_found(api, at_date):
    # A whole number is a schema-valid tenant id: no such tenant was 400 invalid ("Invalid pk").
    at_date("2026-06-16")
    tenant = TenantFactory()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(LoginFactory(is_staff=True))}")
    body = {"tenant": tenant.pk + 1000, "service": "teams", "status": "serviceDegradation", "title": "Calls drop"}
    response = api.post("/api/v1/support/incidents/", body, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "tenant_not_found"
    assert not ServiceIncident.objects.exists()
    response = api.post("/api/v1/support/incidents/", {**body, "tenant": tenant.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["tenant"] == tenant.pk
