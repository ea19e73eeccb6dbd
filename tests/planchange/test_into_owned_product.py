"""Into a product already owned (DESIGN.md "The automatic change"; Partner Center's transition into an
existing subscription): when the tenant has an active subscription of the target product with the same term
and billing frequency, ending on or after the old one's term, the change goes into it: its licenses grow by
the users moved, they move onto it, the old subscription is cancelled and credited. Otherwise the target is
shown as unavailable with the reason. A user never holds two licenses of one product."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Count

from billing.models import Invoice, Subscription
from licensing.models import LicenseAssignment
from licensing.services import license_assign
from planchange import workflow
from planchange.models import PlanChange
from tests.factories import (
    LicenseFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
)
from tests.helpers import page_text
from tests.planchange.test_plan_change_api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(at_date):
    """Contoso on 2026-06-16: Business Standard (25 licenses; ann, bo, cy) and Business Premium (5 licenses;
    ann and dee), both a year billed monthly from 2026-01-01, by card."""
    at_date("2026-06-16")
    tenant, card, std, (ann, bo, cy) = mosa_standard(users=3)
    premium = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=5, payment_method=card)
    LicenseFactory(subscription=premium, user=ann)
    dee = LicenseFactory(subscription=premium).user
    return tenant, std, premium, (ann, bo, cy, dee)


def _products_held(user) -> list[str]:
    return sorted(LicenseAssignment.objects.filter(user=user).values_list("subscription__product__sku", flat=True))


def test_the_quote_says_the_change_goes_into_the_owned_subscription_and_charges_the_rest_of_its_period(owned):
    tenant, std, premium, _users = owned
    api = client_for(admin_of(tenant))
    quote = api.post("/api/v1/plan-changes/preview/", {"subscription": std.pk, "target_sku": "SPB"},
                     format="json").json()
    assert quote["into_subscription"] == premium.pk
    assert (quote["licenses"], quote["term"], quote["billing_frequency"]) == (2, "P1Y", "monthly")
    assert [(line["description"], line["amount"]) for line in quote["lines"]] == [
        ("Credit for 15 unused days of Microsoft 365 Business Standard (25 licenses)", "-164.13"),
        ("Microsoft 365 Business Premium (2 licenses), 2026-06-16 to 2026-07-01", "23.10"),
    ]
    assert quote["total"] == "-141.03"


def test_the_change_goes_into_the_owned_subscription_and_nobody_holds_a_product_twice(owned):
    tenant, std, premium, (ann, bo, cy, dee) = owned
    api = client_for(admin_of(tenant))
    answer = api.post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="into-1")
    assert answer.status_code == 202, answer.json()
    assert answer.json()["into_subscription"] == premium.pk
    change = PlanChange.objects.get()
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    premium.refresh_from_db()
    std.refresh_from_db()
    assert change.new_subscription_id == premium.pk and change.into_existing
    assert Subscription.objects.filter(tenant=tenant).count() == 2  # nothing provisioned
    assert (premium.licenses, premium.assigned_licenses, premium.status) == (7, 4, "active")
    assert (std.status, std.replaced_by_id, std.assigned_licenses) == ("cancelled", premium.pk, 0)
    assert [_products_held(u) for u in (ann, bo, cy, dee)] == [["SPB"]] * 4
    invoice = Invoice.objects.get(pk=change.invoice_id)
    assert [(line.description, line.amount, line.subscription_id) for line in invoice.lines.order_by("pk")] == [
        ("Credit for 15 unused days of Microsoft 365 Business Standard (25 licenses)", Decimal("-164.13"), std.pk),
        ("Microsoft 365 Business Premium (2 licenses), 2026-06-16 to 2026-07-01", Decimal("23.10"), premium.pk),
    ]
    # From now on Premium's period costs its 7 licenses: that is what a later credit would give back.
    assert premium.billed_amount == Decimal("161.70")


def test_an_owned_subscription_the_change_cannot_go_into_makes_the_target_unavailable_with_the_reason(owned):
    tenant, std, premium, _users = owned
    Subscription.objects.filter(pk=premium.pk).update(billing_frequency="annual")
    api = client_for(admin_of(tenant))
    body = api.get(f"/api/v1/subscriptions/{std.pk}/upgrades/").json()
    spb = next(u for u in body["upgrades"] if u["sku"] == "SPB")
    assert spb["supported"] is False
    (reason,) = spb["reasons"]
    assert reason["code"] == "target_already_owned"
    assert reason["detail"] == (
        f"You already have Microsoft 365 Business Premium (subscription {premium.pk}), billed annually; this "
        "subscription is billed monthly. A change can go into it only when both have the same length and "
        "billing frequency.")
    assert reason["action"]["url"] == f"/billing/products/{premium.pk}/"
    refused = api.post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"}, format="json",
                       HTTP_IDEMPOTENCY_KEY="into-2")
    assert refused.status_code == 422
    assert [b["code"] for b in refused.json()["blockers"]] == ["target_already_owned"]
    assert not PlanChange.objects.exists()


def test_an_owned_subscription_that_ends_first_is_no_place_to_go(owned):
    tenant, std, premium, _users = owned
    Subscription.objects.filter(pk=std.pk).update(start_date=date(2026, 3, 1))  # Standard's term ends 2027-03-01
    body = client_for(admin_of(tenant)).get(f"/api/v1/subscriptions/{std.pk}/upgrades/").json()
    (reason,) = next(u for u in body["upgrades"] if u["sku"] == "SPB")["reasons"]
    assert reason["detail"] == (
        f"You already have Microsoft 365 Business Premium (subscription {premium.pk}), whose term ends on "
        "2027-01-01, before this subscription's term ends on 2027-03-01.")


def test_checkout_says_which_subscription_the_users_go_into(client, owned):
    tenant, std, premium, _users = owned
    client.force_login(admin_of(tenant))
    body = page_text(client.get(f"/billing/products/{std.pk}/upgrades/SPB/checkout/"))
    assert (f"Into your existing subscription Microsoft 365 Business Premium (subscription {premium.pk}): "
            "its licenses grow from 5 to 7, one for each user who moves. 1 user already has it and keeps that "
            "license.") in body
    assert "Charge for the licenses added USD 23.10" in body
    assert ("The licenses added are billed from 2026-06-16 to the end of the subscription's billing period") in body
    upgrades = page_text(client.get(f"/billing/products/{std.pk}/upgrades/"))
    assert "Microsoft 365 Business Premium Into your existing subscription" in upgrades


def test_assigning_a_product_a_user_already_holds_gives_no_second_license(owned):
    tenant, std, premium, (ann, bo, cy, dee) = owned
    second = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=5)
    assigned = license_assign(tenant=tenant, subscription_id=second.pk, upns=[ann.upn, bo.upn], actor="admin")
    assert assigned == 1
    doubled = (LicenseAssignment.objects.values("user", "subscription__product")
               .annotate(n=Count("pk")).filter(n__gt=1))
    assert not doubled.exists()


def test_the_mca_pane_says_the_change_goes_into_the_owned_subscription(client, at_date):
    from tests.factories import BillingProfileFactory, mca_subscription

    at_date("2026-06-16")
    profile = BillingProfileFactory()
    tenant = profile.tenant
    std = mca_subscription(profile, licenses=10)
    premium = mca_subscription(profile, product=product("SPB"), licenses=4)
    for _ in range(3):
        LicenseFactory(subscription=std)
    client.force_login(admin_of(tenant))
    body = page_text(client.get(f"/billing/products/{std.pk}/change/?target_sku=SPB"))
    assert (f"Into your existing subscription Microsoft 365 Business Premium (subscription {premium.pk}): its "
            "licenses grow from 4 to 7, one for each user who moves.") in body
    html = client.get(f"/billing/products/{std.pk}/change/?target_sku=SPB").content.decode()
    assert 'value="10" data-requote disabled' in html  # the licenses aren't the admin's to choose here
    assert '<select id="term" name="term" data-requote disabled>' in html
    assert 'data-testid="into-note">Into your existing subscription: its subscription length' in html
    fragment = page_text(client.get(f"/billing/products/{std.pk}/change/?target_sku=SPB&fragment=quote"))
    assert "its licenses grow from 4 to 7" in fragment


def test_the_progress_page_says_what_a_change_into_an_owned_subscription_did(client, owned):
    tenant, std, premium, _users = owned
    client.force_login(admin_of(tenant))
    change = client_for(admin_of(tenant)).post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"},
                                               format="json", HTTP_IDEMPOTENCY_KEY="into-page").json()
    assert workflow.run(change["id"]) == "completed"
    body = page_text(client.get(f"/billing/changes/{change['id']}/"))
    assert "Add licenses to the subscription the users go into — Done" in body
    assert "Billed: the licenses added are charged for the rest of the period and USD 164.13 credited" in body
    swedish = page_text(client.get(f"/billing/changes/{change['id']}/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Lägg till licenser i prenumerationen som användarna flyttas till — Klar" in swedish


def test_the_old_subscriptions_own_count_is_no_bar_to_going_into_an_owned_plan(at_date):
    """Office 365 E1 with 400 licenses (3 used) into the Business Premium the tenant has (5 licenses, at most 300):
    the change adds 3, so Premium's maximum isn't reached (it was refused licenses_too_many, counting 400)."""
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard()
    e1 = SubscriptionFactory(tenant=tenant, product=product("STANDARDPACK"), licenses=400, payment_method=card)
    for _ in range(3):
        LicenseFactory(subscription=e1)
    premium = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=5, payment_method=card)
    quote = client_for(admin_of(tenant)).post("/api/v1/plan-changes/preview/",
                                              {"subscription": e1.pk, "target_sku": "SPB"}, format="json")
    assert quote.status_code == 200, quote.json()
    assert (quote.json()["into_subscription"], quote.json()["licenses"]) == (premium.pk, 3)
