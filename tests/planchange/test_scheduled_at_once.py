"""The day loop runs the scheduled changes it starts together, each step for all of them at once
(``planchange.together``, issue 21), in the same statements however many; one it can't take runs in one
transaction of its own (``workflow.run_at_once``): the claims folded into the steps, the change read and locked
once, one commit instead of twelve. Either ends exactly as the step-by-step run a worker does, and anything that
run would record differently (a failure, more users than one batch) is rolled back and run step by step."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, InvoiceLine, Subscription
from licensing.models import LicenseAssignment, LicenseMoveBatch
from planchange import steps, together, workflow
from planchange.models import PlanChange
from portal.models import Event
from simulation import days
from tests.planchange.test_busy_days import _scheduled_at_renewal, move

pytestmark = pytest.mark.django_db


def _outcome() -> list[tuple]:
    """Each scheduled change's end, told without ids (rows made on the way get other ids in another run): the
    change, its steps, the tenant's invoice lines, audit events (in order; their data's keys, whose values name
    rows by id), subscriptions and licenses."""
    ends = []
    for change in PlanChange.objects.select_related("tenant").order_by("tenant__domain", "pk"):
        tenant = change.tenant
        ends.append((
            tenant.domain, change.status, change.error_code, change.credit, change.effective_date, change.licenses,
            list(change.steps.order_by("position").values_list("name", "status", "attempts", "error", "lease_until")),
            all(step.started_at <= step.finished_at for step in change.steps.all() if step.finished_at),
            _in_turn(change),
            sorted(Invoice.objects.filter(tenant=tenant).values_list(
                "number", "date", "due_date", "total", "paid", "refund", "refund_on", "credit_used",
                "payment_method__last4")),
            sorted(repr(batch) for batch in LicenseMoveBatch.objects.filter(tenant=tenant).values_list(
                "holder", "users", "reset_disabled_plans")),
            sorted(InvoiceLine.objects.filter(invoice__tenant=tenant)
                   .values_list("invoice__date", "description", "amount", "start", "end")),
            [(verb, sorted(data), {key: value for key, value in data.items() if key not in ROW_IDS})
             for verb, data in tenant.events.order_by("pk").values_list("verb", "data")],
            change.disabled_plans_before,
            sorted(Subscription.objects.filter(tenant=tenant)
                   .values_list("product__sku", "status", "licenses", "billed_until", "billed_amount", "held_by")),
            sorted(LicenseAssignment.objects.filter(user__tenant=tenant)
                   .values_list("subscription__product__sku", "user__upn")),
        ))
    return ends


def _one_by_one(patched) -> None:
    """No change run together: each one by one (``workflow.run_at_once``)."""
    patched.setattr(days, "changes_run_together", list)


def _in_turn(change) -> bool:
    """Each step started when the one before it had finished, as one after the other."""
    times = [t for step in change.steps.order_by("position") for t in (step.started_at, step.finished_at) if t]
    return times == sorted(times)


ROW_IDS = {"new_subscription", "invoice", "from", "to", "into"}  # an event's values naming rows made on the way


def _moved_step_by_step(monkeypatch, to: str, *, at_once: bool = False) -> list[tuple]:
    """The outcome of a move to ``to`` whose scheduled changes run step by step, each step in its own
    transactions (a worker's ``run``; ``at_once``: each change in one transaction), rolled back."""
    with transaction.atomic(), monkeypatch.context() as patched:
        _one_by_one(patched)
        if not at_once:
            patched.setattr(workflow, "run_at_once", workflow.run)
        move(to)
        ends = _outcome()
        transaction.set_rollback(True)
    return ends


def test_scheduled_changes_run_together_or_at_once_end_exactly_as_run_step_by_step(at_date, monkeypatch):
    at_date("2026-09-15")
    for i in range(3):
        _scheduled_at_renewal(i, users=6)
    move("2026-09-25")
    step_by_step = _moved_step_by_step(monkeypatch, "2026-11-02")
    at_once = _moved_step_by_step(monkeypatch, "2026-11-02", at_once=True)
    move("2026-11-02")
    ran_together = _outcome()
    assert [end[1:3] for end in ran_together] == [("completed", "")] * 3
    assert ran_together == step_by_step
    assert at_once == step_by_step


def _statements_of_the_changes(monkeypatch, changes: int, *, run_together: bool = True) -> list[str]:
    """``changes`` changes scheduled for their renewal, and the statements the day loop runs them in (together, or
    each in one transaction of its own)."""
    for i in range(changes):
        _scheduled_at_renewal(i, users=6)
    move("2026-09-25")
    captured: list[dict] = []
    real = days._scheduled_changes_run

    def counted(day, started):
        with CaptureQueriesContext(connection) as queries:
            happened = real(day, started)
        captured.extend(queries.captured_queries)
        return happened

    def step_by_step(change_id):
        raise AssertionError(f"change {change_id} was run step by step")

    monkeypatch.setattr(days, "_scheduled_changes_run", counted)
    monkeypatch.setattr(workflow, "run", step_by_step)  # each change in its one transaction, none after
    if not run_together:
        _one_by_one(monkeypatch)
    move("2026-10-01")
    assert PlanChange.objects.filter(status="completed").count() == changes
    return [q["sql"] for q in captured]


@pytest.mark.parametrize("changes", [1, 4])
def test_the_day_loop_runs_its_scheduled_changes_together_in_the_same_statements_however_many(at_date, monkeypatch,
                                                                                                changes):
    at_date("2026-09-15")
    statements = _statements_of_the_changes(monkeypatch, changes)
    assert len(statements) == CATALOG_STATEMENTS + STATEMENTS_TOGETHER[connection.vendor], "\n".join(
        sql[:120] for sql in statements)


@pytest.mark.parametrize("changes", [1, 4])
def test_a_scheduled_change_run_on_its_own_runs_in_one_transaction_of_the_same_statements(at_date, monkeypatch,
                                                                                           changes):
    at_date("2026-09-15")
    statements = _statements_of_the_changes(monkeypatch, changes, run_together=False)
    assert len(statements) == CATALOG_STATEMENTS + STATEMENTS_A_CHANGE * changes + 1, "\n".join(
        sql[:120] for sql in statements)


# Changes at renewal, MCA (their lines onto the billing profile's invoice), 6 users each: the catalog's parts they
# need, read once a move (billing.offers.catalog_pinned), then the same statements however many run together. On
# its own, each change in one transaction took 83, now 81 (the target's product comes with the change, and the day's
# list reads every change's end in one statement); step by step, 138, 12 transactions' BEGIN and COMMIT among them (savepoints in a test's
# transaction). The same on SQLite and PostgreSQL, but together: PostgreSQL writes many rows' values through a
# temporary table (portal.bulk.rows_update: COPY, UPDATE … FROM, DELETE), SQLite in one UPDATE … FROM VALUES.
CATALOG_STATEMENTS, STATEMENTS_A_CHANGE = 5, 81
STATEMENTS_TOGETHER = {"sqlite": 47, "postgresql": 64}


def test_a_bug_in_the_bill_of_a_scheduled_change_stops_it_for_support_as_a_workers_run_does(at_date,
                                                                                             monkeypatch):
    """Rolled back, then run step by step: the steps before the bill stay done (licenses moved: the workflow
    only moves forward), the bill failed, support sees it."""
    at_date("2026-09-15")
    _scheduled_at_renewal(0, users=6)
    move("2026-09-25")

    def broken(**_kwargs):
        raise ValueError("no exchange rate")

    monkeypatch.setattr(steps, "lines_bill", broken)
    monkeypatch.setattr(together.PeriodInvoices, "flush", lambda _self: broken())  # run together: rolled back
    moved = move("2026-10-01")
    change = PlanChange.objects.get()
    assert (change.status, change.error_code, change.error_detail) == (
        "running", "step_failed", "bill: ValueError: no exchange rate")
    assert list(change.steps.order_by("position").values_list("name", "status", "attempts")) == [
        ("validate", "done", 1), ("provision", "done", 1), ("migrate_licenses", "done", 1), ("bill", "failed", 1),
        ("cancel_source", "pending", 0), ("complete", "pending", 0)]
    assert LicenseAssignment.objects.filter(subscription=change.new_subscription).count() == 6
    assert Event.objects.filter(verb="plan_change.stuck").count() == 1
    assert [e["kind"] for e in moved["events"] if e["ref"] == f"plan_change/{change.pk}"] == ["plan_change"]


def test_a_scheduled_change_of_more_users_than_one_batch_is_run_step_by_step(at_date, settings, monkeypatch):
    """Its users move a batch per transaction, as a worker moves them; the change completes."""
    settings.PLANCHANGE_MIGRATE_BATCH = 4
    at_date("2026-09-15")
    _scheduled_at_renewal(0, users=6)
    move("2026-09-25")
    step_by_step, real = [], workflow.run
    monkeypatch.setattr(workflow, "run", lambda change_id: step_by_step.append(change_id) or real(change_id))
    move("2026-10-01")
    change = PlanChange.objects.get()
    assert step_by_step == [change.pk]
    assert change.status == "completed"
    assert LicenseAssignment.objects.filter(subscription=change.new_subscription).count() == 6
    assert Event.objects.filter(verb="licenses.moved").count() == 2  # 4 + 2, each batch in its transaction
    assert change.steps.filter(attempts=1, status="done").count() == 6


def test_a_scheduled_change_a_worker_has_taken_is_left_to_it(at_date, monkeypatch):
    """A change whose first step a worker holds is not run again here: the day's list says a worker finishes it."""
    at_date("2026-09-15")
    _scheduled_at_renewal(0)
    move("2026-09-25")
    real = days.scheduled_changes_start_due

    def started_and_taken(*, day: date) -> list[int]:
        started = real(day=day)
        for change_id in started:
            assert workflow._take(change_id, "validate") == "claimed"  # a worker woke by the sweep took it
        return started

    monkeypatch.setattr(days, "scheduled_changes_start_due", started_and_taken)
    moved = move("2026-10-01")
    change = PlanChange.objects.get()
    assert change.status == "running"
    assert list(change.steps.values_list("status", flat=True).order_by("position")) == [
        "running", "pending", "pending", "pending", "pending", "pending"]
    assert [e["detail"] for e in moved["events"] if e["kind"] == "plan_change"] == [
        "The change scheduled for renewal started; a worker finishes it."]


def _a_mixed_day() -> None:
    """Changes at renewal of every kind a day meets: plain ones, users with service plans turned off, a billing
    profile with account credit, one blocked on its date (a service incident), a tenant with two (the first
    fails: the other is under way), one with no users."""
    from portal.models import Tenant
    from tests.busy_world import credit
    from tests.factories import IncidentFactory, admin_of, mca_subscription, product

    for i in range(6):
        _scheduled_at_renewal(i, users=0 if i == 5 else 4)
    LicenseAssignment.objects.filter(user__tenant__domain="scheduled1.example").update(
        disabled_plans=["YAMMER_ENTERPRISE", "SWAY"])
    credited = Tenant.objects.get(domain="scheduled2.example")
    credit(credited, amount="75.00", profile=credited.billing_profiles.get())
    IncidentFactory(tenant=Tenant.objects.get(domain="scheduled3.example"))
    twice = Tenant.objects.get(domain="scheduled4.example")
    other = mca_subscription(twice.billing_profiles.get(), licenses=5, start_date=date(2025, 10, 1),
                             product=product("EXCHANGESTANDARD"))
    from planchange.services import plan_change_request

    plan_change_request(tenant=twice, user=admin_of(twice), subscription_id=other.pk, target_sku="EXCHANGEENTERPRISE",
                        schedule="renewal")


def test_a_mixed_day_of_scheduled_changes_run_together_ends_exactly_as_run_one_by_one(at_date, monkeypatch):
    at_date("2026-09-15")
    _a_mixed_day()
    move("2026-09-25")
    ran_together = []
    real = together._together
    monkeypatch.setattr(together, "_together", lambda ids: ran_together.extend(real(ids)) or ran_together)
    one_by_one = _moved_step_by_step(monkeypatch, "2026-11-02", at_once=True)
    assert ran_together == []
    move("2026-11-02")
    ends = _outcome()
    assert ends == one_by_one
    by_tenant = {end[0]: end[1:3] for end in ends}
    assert by_tenant["scheduled3.example"] == ("failed", "blocked")
    assert sorted(end[1:3] for end in ends if end[0] == "scheduled4.example") == [
        ("completed", ""), ("failed", "blocked")]
    # together: the plain one, plans off, the credit, no users; one by one: the blocked one, and the other
    # tenant's two (its first is blocked by its second, under way: the first of a tenant's runs together or none)
    assert len(ran_together) == 4
    plans_off = PlanChange.objects.get(tenant__domain="scheduled1.example")
    assert len(plans_off.disabled_plans_before) == 4  # its four users' plans, kept for admins to turn off again
    assert set(map(tuple, plans_off.disabled_plans_before.values())) == {("SWAY", "YAMMER_ENTERPRISE")}


def test_scheduled_changes_run_together_a_few_per_transaction_end_as_run_one_by_one(at_date, monkeypatch, settings):
    """``PLANCHANGE_TOGETHER_MOST`` per transaction, so a day of thousands holds no tenant's rows for long."""
    settings.PLANCHANGE_TOGETHER_MOST = 2
    at_date("2026-09-15")
    for i in range(5):
        _scheduled_at_renewal(i, users=3)
    move("2026-09-25")
    one_by_one = _moved_step_by_step(monkeypatch, "2026-11-02", at_once=True)
    chunks, real = [], together._together
    monkeypatch.setattr(together, "_together", lambda firsts: chunks.append(list(firsts)) or real(firsts))
    move("2026-11-02")
    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert _outcome() == one_by_one
