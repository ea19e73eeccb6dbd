"""Support's Organizations list a change that failed on the date it was scheduled for, months after it was asked
(what a hostile probe found: the list looked at when it was requested)."""

from datetime import date

import pytest

from planchange.models import PlanChange
from planchange.services import plan_change_request
from simulation.moves import clock_move
from support.selectors import support_tenants
from tests.factories import BillingProfileFactory, LicenseFactory, SubscriptionFactory, admin_of

pytestmark = pytest.mark.django_db


def test_a_scheduled_change_that_failed_on_its_date_is_among_the_tenants_problems(at_date):
    at_date("2026-06-16")
    profile = BillingProfileFactory()
    tenant = profile.tenant
    sub = SubscriptionFactory(tenant=tenant, billing_profile=profile, payment="invoice", payment_method=None,
                              licenses=2, start_date=date(2025, 10, 1))
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    for _ in range(3):  # more users than the change's licenses by its date: it fails then
        LicenseFactory(subscription=sub)
    clock_move(actor="support@portal.local", to=date(2026, 10, 2))
    change.refresh_from_db()
    assert change.status == PlanChange.Status.FAILED
    (problems,) = support_tenants(tenants=[tenant])
    assert [c.pk for c in problems.failed] == [change.pk]
