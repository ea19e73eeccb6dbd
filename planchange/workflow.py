"""The automatic change, step by step (DESIGN.md "The automatic change").

``run(change_id)`` runs the steps in order. A worker claims a step by giving it a lease
(a compare-and-set in its own transaction); a step whose lease ran out is anyone's to
take over, so a killed worker's change is finished by another. Every step is safe to run
twice: it checks what is already done inside the transaction that does the rest, and
marks itself done in that same transaction. Failures before licenses move leave nothing
but the failed record; from migrate_licenses on, the workflow only moves forward.

The workflow orchestrates; it writes only planchange's own rows. Billing provisions, bills
and cancels subscriptions, licensing moves users, each through its services. While the
change is queued or running it holds both subscriptions read-only (billing's hold, taken
when the change is queued, given to the new subscription when it is provisioned, released
when the change completes or fails before licenses move), so no edit gets in between.

**Lock order** (the same everywhere, see ``billing.services.subscriptions_lock``): a step's
transaction locks the change's subscriptions by ascending id, then the change
(``_lock_change``), then its step rows; the claim locks the change, then the step.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from billing.lifecycle import billing_periods_run
from billing.money import money
from billing.proration import Side
from billing.selectors import offer_of
from billing.services import (
    lines_bill,
    subscription_end_replaced,
    subscription_licenses_join,
    subscription_period_charged,
    subscription_provision,
    subscriptions_lock,
    subscriptions_release,
)
from licensing.selectors import licenses_moved_reset
from licensing.services import licenses_move_batch
from planchange.inputs import Blocked, change_inputs_of, change_lines_of, into_still_holds
from planchange.models import PlanChange, PlanChangeStep
from planchange.texts import INTO_CHANGED, UNEXPECTED
from planchange.verbs import PLAN_CHANGE_FAILED, PLAN_CHANGE_RUNNING, PLAN_CHANGE_STUCK, STEP_DONE
from portal import clock
from portal.errors import DomainError
from portal.services import event_record
from portal.texts import Text

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
Step = PlanChangeStep.Status
MAX_ATTEMPTS = 10


def _pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _pause_inside(step: str) -> None:
    """Fault injection for crash tests (PLANCHANGE_PAUSE_INSIDE="bill:5")."""
    name, _, seconds = settings.PLANCHANGE_PAUSE_INSIDE.partition(":")
    if name == step and seconds:
        _pause(float(seconds))


def _lease() -> timedelta:
    return timedelta(seconds=settings.PLANCHANGE_STEP_LEASE)


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
        step.lease_until = now + _lease()
        step.save(update_fields=["status", "attempts", "started_at", "lease_until"])
        if change.status == PlanChange.Status.QUEUED:
            change.status = PlanChange.Status.RUNNING
            change.save(update_fields=["status", "updated_at"])
            event_record(tenant=change.tenant, actor="system", verb=PLAN_CHANGE_RUNNING, obj=change,
                         data={"step": name})
        return "claimed"


def _claim(change_id: int, name: str) -> bool:
    """Take the step (``_take``): True when this worker now holds it."""
    return _take(change_id, name) == "claimed"


def _renew_lease(change_id: int, name: str) -> None:
    PlanChangeStep.objects.filter(plan_change_id=change_id, name=name, status=Step.RUNNING).update(
        lease_until=timezone.now() + _lease())


def _release(change_id: int, name: str) -> None:
    """After a transient error: let the retry (or another worker) take the step at once."""
    try:
        PlanChangeStep.objects.filter(plan_change_id=change_id, name=name, status=Step.RUNNING).update(
            lease_until=timezone.now())
    except DatabaseError:
        log.warning("could not release step %s of change %s; its lease will lapse", name, change_id)


def _done(change: PlanChange, name: str, **data) -> None:
    """Mark a step done; call inside the transaction that did its work."""
    PlanChangeStep.objects.filter(plan_change=change, name=name).update(
        status=Step.DONE, finished_at=clock.now(), lease_until=None, error="")
    event_record(tenant=change.tenant, actor="system", verb=STEP_DONE[name], obj=change,
                 data={"step": name, **data})


def _fail(step: PlanChangeStep, error: str) -> None:
    step.status = Step.FAILED
    step.finished_at = clock.now()
    step.lease_until = None
    step.error = error[:2000]
    step.save(update_fields=["status", "finished_at", "lease_until", "error"])


def _locked(change_id: int) -> PlanChange:
    return (PlanChange.objects.select_for_update(of=("self",))
            .select_related("tenant", "subscription__product", "target_product").get(pk=change_id))


def _lock_change(change_id: int) -> PlanChange:
    """Inside a step's transaction: lock the change's subscriptions (ascending id), then the
    change itself. If another worker provisioned the new subscription in between, go round
    again so it is locked before the change too."""
    while True:
        tenant_id, old_id, new_id = (PlanChange.objects.filter(pk=change_id)
                                     .values_list("tenant_id", "subscription_id", "new_subscription_id").get())
        subscriptions_lock(tenant=tenant_id, subscription_ids=[i for i in (old_id, new_id) if i])
        change = _locked(change_id)
        if change.new_subscription_id == new_id:
            return change


def _is_done(change: PlanChange, name: str) -> bool:
    """A step already done (or ended) is not run again: the answer is read under the lock."""
    return PlanChangeStep.objects.filter(plan_change=change, name=name).exclude(
        status__in=(Step.PENDING, Step.RUNNING)).exists()


# --- The steps ---------------------------------------------------------------------


def step_validate(change_id: int) -> None:
    """Re-check eligibility now; a change that became blocked fails and touches nothing."""
    with transaction.atomic():
        change = _lock_change(change_id)
        if _is_done(change, "validate"):
            return
        try:
            inputs = change_inputs_of(change)
            inputs.require_allowed()
        except Blocked as exc:
            codes = [b["code"] for b in exc.extra["blockers"]]
            _fail_change(change, "validate", code="blocked", detail=", ".join(codes), blockers=codes)
            return
        except DomainError as exc:
            _fail_change(change, "validate", code=exc.code, detail=exc.detail)
            return
        if not into_still_holds(change, inputs.into):
            _fail_change(change, "validate", code="into_subscription_changed",
                         detail=Text(INTO_CHANGED, product=change.target_product.name))
            return
        at_renewal = change.schedule == PlanChange.Schedule.RENEWAL
        change.effective_date = change.scheduled_for if at_renewal else clock.today()
        if change.into_existing:  # one license per user who moves, counted now that both are held
            change.licenses = inputs.licenses
        change.save(update_fields=["effective_date", "licenses"])
        _done(change, "validate", effective_date=change.effective_date.isoformat())


def _bill_what_waited(subscription_ids) -> None:
    """Subscriptions a change gives back are billed for the periods that began while it held them, through the
    last day applied (the day loop leaves a held subscription to its change): inside the step's transaction,
    with the rows locked. A change the day loop runs gives them back before that day is applied: its billing
    comes after, as every day's does."""
    applied = clock.applied_through()
    if applied is not None:
        billing_periods_run(day=applied, actor="system", subscription_ids=[i for i in subscription_ids if i])


def _fail_change(change: PlanChange, step_name: str, *, code: str, detail: str | Text, blockers=(),
                 text: Text | None = None) -> None:
    """Fail a change before licenses moved (inside its step's transaction, locks taken): the
    record says why, the subscriptions are free again, nothing else changed. The reason is kept in
    English (``detail``) and as its text (``text``, or ``detail`` when it is one), for pages to show
    in their reader's language."""
    if isinstance(detail, Text):
        text, detail = detail, detail.english()
    change.status = PlanChange.Status.FAILED
    change.error_code = code
    change.error_detail = detail
    change.error_text, change.error_params = (text.key, text.params) if text else ("", {})
    change.blockers = list(blockers)
    change.save(update_fields=["status", "error_code", "error_detail", "error_text", "error_params", "blockers"])
    step = PlanChangeStep.objects.get(plan_change=change, name=step_name)
    _fail(step, f"{code}: {detail}")
    change.steps.filter(status=Step.PENDING).update(status=Step.SKIPPED)
    subscriptions_release(holder=change.holder)
    _bill_what_waited([change.subscription_id, change.new_subscription_id])
    data = {"step": step_name, "code": code, "detail": detail, "blockers": list(blockers)}
    if text:
        data |= {"text": text.key, "params": text.params}
    event_record(tenant=change.tenant, actor="system", verb=PLAN_CHANGE_FAILED, obj=change, data=data)


def step_provision(change_id: int) -> None:
    """Billing provisions the new subscription, held by this change from its first moment."""
    with transaction.atomic():
        change = _lock_change(change_id)
        if _is_done(change, "provision"):
            return
        if change.into_existing:  # into a subscription the tenant has: one more license per user who moves
            subscription_licenses_join(tenant=change.tenant, subscription_id=change.new_subscription_id,
                                       add=change.licenses, holder=change.holder, actor="system")
        elif change.new_subscription_id is None:
            old = change.subscription
            change.new_subscription = subscription_provision(
                tenant=change.tenant, product=change.target_product, licenses=change.licenses, term=change.term,
                billing_frequency=change.billing_frequency, start_date=change.effective_date,
                payment=old.payment if change.payment_method is None else change.payment_method.kind,
                payment_method=change.payment_method or old.payment_method, billing_profile=old.billing_profile,
                holder=change.holder, actor="system",
            )
            change.save(update_fields=["new_subscription"])
        _done(change, "provision", new_subscription=change.new_subscription_id)


def step_migrate_licenses(change_id: int) -> None:
    """Licensing moves the users in batches keyed by the last assignment moved; in each batch's
    short transaction every user gets the new license and loses the old one together, so nobody is
    unlicensed at any moment. The per-user disabled plans it resets are kept on the batches' audit
    events and copied onto the change once, in the transaction that ends the step (not a growing
    document rewritten per batch), for admins to re-apply. A worker that dies in between leaves whole
    batches: the next one goes on with the users still on the old subscription."""
    after = 0
    while True:
        with transaction.atomic():
            change = _lock_change(change_id)
            if _is_done(change, "migrate_licenses"):
                return
            batch = licenses_move_batch(
                tenant=change.tenant, from_subscription_id=change.subscription_id,
                to_subscription_id=change.new_subscription_id, limit=settings.PLANCHANGE_MIGRATE_BATCH,
                holder=change.holder, actor="system", after=after)
            after = batch.last_id
            if not batch.left:
                reset = licenses_moved_reset(tenant=change.tenant, holder=change.holder)
                if reset:
                    change.disabled_plans_before = {**change.disabled_plans_before, **reset}
                    change.save(update_fields=["disabled_plans_before"])
                _done(change, "migrate_licenses", users=change.new_subscription.assigned_licenses)
                return
        _renew_lease(change_id, "migrate_licenses")
        _pause(settings.PLANCHANGE_STEP_DELAY)


def step_bill(change_id: int) -> None:
    """Old billing stops and new billing starts on the effective date: the credit and the
    first charge go on one invoice (MOSA) or the billing profile's next monthly invoice (MCA)."""
    with transaction.atomic():
        change = _lock_change(change_id)
        if _is_done(change, "bill"):
            return
        if change.invoice_id is None:
            lines = change_lines_of(change)
            old, new = change.subscription, change.new_subscription
            keyed = [line.as_invoice_line(subscription=new if line.kind == "charge" else old,
                                          idempotency_key=f"plan_change/{change.pk}/{line.kind}") for line in lines]
            invoice = lines_bill(
                tenant=change.tenant, billing_profile=old.billing_profile,
                card=new.paying_card, refund_card=old.paying_card,
                effective=change.effective_date, key=f"plan_change/{change.pk}",
                number=f"INV-{change.effective_date:%Y%m%d}-{change.pk:06d}", lines=keyed, actor="system")
            if not change.into_existing:
                subscription_period_charged(subscription=new, amount=sum(
                    (line.amount for line in lines if line.kind == "charge"), 0))
            elif any(line.kind == "charge" for line in lines):  # the period now costs the new count
                subscription_period_charged(subscription=new, amount=money(Side.of(new, offer_of(new).price)
                                                                            .period_charge))
            change.invoice = invoice
            change.credit = sum((line.amount for line in lines if line.kind == "credit"), 0)
            change.save(update_fields=["invoice", "credit"])
        _pause_inside("bill")
        _done(change, "bill", invoice=change.invoice_id, credit=str(change.credit),
              **({"into": change.new_subscription_id} if change.into_existing else {}))


def step_cancel_source(change_id: int) -> None:
    """Billing cancels the old subscription (its users have all moved)."""
    with transaction.atomic():
        change = _lock_change(change_id)
        if _is_done(change, "cancel_source"):
            return
        subscription_end_replaced(tenant=change.tenant, subscription_id=change.subscription_id, holder=change.holder,
                                  on=change.effective_date, replaced_by=change.new_subscription_id,
                                  reason=f"replaced by plan change {change.pk}",
                                  actor="system")
        _done(change, "cancel_source")


def step_complete(change_id: int) -> None:
    """The change is done: its subscriptions are free for edits again."""
    with transaction.atomic():
        change = _lock_change(change_id)
        if _is_done(change, "complete"):
            return
        if change.status != PlanChange.Status.COMPLETED:
            change.status = PlanChange.Status.COMPLETED
            change.completed_at = clock.now()
            change.save(update_fields=["status", "completed_at"])
        subscriptions_release(holder=change.holder)
        _bill_what_waited([change.new_subscription_id])
        _done(change, "complete", new_subscription=change.new_subscription_id)


STEPS = {
    "validate": step_validate,
    "provision": step_provision,
    "migrate_licenses": step_migrate_licenses,
    "bill": step_bill,
    "cancel_source": step_cancel_source,
    "complete": step_complete,
}
BEFORE_LICENSES_MOVE = ("validate", "provision")


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
        if name != "migrate_licenses":
            _pause(settings.PLANCHANGE_STEP_DELAY)
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


def _stop(change_id: int, name: str, exc: Exception) -> None:
    with transaction.atomic():
        change = _lock_change(change_id)
        if name in BEFORE_LICENSES_MOVE:
            _fail_change(change, name, code="error", detail=f"{type(exc).__name__}: {exc}", text=Text(UNEXPECTED))
        else:  # licenses may have moved: only forward, so it waits for support staff
            step = PlanChangeStep.objects.select_for_update().get(plan_change=change, name=name)
            _fail(step, f"{type(exc).__name__}: {exc}")
            change.error_code = "step_failed"
            change.error_detail = f"{name}: {type(exc).__name__}: {exc}"
            change.save(update_fields=["error_code", "error_detail"])
            event_record(tenant=change.tenant, actor="system", verb=PLAN_CHANGE_STUCK, obj=change,
                         data={"step": name, "error": change.error_detail})
