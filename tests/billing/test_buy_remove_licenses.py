"""Buy licenses / Remove licenses (Microsoft's "Buy or remove licenses"), through the API and the
subscription page: prorated to the cent, never below the licenses assigned, MCA's 7-day window and
the removal at renewal, and who can't change licenses here (and why)."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Invoice, Subscription
from portal.models import Event
from simulation.moves import clock_move
from tests.factories import (
    BillingProfileFactory,
    CreditCheckFactory,
    LicenseFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
)
from tests.helpers import page_text
from tests.planchange.test_plan_change_api import client_for

pytestmark = pytest.mark.django_db


def lines(invoice) -> list[tuple[str, str]]:
    return [(line.description, str(line.amount)) for line in invoice.lines.all()]


def test_buying_licenses_mid_period_is_prorated_to_the_cent(at_date):
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard(users=3)
    answer = client_for(admin_of(tenant)).post(f"/api/v1/subscriptions/{sub.pk}/licenses/", {"add": 5}, format="json")
    assert answer.status_code == 200
    body = answer.json()
    invoice = Invoice.objects.get(pk=body["invoice"]["id"])
    # June 16–30 is 15 of 30 days: 25 × 13.13 = 328.25 → 164.13 (half up) reversed; 30 × 13.13 = 393.90 →
    # 196.95 charged; the card pays 32.82 at once.
    assert lines(invoice) == [
        ("Microsoft 365 Business Standard (25 licenses), 2026-06-16 to 2026-07-01: reversed", "-164.13"),
        ("Microsoft 365 Business Standard (30 licenses), 2026-06-16 to 2026-07-01", "196.95"),
    ]
    assert (invoice.total, invoice.paid, body["effective"], body["subscription"]["licenses"]) == (
        Decimal("32.82"), Decimal("32.82"), "now", 30)


def test_removing_below_the_assigned_count_is_refused_with_the_numbers(at_date):
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard(users=3, licenses=5)
    api = client_for(admin_of(tenant))
    refused = api.post(f"/api/v1/subscriptions/{sub.pk}/licenses/", {"remove": 4}, format="json")
    assert (refused.status_code, refused.json()["code"], refused.json()["detail"], refused.json()["assigned"]) == (
        422, "licenses_too_few", "3 licenses are assigned to users. To keep 1, unassign 2 first.", 3)
    both = api.post(f"/api/v1/subscriptions/{sub.pk}/licenses/", {"add": 1, "remove": 1}, format="json")
    assert both.status_code == 400
    sub.refresh_from_db()
    assert (sub.licenses, Invoice.objects.filter(tenant=tenant).count()) == (5, 0)
    done = api.post(f"/api/v1/subscriptions/{sub.pk}/licenses/", {"remove": 2}, format="json")
    assert (done.status_code, done.json()["subscription"]["licenses"], done.json()["effective"]) == (200, 3, "now")


@pytest.fixture
def mca(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA", domain="window.example")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice")
    return tenant, profile


def test_mca_removes_within_7_days_of_the_purchase_with_the_unused_days_credited(mca):
    tenant, profile = mca
    fresh = SubscriptionFactory(tenant=tenant, licenses=5, billing_profile=profile, payment="invoice",
                                start_date=date(2026, 6, 10))  # 5 days ago
    body = client_for(admin_of(tenant)).post(f"/api/v1/subscriptions/{fresh.pk}/licenses/", {"remove": 2},
                                             format="json").json()
    # 06-10..07-10 is 30 days, 25 unused: 5 × 13.13 = 65.65 → 54.71 reversed; 3 × 13.13 = 39.39 → 32.83 charged;
    # on the profile's July invoice.
    invoice = Invoice.objects.get(pk=body["invoice"]["id"])
    assert (invoice.number, body["effective"], body["subscription"]["licenses"]) == (
        f"BP{profile.pk}-202607", "now", 3)
    assert lines(invoice) == [
        ("Microsoft 365 Business Standard (5 licenses), 2026-06-15 to 2026-07-10: reversed", "-54.71"),
        ("Microsoft 365 Business Standard (3 licenses), 2026-06-15 to 2026-07-10", "32.83"),
    ]


def test_mca_after_7_days_removes_at_the_renewal_and_renews_with_fewer(mca):
    tenant, profile = mca
    late = SubscriptionFactory(tenant=tenant, licenses=5, billing_profile=profile, payment="invoice")  # since 01-01
    LicenseFactory(subscription=late)
    api = client_for(admin_of(tenant))
    body = api.post(f"/api/v1/subscriptions/{late.pk}/licenses/", {"remove": 2}, format="json").json()
    assert (body["effective"], body["invoice"], body["subscription"]["licenses"],
            body["subscription"]["licenses_at_renewal"]) == ("2027-01-01", None, 5, 3)
    assert Event.objects.filter(verb="subscription.licenses_removal_scheduled").get().data == {
        "from": 5, "to": 3, "on": "2027-01-01"}
    clock_move(actor="support@portal.local", to=date(2027, 1, 1))
    late.refresh_from_db()
    assert (late.licenses, late.licenses_at_renewal) == (3, None)
    january = Invoice.objects.get(number=f"BP{profile.pk}-202702")
    assert ("Microsoft 365 Business Standard (3 licenses), 2027-01-01 to 2027-02-01", "39.39") in lines(january)


def test_a_scheduled_removal_can_be_dropped_by_keeping_the_licenses(client, mca):
    tenant, profile = mca
    late = SubscriptionFactory(tenant=tenant, licenses=5, billing_profile=profile, payment="invoice")
    client.force_login(admin_of(tenant))
    page = client.post(f"/billing/products/{late.pk}/licenses/", {"action": "remove", "count": "2"}, follow=True)
    text = page_text(page)
    assert "2 licenses will be removed at the renewal on 2027-01-01; until then users keep all 5." in text
    assert "Renews on 2027-01-01 with 3 licenses (removal scheduled)." in text
    kept = page_text(client.post(f"/billing/products/{late.pk}/licenses/", {"action": "keep"}, follow=True))
    assert "No licenses will be removed at the renewal." in kept
    late.refresh_from_db()
    assert (late.licenses, late.licenses_at_renewal) == (5, None)


@pytest.mark.parametrize(("source", "reason"), [
    ("trial", "It's a trial: buy the subscription to choose how many licenses it has."),
    ("product_key", "It's prepaid with a product key: redeem a key for a different number of licenses."),
    ("reseller", "It was bought through a reseller: ask your partner to change its licenses."),
])
def test_trials_product_keys_and_resellers_say_why_licenses_cant_change(client, at_date, source, reason):
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard()
    Subscription.objects.filter(pk=sub.pk).update(source=source)
    refused = client_for(admin_of(tenant)).post(f"/api/v1/subscriptions/{sub.pk}/licenses/", {"add": 1},
                                                format="json")
    assert (refused.status_code, refused.json()["code"], refused.json()["detail"]) == (
        409, "licenses_not_editable", reason)
    client.force_login(admin_of(tenant))
    assert f"Buy licenses / Remove licenses: {reason}" in page_text(client.get(f"/billing/products/{sub.pk}/"))


def test_licenses_wait_for_a_pending_credit_check(client, at_date):
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard()
    CreditCheckFactory(tenant=tenant, requested=date(2026, 6, 15))
    refused = client_for(admin_of(tenant)).post(f"/api/v1/subscriptions/{sub.pk}/licenses/", {"add": 1},
                                                format="json")
    detail = ("A credit check requested on 2026-06-15 is pending: licenses can't change until it's decided "
              "(within two business days).")
    assert (refused.status_code, refused.json()["code"], refused.json()["detail"]) == (
        409, "credit_check_pending", detail)


def test_the_page_buys_and_removes_licenses(client, at_date):
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard(users=2, licenses=5)
    client.force_login(admin_of(tenant))
    page = page_text(client.get(f"/billing/products/{sub.pk}/"))
    assert "Buy licenses" in page and "Remove licenses" in page
    assert "At most 3: licenses assigned to users can't be removed. Removed now; the unused days are credited." in page
    bought = page_text(client.post(f"/billing/products/{sub.pk}/licenses/", {"action": "buy", "count": "2"},
                                   follow=True))
    number = Invoice.objects.get(tenant=tenant).number
    assert (f"2 licenses bought: the subscription has 7. The rest of the billing period is on invoice {number}."
            in bought)
    refused = page_text(client.post(f"/billing/products/{sub.pk}/licenses/", {"action": "remove", "count": "6"},
                                    follow=True))
    assert "2 licenses are assigned to users. To keep 1, unassign 1 first." in refused
    assert "Enter a whole number of licenses from 1 to 1,000,000." in page_text(client.post(
        f"/billing/products/{sub.pk}/licenses/", {"action": "buy", "count": "٤"}, follow=True))
    sub.refresh_from_db()
    assert sub.licenses == 7


def test_a_refusal_is_shown_once_on_its_own_subscriptions_page_only(client, at_date):
    """The refusal kept across the redirect belongs to the page it leads to: another subscription's page
    opened in between (another tab) doesn't show it, and doesn't swallow it either."""
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard(users=2, licenses=5)
    other = SubscriptionFactory(tenant=tenant, product__sku="O365_BUSINESS_ESSENTIALS", licenses=3)
    client.force_login(admin_of(tenant))
    refused = client.post(f"/billing/products/{sub.pk}/licenses/", {"action": "remove", "count": "4"})
    assert refused["Location"] == f"/billing/products/{sub.pk}/#licenses"
    error = "2 licenses are assigned to users. To keep 1, unassign 1 first."
    assert error not in page_text(client.get(f"/billing/products/{other.pk}/"))
    assert error not in page_text(client.get("/billing/products/"))
    assert error in page_text(client.get(f"/billing/products/{sub.pk}/"))
    assert error not in page_text(client.get(f"/billing/products/{sub.pk}/"))  # shown once


def test_a_reader_sees_no_license_buttons_and_is_refused(client, at_date):
    at_date("2026-06-16")
    tenant, card, sub, _users = mosa_standard()
    client.force_login(admin_of(tenant, "global_reader"))
    assert "Licenses to add" not in page_text(client.get(f"/billing/products/{sub.pk}/"))
    assert client.post(f"/billing/products/{sub.pk}/licenses/", {"action": "buy", "count": "1"}).status_code == 403


def test_mca_removals_waiting_for_the_renewal_add_up_and_keep_licenses_bought_since(mca):
    tenant, profile = mca
    late = SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice")
    api = client_for(admin_of(tenant))

    def change(body):
        answer = api.post(f"/api/v1/subscriptions/{late.pk}/licenses/", body, format="json").json()
        return answer["subscription"]["licenses"], answer["subscription"]["licenses_at_renewal"], answer["effective"]

    assert change({"remove": 2}) == (12, 10, "2027-01-01")
    assert change({"add": 3}) == (15, 13, "now")  # the 3 bought renew too: still 2 fewer at the renewal
    # The 3 bought today can go at once (within 7 days of buying them)...
    assert change({"remove": 1}) == (14, 12, "now")
    # ...but not more than were bought: 3 more wait for the renewal, on top of the 2 waiting.
    assert change({"remove": 3}) == (14, 9, "2027-01-01")
    clock_move(actor="support@portal.local", to=date(2027, 1, 1))
    late.refresh_from_db()
    assert (late.licenses, late.licenses_at_renewal) == (9, None)


def test_mca_licenses_bought_by_mistake_are_removed_at_once_within_7_days(mca):
    tenant, profile = mca
    late = SubscriptionFactory(tenant=tenant, licenses=5, billing_profile=profile, payment="invoice")  # since 01-01
    api = client_for(admin_of(tenant))
    api.post(f"/api/v1/subscriptions/{late.pk}/licenses/", {"add": 1}, format="json")
    clock_move(actor="support@portal.local", to=date(2026, 6, 20))  # 5 days later
    body = api.post(f"/api/v1/subscriptions/{late.pk}/licenses/", {"remove": 1}, format="json").json()
    assert (body["effective"], body["subscription"]["licenses"]) == ("now", 5)
    # The line bought on 06-15 and its reversal on 06-20 are both on the July invoice: 5 days charged.
    july = Invoice.objects.get(number=f"BP{profile.pk}-202607")
    assert lines(july) == [
        ("Microsoft 365 Business Standard (5 licenses), 2026-06-15 to 2026-07-01: reversed", "-35.01"),
        ("Microsoft 365 Business Standard (6 licenses), 2026-06-15 to 2026-07-01", "42.02"),
        ("Microsoft 365 Business Standard (6 licenses), 2026-06-20 to 2026-07-01: reversed", "-28.89"),
        ("Microsoft 365 Business Standard (5 licenses), 2026-06-20 to 2026-07-01", "24.07"),
    ]


def test_a_scheduled_change_warns_when_users_outgrow_its_licenses(mca):
    """Scheduled at renewal for 2 licenses; the admin buys licenses and assigns a third user since: the
    change would fail on its date, and its warnings say so with the fix."""
    from planchange.services import plan_change_request

    tenant, profile = mca
    sub = SubscriptionFactory(tenant=tenant, licenses=3, billing_profile=profile, payment="invoice")
    LicenseFactory(subscription=sub)
    LicenseFactory(subscription=sub)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB",
                                 licenses=2, schedule="renewal")
    api = client_for(admin_of(tenant))
    assert api.get(f"/api/v1/plan-changes/{change.pk}/").json()["warnings"] == []
    LicenseFactory(subscription=sub)
    warnings = api.get(f"/api/v1/plan-changes/{change.pk}/").json()["warnings"]
    assert [(w["code"], w["detail"]) for w in warnings] == [("users_exceed_licenses", (
        "3 users have licenses of Microsoft 365 Business Standard now, but the change is for 2 licenses: on "
        "2027-01-01 it would fail. Cancel it and schedule it again with enough licenses, or unassign licenses."))]
