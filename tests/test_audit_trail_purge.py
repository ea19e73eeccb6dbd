"""The audit trail records; it never decides (STYLE.md 16). Every rule that used to read ``Event`` reads a
fact kept on the row it concerns, so emptying the audit trail changes no answer: licenses an MCA admin
bought in the last 7 days (removable at once), add-ons that can be added back (also to the subscription a
plan change made), a stalled change handed to a worker moments ago (not handed again), the users a change
moved and the settings it reset."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from billing.selectors import addons_restorable, licenses_bought_recently, licenses_remove_window
from billing.services import subscription_addon_remove, subscription_licenses_change
from licensing.selectors import licenses_moved_count, licenses_moved_reset
from planchange import workflow
from planchange.models import PlanChange, PlanChangeStep
from planchange.services import plan_change_request, plan_change_retry
from portal import clock
from portal.errors import Conflict
from portal.models import Event
from support.selectors import change_users_moved
from tests.factories import (
    BillingProfileFactory,
    LicenseFactory,
    SubscriptionFactory,
    TenantFactory,
    addon,
    admin_of,
    mosa_standard,
    product,
)

pytestmark = pytest.mark.django_db


def purged() -> int:
    deleted, _ = Event.objects.all().delete()
    assert deleted and not Event.objects.exists()
    return deleted


def test_licenses_bought_in_the_last_7_days_stay_removable_at_once(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(agreement="MCA")
    profile = BillingProfileFactory(tenant=tenant, payment="invoice")
    sub = SubscriptionFactory(tenant=tenant, licenses=12, billing_profile=profile, payment="invoice")  # since 01-01
    subscription_licenses_change(tenant=tenant, subscription_id=sub.pk, add=3, actor="admin")
    sub.refresh_from_db()
    answers = (licenses_bought_recently(sub, now=clock.now()),
               licenses_remove_window(sub, today=clock.today(), count=3),
               licenses_remove_window(sub, today=clock.today(), count=4))
    assert answers == (3, (True, date(2027, 1, 1)), (False, date(2027, 1, 1)))
    purged()
    assert (licenses_bought_recently(sub, now=clock.now()),
            licenses_remove_window(sub, today=clock.today(), count=3),
            licenses_remove_window(sub, today=clock.today(), count=4)) == answers


def test_addons_removed_and_left_on_a_replaced_subscription_can_still_be_added_back(at_date):
    at_date("2026-06-15")
    tenant, _card, std, _users = mosa_standard(users=2)
    for code in ("AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"):
        std.subscription_addons.create(addon=addon(code), added_on=date(2026, 1, 1))
    subscription_addon_remove(tenant=tenant, subscription_id=std.pk, code="AUDIO_CONFERENCING", actor="admin")
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=std.pk, target_sku="SPB")
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    new = change.new_subscription
    answers = ([a.code for a in addons_restorable(subscription=std)], [a.code for a in addons_restorable(subscription=new)])
    assert answers == (["AUDIO_CONFERENCING"], ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"])
    purged()
    assert ([a.code for a in addons_restorable(subscription=std)],
            [a.code for a in addons_restorable(subscription=new)]) == answers


def test_a_stalled_change_handed_to_a_worker_moments_ago_is_not_handed_again(at_date):
    at_date("2026-06-15")
    tenant, _card, std, _users = mosa_standard(users=3)
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=std.pk, target_sku="SPB")
    PlanChange.objects.filter(pk=change.pk).update(status="running")
    PlanChangeStep.objects.filter(plan_change=change, name="validate").update(
        status="running", attempts=1, lease_until=timezone.now() - timedelta(minutes=3))
    plan_change_retry(change_id=change.pk, actor="support", reason="worker host rebooted")
    purged()
    with pytest.raises(Conflict) as again:
        plan_change_retry(change_id=change.pk, actor="support", reason="clicked twice")
    assert again.value.code == "retry_pending"


def test_the_users_a_change_moved_and_the_settings_it_reset_are_its_batches(at_date, settings):
    at_date("2026-06-15")
    settings.PLANCHANGE_MIGRATE_BATCH = 2  # three batches of five users
    tenant, _card, std, users = mosa_standard(users=5)
    LicenseFactory(subscription=SubscriptionFactory(tenant=tenant, product=product("EXCHANGEENTERPRISE")),
                   user=users[0])
    std.assignments.filter(user=users[1]).update(disabled_plans=["YAMMER_ENTERPRISE"])
    change = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=std.pk, target_sku="SPB")
    assert workflow.run(change.pk) == "completed"
    change.refresh_from_db()
    answers = (change_users_moved(change), licenses_moved_count(tenant=tenant, holder=change.holder),
               licenses_moved_reset(tenant=tenant, holder=change.holder), change.disabled_plans_before)
    assert answers == (5, 5, {users[1].upn: ["YAMMER_ENTERPRISE"]}, {users[1].upn: ["YAMMER_ENTERPRISE"]})
    purged()
    change.refresh_from_db()
    assert (change_users_moved(change), licenses_moved_count(tenant=tenant, holder=change.holder),
            licenses_moved_reset(tenant=tenant, holder=change.holder), change.disabled_plans_before) == answers


def test_no_rule_reads_the_audit_trail():
    """Only the trail's own readers touch ``Event``: the audit pages and API, webhooks' outbox."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readers = sorted(str(p.relative_to(root)) for app in ("portal", "billing", "licensing", "planchange", "webhooks",
                                                           "simulation", "support")
                     for p in (root / app).rglob("*.py") if "migrations" not in p.parts
                     and "Event.objects" in p.read_text())
    # portal/services.py writes the trail through portal.bulk.rows_insert (COPY), not Event.objects
    assert readers == ["planchange/selectors.py", "portal/api/tenant_views.py", "support/selectors.py",
                       "webhooks/services.py"]
