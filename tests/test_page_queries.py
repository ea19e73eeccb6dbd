"""Every page runs the same number of queries for a tenant of 10 users and of 10,000."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.models import DirectoryUser
from planchange import workflow
from planchange.services import plan_change_request
from tests.factories import (
    BillingProfileFactory,
    IncidentFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    LoginFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    licenses_bulk,
    product,
)

pytestmark = pytest.mark.django_db


def add_users(tenant, subscriptions, start, count):
    users = DirectoryUser.objects.bulk_create(
        (DirectoryUser(tenant=tenant, upn=f"user{i}@{tenant.domain}", display_name=f"User {i:05d}")
         for i in range(start, start + count)), batch_size=2000)
    for k, sub in enumerate(subscriptions):
        licenses_bulk(sub, users[k::len(subscriptions)])


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx)


def test_mosa_pages_do_not_grow_with_the_tenant(client, at_date):
    at_date("2026-06-16")
    tenant = TenantFactory(domain="big.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    e3 = SubscriptionFactory(tenant=tenant, product=product("ENTERPRISEPACK"), licenses=20000, payment_method=card)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=300,
                                payment_method=card)
    invoice = InvoiceFactory(tenant=tenant, total="10.00")
    InvoiceLineFactory(invoice=invoice)
    IncidentFactory(tenant=tenant, service="intune")  # not in the plans changed here: shown, not blocking
    admin = admin_of(tenant)
    add_users(tenant, [e3], 0, 10)
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=basic.pk, target_sku="SPB", licenses=300)
    assert workflow.run(change.pk) == "completed"  # a live change would block the checkout measured below
    client.force_login(admin)
    urls = [
        "/", "/billing/products/", f"/billing/products/{e3.pk}/", f"/billing/products/{e3.pk}/upgrades/",
        f"/billing/products/{e3.pk}/upgrades/SPE_E3/checkout/", f"/billing/products/{basic.pk}/",
        f"/billing/changes/{change.pk}/", f"/billing/changes/{change.pk}/progress/", "/billing/bills/",
        f"/billing/invoices/{invoice.pk}/", "/billing/change-plans-manually/", "/health/", "/users/",
        f"/users/?subscription={e3.pk}", "/users/?q=User%200000", "/users/?page=2",
        f"/billing/change-plans-manually/?from={e3.pk}&to={basic.pk}", "/billing/purchase/",
        "/billing/purchase/?sku=SPB&licenses=5", "/billing/purchase/?sku=SPB&licenses=5&fragment=total",
    ]
    for url in urls:  # warm up (sessions, content types, translations)
        client.get(url)
    small = {url: count_queries(client, url) for url in urls}
    add_users(tenant, [e3], 10, 9990)
    large = {url: count_queries(client, url) for url in urls}
    assert large == small
    assert DirectoryUser.objects.filter(tenant=tenant).count() == 10000


def test_mca_pane_and_support_console_do_not_grow_with_the_tenant(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(tenant__domain="mca.example")
    sub = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", licenses=20000,
                              product=product("ENTERPRISEPACK"), start_date=date(2025, 10, 1))
    admin = admin_of(profile.tenant)
    add_users(profile.tenant, [sub], 0, 10)
    staff = LoginFactory(is_staff=True)
    pages = [(admin, f"/billing/products/{sub.pk}/change/"),
             (admin, f"/billing/products/{sub.pk}/change/?fragment=quote&target_sku=SPE_E3&licenses=20000"),
             (admin, "/billing/purchase/?sku=SPE_E3&licenses=20000&term=P3Y&billing_frequency=annual"),
             (admin, f"/billing/change-plans-manually/?from={sub.pk}"),
             (staff, "/support/")]

    def measure():
        result = []
        for user, url in pages:
            client.force_login(user)
            client.get(url)
            result.append(count_queries(client, url))
        return result

    small = measure()
    add_users(profile.tenant, [sub], 10, 9990)
    assert measure() == small


# --- Many subscriptions, changes and tenants (issue 13): no query per subscription, change or tenant ----------

SKUS = ["O365_BUSINESS_PREMIUM", "SPB", "ENTERPRISEPACK", "SPE_E3", "SPE_E5", "O365_BUSINESS_ESSENTIALS"]


def api_queries(api, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx)


def test_the_tenants_pages_and_api_do_not_grow_with_its_subscriptions_and_scheduled_changes(client, at_date):
    """An MCA tenant with 2, then 6 subscriptions, each with a change scheduled for its renewal (whose
    warnings run the eligibility rules) and licensed users."""
    from rest_framework.test import APIClient

    from tests.factories import token_for

    at_date("2026-06-15")
    profile = BillingProfileFactory(tenant__domain="many.example")
    tenant = profile.tenant
    admin = admin_of(tenant)
    client.force_login(admin)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")

    def add(skus):
        for sku in skus:
            sub = SubscriptionFactory(tenant=tenant, billing_profile=profile, payment="invoice", licenses=50,
                                      product=product(sku), start_date=date(2025, 10, 1))
            add_users(tenant, [sub], sub.pk * 100, 5)
            plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, schedule="renewal",
                                target_sku="ENTERPRISEPREMIUM")  # a plan the tenant doesn't have: a new one
        return sub

    first = add(SKUS[:2])
    change = first.plan_changes.get()
    pages = ["/", "/billing/products/", f"/billing/products/{first.pk}/", "/billing/bills/", "/users/",
             f"/billing/changes/{change.pk}/"]
    apis = ["/api/v1/subscriptions/", "/api/v1/plan-changes/", f"/api/v1/plan-changes/{change.pk}/",
            f"/api/v1/subscriptions/{first.pk}/upgrades/", "/api/v1/users/", "/api/v1/invoices/"]

    def measure():
        for url in pages:
            client.get(url)
        for url in apis:
            api.get(url)
        return ({url: count_queries(client, url) for url in pages}, {url: api_queries(api, url) for url in apis})

    few = measure()
    add(SKUS[2:])
    assert measure() == few


def test_a_completed_change_reads_the_same_queries_for_5_and_50_users_moved(client, at_date, settings):
    """GET plan-changes/{id}/, the change's page and support's view of it, whatever the users it moved
    (in several batches, some with services turned off)."""
    from rest_framework.test import APIClient

    from licensing.models import LicenseAssignment
    from tests.factories import token_for

    settings.PLANCHANGE_MIGRATE_BATCH = 7
    at_date("2026-06-16")
    staff = LoginFactory(is_staff=True)
    counts = []
    for users in (5, 50):
        card = PaymentMethodFactory(is_default=True, tenant__domain=f"moved{users}.example")
        tenant = card.tenant
        sub = SubscriptionFactory(tenant=tenant, product=product("ENTERPRISEPACK"), licenses=users, payment_method=card)
        add_users(tenant, [sub], 0, users)
        LicenseAssignment.objects.filter(subscription=sub, user__upn__endswith=f"0@{tenant.domain}").update(
            disabled_plans=["YAMMER_ENTERPRISE"])
        admin = admin_of(tenant)
        change = plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPE_E5")
        assert workflow.run(change.pk) == "completed"
        change.refresh_from_db()
        assert len(change.disabled_plans_before) == (users + 9) // 10  # user0, user10, …
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
        client.force_login(admin)
        urls = [f"/billing/changes/{change.pk}/", f"/billing/products/{change.new_subscription_id}/"]
        for url in urls:
            client.get(url)
        api.get(f"/api/v1/plan-changes/{change.pk}/")
        measured = [count_queries(client, url) for url in urls] + [api_queries(api, f"/api/v1/plan-changes/{change.pk}/")]
        client.force_login(staff)
        client.get(f"/support/changes/{change.pk}/")
        measured.append(count_queries(client, f"/support/changes/{change.pk}/"))
        counts.append(measured)
    assert counts[0] == counts[1]


def test_support_pages_do_not_grow_with_the_tenants_and_their_changes(client, at_date):
    """2, then 8 tenants, each with active subscriptions (one blocked by a change under way), a failed
    change and a past-due invoice: the console, Organizations and their API read the same queries."""
    from rest_framework.test import APIClient

    from billing.models import Subscription
    from planchange.models import PlanChange
    from tests.factories import token_for

    at_date("2026-06-15")
    staff = LoginFactory(is_staff=True)
    client.force_login(staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(staff)}")

    def add(n):
        for _ in range(n):
            card = PaymentMethodFactory(is_default=True)
            tenant = card.tenant
            sub = SubscriptionFactory(tenant=tenant, licenses=10, payment_method=card)
            other = SubscriptionFactory(tenant=tenant, licenses=10, payment_method=card,
                                        product=product("ENTERPRISEPACK"))
            admin = admin_of(tenant)
            failed = plan_change_request(tenant=tenant, user=admin, subscription_id=other.pk, target_sku="SPE_E5")
            PlanChange.objects.filter(pk=failed.pk).update(status="failed", error_code="blocked")
            Subscription.objects.filter(pk=other.pk).update(held_by="")
            plan_change_request(tenant=tenant, user=admin, subscription_id=sub.pk, target_sku="SPB")
            InvoiceFactory(tenant=tenant, total="10.00", date=date(2026, 4, 1), due_date=date(2026, 5, 1))

    add(2)
    pages = ["/support/", "/support/tenants/", "/support/?status=queued", "/support/?status=failed"]
    apis = ["/api/v1/support/plan-changes/", "/api/v1/support/tenants/", "/api/v1/support/plan-changes/?status=stalled"]

    def measure():
        for url in pages:
            client.get(url)
        for url in apis:
            api.get(url)
        return ({url: count_queries(client, url) for url in pages}, {url: api_queries(api, url) for url in apis})

    few = measure()
    add(6)
    assert measure() == few


def test_a_clock_jump_runs_the_same_queries_for_2_and_8_tenants(at_date):
    """Two months over 2, then 8 tenants paying by card: the same statements (issue 13: no query per
    tenant on the clock jump). Each day's invoices, their lines, card charges and audit events are
    written in one statement each whatever the number of tenants (``billing.invoicing.PeriodInvoices``)."""
    from simulation.moves import clock_move

    at_date("2026-06-15")

    def tenants(n):
        for _ in range(n):
            card = PaymentMethodFactory(is_default=True)
            SubscriptionFactory(tenant=card.tenant, licenses=10, payment_method=card)

    def jump() -> int:
        with CaptureQueriesContext(connection) as ctx:
            clock_move(actor="support", days=61)
        return len(ctx)

    tenants(2)
    clock_move(actor="support", days=1)
    few = jump()
    tenants(6)
    clock_move(actor="support", days=1)
    many = jump()
    assert many == few, (few, many)  # each subscription is billed on the 1st of July and of August
