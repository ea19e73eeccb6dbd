"""A change scheduled for the renewal into a product the tenant already has (what a hostile probe found): it
completes on its date with the users it finds then, its quote charges the added licenses as the day will, it
says nothing false before, and changes that would chain into each other are refused when asked."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Count

from billing.models import Invoice, InvoiceLine, Subscription
from billing.services import subscription_recurring_billing_set
from licensing.models import LicenseAssignment
from licensing.services import license_assign
from planchange.inputs import Blocked
from planchange.models import PlanChange
from planchange.selectors import scheduled_change_warnings
from planchange.services import plan_change_preview, plan_change_request
from portal import clock
from simulation.moves import clock_move
from tests.factories import (
    BillingProfileFactory,
    DirectoryUserFactory,
    LicenseFactory,
    SubscriptionFactory,
    admin_of,
    mca_subscription,
    mosa_standard,
    product,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def fabrikam(at_date):
    """MCA, paying on time: Business Standard (10 licenses, 3 users) renewing on 2026-10-01, and Business
    Premium bought on 2026-06-15 (4 licenses, 1 other user), both a year billed monthly."""
    at_date("2026-06-16")
    profile = BillingProfileFactory()
    tenant = profile.tenant
    std = mca_subscription(profile, licenses=10, start_date=date(2025, 10, 1))
    premium = mca_subscription(profile, product=product("SPB"), licenses=4, start_date=date(2026, 6, 15))
    for _ in range(3):
        LicenseFactory(subscription=std)
    LicenseFactory(subscription=premium)
    return tenant, std, premium


def _schedule(tenant, sub, sku):
    return plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku=sku,
                               schedule="renewal")


def _doubled():
    return list(LicenseAssignment.objects.values("user", "subscription__product").annotate(n=Count("pk"))
                .filter(n__gt=1))


def test_the_change_completes_on_its_date_with_the_users_it_finds_then(fabrikam):
    tenant, std, premium = fabrikam
    change = _schedule(tenant, std, "SPB")
    assert (change.new_subscription_id, change.into_existing, change.licenses) == (premium.pk, True, 3)
    spare = [DirectoryUserFactory(tenant=tenant) for _ in range(2)]
    license_assign(tenant=tenant, subscription_id=std.pk, upns=[u.upn for u in spare], actor="admin")
    clock_move(actor="support@portal.local", to=date(2026, 10, 2))
    change.refresh_from_db()
    premium.refresh_from_db()
    assert (change.status, change.licenses, change.effective_date) == ("completed", 5, date(2026, 10, 1))
    assert (premium.licenses, premium.assigned_licenses, premium.held_by) == (9, 6, "")
    assert Subscription.objects.get(pk=std.pk).status == "cancelled"
    assert _doubled() == []


def test_the_quote_charges_the_added_licenses_for_the_rest_of_the_period_the_day_falls_in(fabrikam):
    tenant, std, premium = fabrikam
    quote = plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB", schedule="renewal")
    # Premium's period 2026-09-15..10-15 is billed on 09-15 for 4 licenses: 3 more from 10-01, 14 of 30 days.
    assert [(line["description"], line["amount"]) for line in quote.lines] == [
        ("Microsoft 365 Business Premium (3 licenses), 2026-10-01 to 2026-10-15", "32.34")]
    change = _schedule(tenant, std, "SPB")
    clock_move(actor="support@portal.local", to=date(2026, 10, 2))
    change.refresh_from_db()
    assert change.status == "completed"
    line = InvoiceLine.objects.get(idempotency_key=f"plan_change/{change.pk}/charge")
    assert (line.description, line.amount, line.subscription_id) == (
        "Microsoft 365 Business Premium (3 licenses), 2026-10-01 to 2026-10-15", Decimal("32.34"), premium.pk)


def test_a_scheduled_change_into_an_owned_product_warns_of_nothing_false(fabrikam, client):
    tenant, std, premium = fabrikam
    change = _schedule(tenant, std, "SPB")
    spare = DirectoryUserFactory(tenant=tenant)  # one more user on Standard than the change counted when asked
    license_assign(tenant=tenant, subscription_id=std.pk, upns=[spare.upn], actor="admin")
    assert scheduled_change_warnings(change) == []
    client.force_login(admin_of(tenant))
    assert "would fail" not in page_text(client.get(f"/billing/products/{std.pk}/"))


def test_a_change_into_a_subscription_that_changes_itself_is_refused_either_way(fabrikam):
    tenant, std, premium = fabrikam
    basic = mca_subscription(std.billing_profile, product=product("O365_BUSINESS_ESSENTIALS"), licenses=2,
                             start_date=date(2025, 10, 1))
    _schedule(tenant, std, "SPB")  # Standard goes into Premium at its renewal
    with pytest.raises(Blocked) as refused:  # Basic can't go into Standard, which leaves at the same time
        _schedule(tenant, basic, "O365_BUSINESS_PREMIUM")
    (blocker,) = refused.value.extra["blockers"]
    assert (blocker["code"], blocker["detail"]) == ("target_already_owned", (
        f"You already have Microsoft 365 Business Standard (subscription {std.pk}), which has a change of its own "
        "scheduled. A change can't go into it."))
    PlanChange.objects.all().delete()
    Subscription.objects.update(held_by="")
    _schedule(tenant, basic, "O365_BUSINESS_PREMIUM")  # Basic goes into Standard…
    with pytest.raises(Blocked) as refused:  # …so Standard can't change before it
        _schedule(tenant, std, "SPB")
    (blocker,) = refused.value.extra["blockers"]
    assert (blocker["code"], blocker["detail"]) == ("change_in_progress", (
        "A change of Microsoft 365 Business Basic scheduled for 2026-10-01 moves its users into this subscription."))


def test_a_subscription_that_will_not_renew_takes_no_change(fabrikam):
    tenant, std, premium = fabrikam
    subscription_recurring_billing_set(tenant=tenant, subscription_id=premium.pk, enabled=False, actor="admin")
    with pytest.raises(Blocked) as refused:
        _schedule(tenant, std, "SPB")
    (blocker,) = refused.value.extra["blockers"]
    assert (blocker["code"], blocker["detail"]) == ("target_already_owned", (
        f"You already have Microsoft 365 Business Premium (subscription {premium.pk}), whose recurring billing is "
        "off: it ends on 2027-06-15. A change can go into it only while it renews."))


def test_checkout_refuses_a_length_and_frequency_that_dont_exist_even_into_an_owned_product(client, at_date):
    at_date("2026-06-16")
    tenant, card, std, _users = mosa_standard(users=2)
    SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=2, payment_method=card)
    client.force_login(admin_of(tenant))
    page = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/",
                       {"term": "P9Y", "billing_frequency": "weekly", "payment_method": card.pk}, follow=True)
    assert page.redirect_chain[-1][0] == f"/billing/products/{std.pk}/upgrades/"  # a form nobody can send
    assert "Choose a subscription length: 1 month, 1 year or 3 years." in page_text(page)
    assert not PlanChange.objects.exists()
    assert clock.today() == date(2026, 6, 16) and not Invoice.objects.filter(tenant=tenant).exists()
