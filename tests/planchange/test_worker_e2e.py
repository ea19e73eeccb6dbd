"""The automatic change through a real Celery worker process (never eager mode), on the
configured database and broker: SQLite + filesystem by default, PostgreSQL + Redis in CI.
Also: the worker SIGKILLed in the middle of migrate_licenses and of bill."""

import time
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from billing.models import Invoice, InvoiceLine, Subscription
from licensing.models import LicenseAssignment
from planchange.models import PlanChange, PlanChangeStep
from portal import clock
from simulation.sweep import sweep_run
from tests.factories import (
    LicenseFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.worker import celery_worker, kill_hard, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

USERS = 22


@pytest.fixture
def contoso():
    clock.set_date(date(2026, 6, 16))
    tenant, card, std, users = mosa_standard(users=USERS)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5,
                                payment_method=card, term="P1M")
    for user in users[:3]:
        LicenseAssignment.objects.filter(user=user, subscription=std).update(
            disabled_plans=["SHAREPOINTSTANDARD", "YAMMER_ENTERPRISE"])
    LicenseFactory(user=users[4], subscription=basic)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return api, std, basic, users


def request_change(api, std) -> int:
    response = api.post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"}, format="json",
                        HTTP_IDEMPOTENCY_KEY=f"e2e-{std.pk}")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def assert_completed_exactly_once(change_id, std, basic, users):
    change = PlanChange.objects.get(pk=change_id)
    assert change.status == "completed", (change.status, change.error_detail)
    assert list(change.steps.values_list("status", flat=True)) == ["done"] * 6
    new = change.new_subscription
    assert Subscription.objects.filter(tenant=std.tenant, product__sku="SPB").count() == 1
    assert (new.status, new.licenses, new.start_date) == ("active", 25, date(2026, 6, 16))
    std.refresh_from_db()
    assert (std.status, std.cancelled_on) == ("cancelled", date(2026, 6, 16))
    # Every user licensed once on the new plan, nobody left on the old one, disabled plans reset and kept.
    assert LicenseAssignment.objects.filter(subscription=std).count() == 0
    held = list(LicenseAssignment.objects.filter(subscription=new).values_list("user_id", "disabled_plans"))
    assert sorted(u for u, _ in held) == sorted(u.pk for u in users)
    assert all(plans == [] for _, plans in held)
    assert change.disabled_plans_before == {u.upn: ["SHAREPOINTSTANDARD", "YAMMER_ENTERPRISE"] for u in users[:3]}
    assert set(users[4].licenses.values_list("subscription_id", flat=True)) == {new.pk, basic.pk}
    # One invoice, one credit line, exactly the worked example.
    assert InvoiceLine.objects.filter(idempotency_key=f"plan_change/{change.pk}/credit").count() == 1
    assert Invoice.objects.filter(tenant=std.tenant).count() == 1
    invoice = change.invoice
    assert (invoice.date, invoice.total) == (date(2026, 6, 16), Decimal("413.37"))
    assert [(str(line.amount), line.start, line.end) for line in invoice.lines.all()] == [
        ("-164.13", date(2026, 6, 16), date(2026, 7, 1)), ("577.50", date(2026, 6, 16), date(2026, 7, 16))]


def test_a_change_requested_through_the_api_completes_on_a_real_worker(contoso, tmp_path):
    api, std, basic, users = contoso
    with celery_worker(tmp_path / "worker.log"):
        change_id = request_change(api, std)
        wait_for(lambda: PlanChange.objects.get(pk=change_id).status in ("completed", "failed"), timeout=60,
                 what="the change to finish")
    assert_completed_exactly_once(change_id, std, basic, users)
    body = api.get(f"/api/v1/plan-changes/{change_id}/").json()
    assert (body["status"], body["credit"], body["new_subscription"]) == (
        "completed", "-164.13", PlanChange.objects.get(pk=change_id).new_subscription_id)


def _every_user_licensed_once(std, users) -> bool:
    """At any moment each user holds the old or the new plan, never neither and never both."""
    change = PlanChange.objects.get(subscription=std)
    subs = [std.pk] + ([change.new_subscription_id] if change.new_subscription_id else [])
    counts = dict.fromkeys((u.pk for u in users), 0)
    for user_id in LicenseAssignment.objects.filter(subscription_id__in=subs).values_list("user_id", flat=True):
        counts[user_id] += 1
    return set(counts.values()) == {1}


def _finish_with_a_new_worker(tmp_path, change_id):
    """A new worker; the sweep (as beat would) hands it the change once the lease lapses."""
    with celery_worker(tmp_path / "worker2.log"):
        def finished():
            sweep_run()
            return PlanChange.objects.get(pk=change_id).status in ("completed", "failed")

        wait_for(finished, timeout=90, interval=1.0, what="the change to finish after the crash")


def test_worker_killed_in_the_middle_of_migrate_licenses(contoso, tmp_path):
    api, std, basic, users = contoso
    with celery_worker(tmp_path / "worker1.log", PLANCHANGE_MIGRATE_BATCH="4", PLANCHANGE_STEP_DELAY="1",
                       PLANCHANGE_STEP_LEASE="3") as worker:
        change_id = request_change(api, std)

        def some_moved():
            change = PlanChange.objects.get(pk=change_id)
            return change.new_subscription_id and 0 < LicenseAssignment.objects.filter(
                subscription_id=change.new_subscription_id).count() < USERS

        wait_for(some_moved, timeout=60, interval=0.05, what="migration to be under way")
        kill_hard(worker)
    assert PlanChangeStep.objects.get(plan_change_id=change_id, name="migrate_licenses").status == "running"
    assert _every_user_licensed_once(std, users)
    _finish_with_a_new_worker(tmp_path, change_id)
    assert_completed_exactly_once(change_id, std, basic, users)
    assert PlanChangeStep.objects.get(plan_change_id=change_id, name="migrate_licenses").attempts == 2


def test_worker_killed_in_the_middle_of_bill(contoso, tmp_path):
    api, std, basic, users = contoso
    with celery_worker(tmp_path / "worker1.log", PLANCHANGE_PAUSE_INSIDE="bill:60",
                       PLANCHANGE_STEP_LEASE="3") as worker:
        change_id = request_change(api, std)
        wait_for(lambda: PlanChangeStep.objects.get(plan_change_id=change_id, name="bill").status == "running",
                 timeout=60, interval=0.05, what="bill to start")
        time.sleep(1.5)  # inside bill's transaction: the lines are written, not committed
        kill_hard(worker)
    assert InvoiceLine.objects.filter(subscription__tenant=std.tenant).count() == 0
    _finish_with_a_new_worker(tmp_path, change_id)
    assert_completed_exactly_once(change_id, std, basic, users)
    assert PlanChangeStep.objects.get(plan_change_id=change_id, name="bill").attempts == 2


def test_a_scheduled_change_runs_on_the_worker_when_support_moves_the_clock(tmp_path):
    from tests.factories import BillingProfileFactory, LoginFactory

    clock.set_date(date(2026, 6, 15))
    profile = BillingProfileFactory(name="Fabrikam billing")
    sub = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", licenses=12,
                              start_date=date(2025, 7, 1))
    users = [LicenseFactory(subscription=sub).user for _ in range(4)]
    admin_api = APIClient()
    admin_api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(profile.tenant))}")
    staff_api = APIClient()
    staff_api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(LoginFactory(is_staff=True))}")
    change = admin_api.post("/api/v1/plan-changes/", {"subscription": sub.pk, "target_sku": "SPB",
                                                      "schedule": "renewal"},
                            format="json", HTTP_IDEMPOTENCY_KEY="sched").json()
    assert (change["status"], change["scheduled_for"]) == ("scheduled", "2026-07-01")
    with celery_worker(tmp_path / "worker.log"):
        staff_api.post("/api/v1/support/clock/", {"days": 10}, format="json")
        time.sleep(2)
        assert PlanChange.objects.get(pk=change["id"]).status == "scheduled"  # not yet
        staff_api.post("/api/v1/support/clock/", {"to": "2026-07-01"}, format="json")
        wait_for(lambda: PlanChange.objects.get(pk=change["id"]).status == "completed", timeout=60,
                 what="the scheduled change")
    done = PlanChange.objects.get(pk=change["id"])
    assert done.new_subscription.start_date == date(2026, 7, 1)
    assert LicenseAssignment.objects.filter(subscription=done.new_subscription).count() == len(users)
    assert [str(line.amount) for line in done.invoice.lines.all()] == ["277.20"]  # at renewal: no credit
    assert done.invoice.date == date(2026, 8, 1)
