"""The automatic change, step by step (DESIGN.md "The automatic change").

``run(change_id)`` runs the steps (``planchange.steps``) in order. A worker claims a step by giving it a lease
(a compare-and-set in its own transaction); a step whose lease ran out is anyone's to take over, so a killed
worker's change is finished by another. Every step is safe to run twice: it checks what is already done inside
the transaction that does the rest, and marks itself done in that same transaction. Failures before licenses
move leave nothing but the failed record; from migrate_licenses on, the workflow only moves forward.

``run_at_once(change_id)`` is the day loop's run of a scheduled change it has just started: every step in one
transaction, which commits only a completed change; anything else rolls it back and ``run`` goes step by step.

The workflow orchestrates; it writes only planchange's own rows. Billing provisions, bills
and cancels subscriptions, licensing moves users, each through its services. While the
change is queued or running it holds both subscriptions read-only (billing's hold, taken
when the change is queued, given to the new subscription when it is provisioned, released
when the change completes or fails before licenses move), so no edit gets in between.

**Lock order** (the same everywhere, see ``billing.services.subscriptions_lock``): a step's
transaction locks the change's subscriptions by ascending id, then the change
(``change_lock``), then its step rows; the claim locks the change, then the step.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from planchange import steps
from planchange.models import PlanChange, PlanChangeStep
from planchange.steps import (
    BEFORE_LICENSES_MOVE,
    BODIES,
    STEPS,
    NotAtOnce,
    change_fail,
    change_lock,
    change_locked,
    running_event,
    step_fail,
    step_lease,
    step_validate,  # noqa: F401 - the workflow's steps, as callers and tests know them
)
from planchange.texts import UNEXPECTED
from planchange.verbs import PLAN_CHANGE_STUCK
from portal import clock
from portal.services import event_record
from portal.texts import Text

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
Step = PlanChangeStep.Status
Name = PlanChangeStep.Name
MAX_ATTEMPTS = 10


class GaveUp(Exception):
    """A step failed transiently too many times."""


def _take(change_id: int, name: str) -> str:
    """Take the step if it is pending, or running with a lapsed lease: "claimed". Otherwise what
    ``run`` does next: "done" (go on to the next step), "failed" (the change or the step failed),
    "not_runnable" (scheduled or cancelled), "busy" (another worker holds it). One transaction that
    locks the change, then the step (the change's status is read under the same lock: no read
    before). Raises GaveUp when the step has used up its attempts."""
    with transaction.atomic():
        change = PlanChange.objects.select_for_update().only("status", "tenant").get(pk=change_id)
        if change.status == PlanChange.Status.FAILED:
            return "failed"
        if change.status in (PlanChange.Status.CANCELLED, PlanChange.Status.SCHEDULED):
            return "not_runnable"
        step = PlanChangeStep.objects.select_for_update().get(plan_change_id=change_id, name=name)
        now = timezone.now()  # leases are machine time, not business time
        if step.status in (Step.DONE, Step.FAILED):
            return step.status
        if step.status == Step.SKIPPED or (step.status == Step.RUNNING and step.lease_until
                                            and step.lease_until > now):
            return "busy"
        if step.attempts >= MAX_ATTEMPTS:
            raise GaveUp(f"gave up after {step.attempts} attempts")
        step.status = Step.RUNNING
        step.attempts += 1
        step.started_at = step.started_at or clock.now()
        step.lease_until = now + step_lease()
        step.save(update_fields=["status", "attempts", "started_at", "lease_until"])
        if change.status == PlanChange.Status.QUEUED:
            change.status = PlanChange.Status.RUNNING
            change.save(update_fields=["status", "updated_at"])
            event_record(**running_event(change, name))
        return "claimed"


def _claim(change_id: int, name: str) -> bool:
    """Take the step (``_take``): True when this worker now holds it."""
    return _take(change_id, name) == "claimed"


def _release(change_id: int, name: str) -> None:
    """After a transient error: let the retry (or another worker) take the step at once."""
    try:
        PlanChangeStep.objects.filter(plan_change_id=change_id, name=name, status=Step.RUNNING).update(
            lease_until=timezone.now())
    except DatabaseError:
        log.warning("could not release step %s of change %s; its lease will lapse", name, change_id)


def run(change_id: int) -> str:
    """Run the change's remaining steps. Returns what happened: "completed", "failed",
    "busy" (another worker holds a step), or "not_runnable" (scheduled, cancelled…)."""
    for name in PlanChangeStep.ORDER:
        try:
            taken = _take(change_id, name)
        except GaveUp as exc:
            _stop(change_id, name, exc)
            return "failed"
        if taken == "done":
            continue
        if taken != "claimed":
            return taken
        if name != Name.MIGRATE_LICENSES:
            steps._pause(settings.PLANCHANGE_STEP_DELAY)  # one name for tests to replace, as the steps' own
        try:
            STEPS[name](change_id)
        except TRANSIENT:
            _release(change_id, name)
            raise
        except Exception as exc:  # a bug or a state nobody foresaw: stop here, visible to support
            log.exception("plan change %s failed at %s", change_id, name)
            _stop(change_id, name, exc)
            return "failed"
    return "completed"


def run_at_once(change_id: int) -> str:
    """The day loop's run of a scheduled change it has just started (queued, no step taken): every step in one
    transaction, which commits only a change that completed (its steps then done, one attempt each: none is ever
    seen running, nor the change until it commits). One that fails, that a worker took meanwhile, that moves
    more users than one batch, or that meets any error is rolled back and run step by step (``run``), each step
    in its own transactions, which records what happened as a worker's run does. With the steps' pauses set
    (``PLANCHANGE_STEP_DELAY``, ``PLANCHANGE_PAUSE_INSIDE``), step by step."""
    if not (settings.PLANCHANGE_STEP_DELAY or settings.PLANCHANGE_PAUSE_INSIDE):
        try:
            with transaction.atomic():
                if _all_steps(change_id):
                    return "completed"
                transaction.set_rollback(True)
        except NotAtOnce:
            log.info("scheduled change %s moves more users than one batch: step by step", change_id)
        except Exception:  # rolled back: the step-by-step run meets it again and records it
            log.warning("scheduled change %s is run step by step after an error", change_id, exc_info=True)
    return run(change_id)


def _all_steps(change_id: int) -> bool:
    """``run_at_once``'s transaction: True when the change completed in it."""
    change = change_lock(change_id)
    statuses = PlanChangeStep.objects.select_for_update().filter(plan_change=change).values_list("status", flat=True)
    if change.status != PlanChange.Status.QUEUED or any(status != Step.PENDING for status in statuses):
        return False
    if change.subscription.assigned_licenses > settings.PLANCHANGE_MIGRATE_BATCH:
        raise NotAtOnce(change_id)  # its users move a batch per transaction
    change.status = PlanChange.Status.RUNNING
    change.save(update_fields=["status", "updated_at"])
    event_record(**running_event(change, PlanChangeStep.ORDER[0]))
    began = {}
    for name in PlanChangeStep.ORDER:
        if began:  # read again, as the step's own transaction would
            change = change_locked(change_id)
        began[name] = clock.now()
        BODIES[name](change)
        if change.status == PlanChange.Status.FAILED:
            return False
    started = Case(*(When(name=name, then=Value(at)) for name, at in began.items()),
                   output_field=PlanChangeStep._meta.get_field("started_at"))
    PlanChangeStep.objects.filter(plan_change_id=change_id).update(attempts=1, started_at=started)
    return True


def _stop(change_id: int, name: str, exc: Exception) -> None:
    with transaction.atomic():
        change = change_lock(change_id)
        if name in BEFORE_LICENSES_MOVE:
            change_fail(change, name, code="error", detail=f"{type(exc).__name__}: {exc}", text=Text(UNEXPECTED))
        else:  # licenses may have moved: only forward, so it waits for support staff
            step = PlanChangeStep.objects.select_for_update().get(plan_change=change, name=name)
            step_fail(step, f"{type(exc).__name__}: {exc}")
            change.error_code = "step_failed"
            change.error_detail = f"{name}: {type(exc).__name__}: {exc}"
            change.save(update_fields=["error_code", "error_detail"])
            event_record(tenant=change.tenant, actor="system", verb=PLAN_CHANGE_STUCK, obj=change,
                         data={"step": name, "error": change.error_detail})
