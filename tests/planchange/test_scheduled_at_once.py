"""The day loop runs each scheduled change it starts in one transaction (``workflow.run_at_once``, issue 21): the
claims folded into the steps, the change read and locked once, one commit instead of twelve; it ends exactly as
the step-by-step run a worker does, and anything that run would record differently (a failure, more users than
one batch) is rolled back and run step by step."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import InvoiceLine, Subscription
from licensing.models import LicenseAssignment
from planchange import steps, workflow
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
    for change in PlanChange.objects.select_related("tenant").order_by("tenant__domain"):
        tenant = change.tenant
        ends.append((
            tenant.domain, change.status, change.error_code, change.credit, change.effective_date, change.licenses,
            list(change.steps.order_by("position").values_list("name", "status", "attempts", "error", "lease_until")),
            all(step.started_at <= step.finished_at for step in change.steps.all() if step.finished_at),
            sorted(InvoiceLine.objects.filter(invoice__tenant=tenant)
                   .values_list("invoice__date", "description", "amount", "start", "end")),
            [(verb, sorted(data)) for verb, data in tenant.events.order_by("pk").values_list("verb", "data")],
            sorted(Subscription.objects.filter(tenant=tenant)
                   .values_list("product__sku", "status", "licenses", "billed_until", "billed_amount", "held_by")),
            sorted(LicenseAssignment.objects.filter(user__tenant=tenant)
                   .values_list("subscription__product__sku", "user__upn")),
        ))
    return ends


def _moved_step_by_step(monkeypatch, to: str) -> list[tuple]:
    """The outcome of a move to ``to`` whose scheduled changes run step by step, each step in its own
    transactions (a worker's ``run``), rolled back."""
    with transaction.atomic(), monkeypatch.context() as patched:
        patched.setattr(workflow, "run_at_once", workflow.run)
        move(to)
        ends = _outcome()
        transaction.set_rollback(True)
    return ends


def test_a_scheduled_change_run_at_once_ends_exactly_as_one_run_step_by_step(at_date, monkeypatch):
    at_date("2026-09-15")
    for i in range(3):
        _scheduled_at_renewal(i, users=6)
    move("2026-09-25")
    step_by_step = _moved_step_by_step(monkeypatch, "2026-11-02")
    move("2026-11-02")
    at_once = _outcome()
    assert [end[1:3] for end in at_once] == [("completed", "")] * 3
    assert at_once == step_by_step


def _statements_of_the_changes(monkeypatch, changes: int) -> list[str]:
    """``changes`` changes scheduled for their renewal, and the statements the day loop runs them in."""
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
    move("2026-10-01")
    assert PlanChange.objects.filter(status="completed").count() == changes
    return [q["sql"] for q in captured]


@pytest.mark.parametrize("changes", [1, 4])
def test_the_day_loop_runs_a_scheduled_change_in_one_transaction_of_the_same_statements(at_date, monkeypatch,
                                                                                         changes):
    at_date("2026-09-15")
    statements = _statements_of_the_changes(monkeypatch, changes)
    assert len(statements) == CATALOG_STATEMENTS + STATEMENTS_A_CHANGE * changes, "\n".join(
        sql[:120] for sql in statements)


# A change at renewal, MCA (its lines onto the billing profile's invoice), 6 users: the catalog's parts it needs, read
# once a move (billing.offers.catalog_pinned), then the same statements for each change. Step by step, each
# change took 138, 12 transactions' BEGIN and COMMIT among them (savepoints in a test's transaction). The same on
# SQLite and PostgreSQL.
CATALOG_STATEMENTS, STATEMENTS_A_CHANGE = 5, 83


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
