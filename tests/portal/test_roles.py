"""A Global reader looks at everything and changes nothing; billing and license admins each
change their own part (Microsoft 365 admin roles)."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from billing.models import Invoice
from licensing.models import LicenseAssignment
from planchange.models import PlanChange
from tests.factories import (
    DirectoryUserFactory,
    InvoiceFactory,
    LicenseFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    token_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(at_date):
    at_date("2026-06-16")
    tenant = TenantFactory()
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    sub = SubscriptionFactory(tenant=tenant, licenses=5, payment_method=card, payment="invoice")
    LicenseFactory(subscription=sub)
    invoice = InvoiceFactory(tenant=tenant, total="10.00", due_date=date(2026, 7, 1))
    free = DirectoryUserFactory(tenant=tenant)
    return tenant, sub, invoice, free


def api_as(tenant, role) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant, role))}")
    return api


def attempts(api, sub, invoice, free):
    # The change last: once it is under way, the subscription's licenses are read-only.
    return {
        "assign": api.post("/api/v1/licenses/assign/", {"users": [free.upn], "subscription": sub.pk},
                           format="json").status_code,
        "pay": api.post(f"/api/v1/invoices/{invoice.pk}/pay/").status_code,
        "plan_change": api.post("/api/v1/plan-changes/", {"subscription": sub.pk, "target_sku": "SPB"},
                                format="json", HTTP_IDEMPOTENCY_KEY="k").status_code,
    }


@pytest.mark.parametrize(("role", "expected"), [
    ("global_reader", {"plan_change": 403, "pay": 403, "assign": 403}),
    ("service_support_admin", {"plan_change": 403, "pay": 403, "assign": 403}),
    ("billing_admin", {"plan_change": 202, "pay": 200, "assign": 403}),
    ("license_admin", {"plan_change": 403, "pay": 403, "assign": 200}),
    ("global_admin", {"plan_change": 202, "pay": 200, "assign": 200}),
])
def test_what_each_role_may_change_through_the_api(tenant, role, expected):
    t, sub, invoice, free = tenant
    assert attempts(api_as(t, role), sub, invoice, free) == expected
    assert PlanChange.objects.count() == (1 if expected["plan_change"] == 202 else 0)
    assert Invoice.objects.get(pk=invoice.pk).balance == (0 if expected["pay"] == 200 else 10)
    assert LicenseAssignment.objects.filter(user=free).count() == (1 if expected["assign"] == 200 else 0)


def test_a_reader_reads_everything(tenant):
    t, sub, invoice, _free = tenant
    api = api_as(t, "global_reader")
    for url in ("/api/v1/subscriptions/", f"/api/v1/subscriptions/{sub.pk}/upgrades/", "/api/v1/invoices/",
                "/api/v1/users/", "/api/v1/plan-changes/", "/api/v1/events/", "/api/v1/service-health/"):
        assert api.get(url).status_code == 200, url
    denied = api.post("/api/v1/plan-changes/preview/", {"subscription": sub.pk, "target_sku": "SPB"}, format="json")
    assert (denied.status_code, denied.json()["detail"]) == (403, "Your admin role can't make this change.")


def test_a_reader_sees_no_buttons_and_cannot_post_the_pages(client, tenant):
    t, sub, invoice, free = tenant
    client.force_login(admin_of(t, "global_reader"))
    page = client.get(f"/billing/products/{sub.pk}/").content.decode()
    assert "Your admin role can view this subscription but not change it." in page
    assert "/checkout/" not in client.get(f"/billing/products/{sub.pk}/upgrades/").content.decode()
    assert "Manage product licenses" not in client.get("/users/").content.decode()
    assert f"/billing/invoices/{invoice.pk}/pay/" not in client.get("/billing/bills/").content.decode()
    for url, data in ((f"/billing/invoices/{invoice.pk}/pay/", {}),
                      (f"/billing/products/{sub.pk}/upgrades/SPB/checkout/", {"payment_method": "1"}),
                      ("/users/licenses/", {"action": "assign", "subscription": sub.pk, "users": [free.upn]})):
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Your admin role can't make this change." in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).balance == 10
    assert PlanChange.objects.count() == 0
    assert not LicenseAssignment.objects.filter(user=free).exists()


def test_views_that_write_must_name_their_roles():
    """Fail closed: the mixin's default lets no role write."""
    from portal.api.mixins import TenantScopedMixin

    assert TenantScopedMixin.write_roles == frozenset()
