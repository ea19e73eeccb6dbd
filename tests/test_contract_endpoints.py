"""The rest of CONTRACT.md's API: buying, payment methods, users, service health, events, and
support staff's plan changes, credit checks and incidents."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import CreditCheck, Invoice, PaymentMethod, Subscription
from licensing.models import DirectoryUser
from planchange import workflow
from planchange.models import PlanChange
from portal.models import ServiceIncident
from tests.factories import (
    BillingProfileFactory,
    CreditCheckFactory,
    IncidentFactory,
    LicenseFactory,
    LoginFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    token_for,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant = TenantFactory(name="Contoso", domain="contoso.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True, last4="4242")
    return tenant, client_for(admin_of(tenant)), card


def test_buying_a_subscription_charges_its_first_period(contoso):
    tenant, api, card = contoso
    response = api.post("/api/v1/subscriptions/", {"sku": "SPB", "licenses": 10, "term": "P1Y",
                                                   "billing_frequency": "monthly", "payment_method": card.pk},
                        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["sku"], body["licenses"], body["start_date"], body["renewal_date"], body["status"]) == (
        "SPB", 10, "2026-06-16", "2027-06-16", "active")
    invoice = Invoice.objects.get(tenant=tenant)
    assert (invoice.date, invoice.total, invoice.paid) == (date(2026, 6, 16), Decimal("231.00"), Decimal("231.00"))


def test_buying_on_mca_goes_on_the_profiles_next_invoice(at_date):
    at_date("2026-06-16")
    profile = BillingProfileFactory()
    api = client_for(admin_of(profile.tenant))
    response = api.post("/api/v1/subscriptions/", {"sku": "O365_BUSINESS_ESSENTIALS", "licenses": 3, "term": "P1M"},
                        format="json")
    assert response.status_code == 201
    invoice = Invoice.objects.get(tenant=profile.tenant)
    assert (invoice.date, invoice.billing_profile, invoice.total) == (date(2026, 7, 1), profile, Decimal("21.60"))


@pytest.mark.parametrize(("body", "code"), [
    ({"sku": "NOPE", "licenses": 1}, "unknown_sku"),
    ({"sku": "SPB", "licenses": 301}, "invalid_licenses"),
    ({"sku": "SPB", "licenses": 1, "term": "P3Y", "billing_frequency": "monthly"}, "invalid_offer"),
    ({"sku": "SPB", "licenses": 1, "payment_method": 999999}, "unknown_payment_method"),
])
def test_a_bad_purchase_changes_nothing(contoso, body, code):
    tenant, api, _card = contoso
    response = api.post("/api/v1/subscriptions/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert Subscription.objects.count() == 0 and Invoice.objects.count() == 0


def test_payment_methods_list_and_add_a_card(contoso):
    tenant, api, card = contoso
    assert [m["last4"] for m in api.get("/api/v1/payment-methods/").json()["results"]] == ["4242"]
    added = api.post("/api/v1/payment-methods/", {"number": "5555 5555 5555 4444", "expiry": "12/29",
                                                  "holder_name": "Contoso Ltd"}, format="json")
    assert added.status_code == 201
    assert (added.json()["last4"], added.json()["is_default"]) == ("4444", False)
    bad = api.post("/api/v1/payment-methods/", {"number": "1234", "expiry": "12/29", "holder_name": "X"},
                   format="json")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_card")
    assert bad.json()["errors"] == {"number": "Enter a card number of 12 to 19 digits."}
    assert PaymentMethod.objects.filter(tenant=tenant).count() == 2
    foreign = PaymentMethodFactory()
    assert api.get(f"/api/v1/payment-methods/{foreign.pk}/").status_code == 404


def test_adding_a_user(contoso):
    tenant, api, _card = contoso
    response = api.post("/api/v1/users/", {"upn": "Nora@Contoso.example", "display_name": "Nora Nyberg"},
                        format="json")
    assert response.status_code == 201
    assert response.json()["upn"] == "nora@contoso.example" and response.json()["licenses"] == []
    again = api.post("/api/v1/users/", {"upn": "nora@contoso.example"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "user_exists")
    outside = api.post("/api/v1/users/", {"upn": "nora@fabrikam.example"}, format="json")
    assert outside.status_code == 422
    assert DirectoryUser.objects.filter(tenant=tenant).count() == 1


def test_service_health_and_events(contoso):
    tenant, api, _card = contoso
    IncidentFactory(tenant=tenant, service="exchange", title="Mail delays")
    IncidentFactory(tenant=tenant, service="teams", status="resolved")
    IncidentFactory(service="sharepoint")  # another tenant's
    health = {row["service"]: row for row in api.get("/api/v1/service-health/").json()}
    assert health["exchange"]["status"] == "serviceDegradation"
    assert [i["title"] for i in health["exchange"]["incidents"]] == ["Mail delays"]
    assert health["teams"]["status"] == health["sharepoint"]["status"] == "serviceOperational"
    api.post("/api/v1/users/", {"upn": "ada@contoso.example"}, format="json")
    events = api.get("/api/v1/events/").json()
    assert events["results"][0]["verb"] == "user.created"
    assert all(e["verb"] != "tenant.loaded" for e in events["results"])


def test_support_endpoints_are_closed_to_tenant_tokens(contoso):
    _tenant, api, _card = contoso
    for url in ("/api/v1/support/plan-changes/", "/api/v1/support/credit-checks/", "/api/v1/support/incidents/",
                "/api/v1/support/clock/"):
        assert api.get(url).status_code == 403, url


def test_support_decides_credit_checks(contoso):
    tenant, _api, _card = contoso
    staff = client_for(LoginFactory(is_staff=True))
    check = CreditCheckFactory(tenant=tenant)
    approved = staff.post(f"/api/v1/support/credit-checks/{check.pk}/approve/").json()
    assert (approved["status"], approved["decided_on"]) == ("approved", "2026-06-16")
    again = staff.post(f"/api/v1/support/credit-checks/{check.pk}/reject/")
    assert (again.status_code, again.json()["code"]) == (409, "credit_check_decided")
    other = CreditCheckFactory(tenant=tenant)
    assert staff.post(f"/api/v1/support/credit-checks/{other.pk}/reject/").json()["status"] == "rejected"
    assert CreditCheck.objects.filter(status="pending").count() == 0


def test_support_opens_and_resolves_incidents(contoso):
    tenant, api, _card = contoso
    staff = client_for(LoginFactory(is_staff=True))
    opened = staff.post("/api/v1/support/incidents/", {"tenant": tenant.pk, "service": "exchange",
                                                       "status": "serviceInterruption", "title": "Outage"},
                        format="json")
    assert opened.status_code == 201
    incident_id = opened.json()["id"]
    assert api.get("/api/v1/service-health/").json()[0]["status"] == "serviceInterruption"
    bad = staff.post("/api/v1/support/incidents/", {"tenant": tenant.pk, "service": "fax", "status": "resolved",
                                                    "title": "x"}, format="json")
    assert bad.status_code == 400
    resolved = staff.patch(f"/api/v1/support/incidents/{incident_id}/", {"status": "serviceRestored"},
                           format="json").json()
    assert resolved["status"] == "serviceRestored" and resolved["resolved_at"]
    assert ServiceIncident.objects.get(pk=incident_id).is_healthy


def test_support_lists_changes_and_retries_a_stuck_one(contoso, monkeypatch):
    from planchange.services import plan_change_request

    tenant, _api, card = contoso
    std = SubscriptionFactory(tenant=tenant, licenses=5, payment_method=card)
    LicenseFactory(subscription=std)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=std.pk, target_sku="SPB")

    def broken(change_id):
        raise ValueError("no exchange rate")

    monkeypatch.setitem(workflow.STEPS, "bill", broken)
    workflow.run(change.pk)
    staff = client_for(LoginFactory(is_staff=True))
    listed = staff.get("/api/v1/support/plan-changes/", {"status": "running"}).json()
    assert [(c["id"], c["tenant"], c["error"]["code"]) for c in listed["results"]] == [
        (change.pk, tenant.pk, "step_failed")]
    monkeypatch.undo()
    retried = staff.post(f"/api/v1/support/plan-changes/{change.pk}/retry/").json()
    assert retried["error"] is None
    assert workflow.run(change.pk) == "completed"
    assert PlanChange.objects.get(pk=change.pk).status == "completed"
    again = staff.post(f"/api/v1/support/plan-changes/{change.pk}/retry/")
    assert (again.status_code, again.json()["code"]) == (409, "not_retryable")
