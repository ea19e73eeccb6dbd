"""The steps of the automatic change (DESIGN.md "The automatic change"), each safe to run twice: it checks
what is already done inside the transaction that does the rest, and marks itself done in that same transaction.
``planchange.workflow`` claims them one by one and runs them (``STEPS``), each in its own transaction (the
migration of licenses one per batch of users); the day loop's run of a scheduled change runs their bodies
(``BODIES``) one after the other in one transaction (``planchange.workflow.run_at_once``). A fault injected into
``STEPS`` (a test's) is met by ``run`` only.

The steps orchestrate; they write only planchange's own rows. Billing provisions, bills and cancels
subscriptions, licensing moves users, each through its services. **Lock order**: a step's transaction locks the
change's subscriptions by ascending id, then the change (``change_lock``), then its step rows.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
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
from planchange.texts import INTO_CHANGED
from planchange.verbs import PLAN_CHANGE_FAILED, PLAN_CHANGE_RUNNING, STEP_DONE
from portal import clock
from portal.errors import DomainError
from portal.services import event_record
from portal.texts import Text

Step = PlanChangeStep.Status
Name = PlanChangeStep.Name


def _pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _pause_inside(step: str) -> None:
    """Fault injection for crash tests (PLANCHANGE_PAUSE_INSIDE="bill:5")."""
    name, _, seconds = settings.PLANCHANGE_PAUSE_INSIDE.partition(":")
    if name == step and seconds:
        _pause(float(seconds))


def step_lease() -> timedelta:
    return timedelta(seconds=settings.PLANCHANGE_STEP_LEASE)


def running_event(change: PlanChange, name: str) -> dict:
    """The audit event of a change a worker (or the day loop) started on, at step ``name`` (``event_record``'s or
    ``event_build``'s arguments)."""
    return {"tenant": change.tenant, "actor": "system", "verb": PLAN_CHANGE_RUNNING, "obj": change,
            "data": {"step": name}}


def step_done_event(change: PlanChange, name: str, **data) -> dict:
    """The audit event of a step done (``event_record``'s or ``event_build``'s arguments)."""
    return {"tenant": change.tenant, "actor": "system", "verb": STEP_DONE[name], "obj": change,
            "data": {"step": name, **data}}


def _done(change: PlanChange, name: str, **data) -> None:
    """Mark a step done; call inside the transaction that did its work."""
    PlanChangeStep.objects.filter(plan_change=change, name=name).update(
        status=Step.DONE, finished_at=clock.now(), lease_until=None, error="")
    event_record(**step_done_event(change, name, **data))


def _renew_lease(change_id: int, name: str) -> None:
    PlanChangeStep.objects.filter(plan_change_id=change_id, name=name, status=Step.RUNNING).update(
        lease_until=timezone.now() + step_lease())


def step_fail(step: PlanChangeStep, error: str) -> None:
    step.status = Step.FAILED
    step.finished_at = clock.now()
    step.lease_until = None
    step.error = error[:2000]
    step.save(update_fields=["status", "finished_at", "lease_until", "error"])


def change_locked(change_id: int) -> PlanChange:
    return (PlanChange.objects.select_for_update(of=("self",))
            .select_related("tenant", "subscription__product", "target_product").get(pk=change_id))


def change_lock(change_id: int) -> PlanChange:
    """Inside a step's transaction: lock the change's subscriptions (ascending id), then the
    change itself. If another worker provisioned the new subscription in between, go round
    again so it is locked before the change too."""
    while True:
        tenant_id, old_id, new_id = (PlanChange.objects.filter(pk=change_id)
                                     .values_list("tenant_id", "subscription_id", "new_subscription_id").get())
        subscriptions_lock(tenant=tenant_id, subscription_ids=[i for i in (old_id, new_id) if i])
        change = change_locked(change_id)
        if change.new_subscription_id == new_id:
            return change


def _is_done(change: PlanChange, name: str) -> bool:
    """A step already done (or ended) is not run again: the answer is read under the lock."""
    return PlanChangeStep.objects.filter(plan_change=change, name=name).exclude(
        status__in=(Step.PENDING, Step.RUNNING)).exists()


# --- The steps ---------------------------------------------------------------------


def _validate(change: PlanChange) -> None:
    """Re-check eligibility now; a change that became blocked fails and touches nothing."""
    try:
        inputs = change_inputs_of(change)
        inputs.require_allowed()
    except Blocked as exc:
        codes = [b["code"] for b in exc.extra["blockers"]]
        change_fail(change, Name.VALIDATE, code="blocked", detail=", ".join(codes), blockers=codes)
        return
    except DomainError as exc:
        change_fail(change, Name.VALIDATE, code=exc.code, detail=exc.detail)
        return
    if not into_still_holds(change, inputs.into):
        change_fail(change, Name.VALIDATE, code="into_subscription_changed",
                     detail=Text(INTO_CHANGED, product=change.target_product.name))
        return
    change.effective_date = effective_date_of(change)
    if change.into_existing:  # one license per user who moves, counted now that both are held
        change.licenses = inputs.licenses
    change.save(update_fields=["effective_date", "licenses"])
    _done(change, Name.VALIDATE, effective_date=change.effective_date.isoformat())


def effective_date_of(change: PlanChange):
    """The day a change takes effect, as its validate step fixes it: its renewal's, else today."""
    return change.scheduled_for if change.schedule == PlanChange.Schedule.RENEWAL else clock.today()


def bill_what_waited(subscription_ids) -> None:
    """Subscriptions a change gives back are billed for the periods that began while it held them, through the
    last day applied (the day loop leaves a held subscription to its change): inside the step's transaction,
    with the rows locked. A change the day loop runs gives them back before that day is applied: its billing
    comes after, as every day's does."""
    applied = clock.applied_through()
    if applied is not None:
        billing_periods_run(day=applied, actor="system", subscription_ids=[i for i in subscription_ids if i])


def change_fail(change: PlanChange, step_name: str, *, code: str, detail: str | Text, blockers=(),
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
    step_fail(step, f"{code}: {detail}")
    change.steps.filter(status=Step.PENDING).update(status=Step.SKIPPED)
    subscriptions_release(holder=change.holder)
    bill_what_waited([change.subscription_id, change.new_subscription_id])
    data = {"step": step_name, "code": code, "detail": detail, "blockers": list(blockers)}
    if text:
        data |= {"text": text.key, "params": text.params}
    event_record(tenant=change.tenant, actor="system", verb=PLAN_CHANGE_FAILED, obj=change, data=data)


def provision_order(change: PlanChange) -> dict:
    """What billing provisions for the change (``subscription_provision``'s order): its target, licenses and offer,
    paid as the old subscription is unless the change names a payment method."""
    old = change.subscription
    return {"tenant": change.tenant, "product": change.target_product, "licenses": change.licenses,
            "term": change.term, "billing_frequency": change.billing_frequency, "start_date": change.effective_date,
            "payment": old.payment if change.payment_method is None else change.payment_method.kind,
            "payment_method": change.payment_method or old.payment_method, "billing_profile": old.billing_profile,
            "holder": change.holder}


def _provision(change: PlanChange) -> None:
    """Billing provisions the new subscription, held by this change from its first moment."""
    if change.into_existing:  # into a subscription the tenant has: one more license per user who moves
        subscription_licenses_join(tenant=change.tenant, subscription_id=change.new_subscription_id,
                                   add=change.licenses, holder=change.holder, actor="system")
    elif change.new_subscription_id is None:
        change.new_subscription = subscription_provision(actor="system", **provision_order(change))
        change.save(update_fields=["new_subscription"])
    _done(change, Name.PROVISION, new_subscription=change.new_subscription_id)


def _migrate_batch(change: PlanChange, *, after: int) -> int | None:
    """One batch of the users still on the old subscription, those after ``after`` first (in the batch's
    transaction, the change locked): the last assignment moved, or None when none were left and the step is
    done."""
    batch = licenses_move_batch(
        tenant=change.tenant, from_subscription_id=change.subscription_id,
        to_subscription_id=change.new_subscription_id, limit=settings.PLANCHANGE_MIGRATE_BATCH,
        holder=change.holder, actor="system", after=after)
    if batch.left:
        return batch.last_id
    reset = licenses_moved_reset(tenant=change.tenant, holder=change.holder)
    if reset:
        change.disabled_plans_before = {**change.disabled_plans_before, **reset}
        change.save(update_fields=["disabled_plans_before"])
    _done(change, Name.MIGRATE_LICENSES, users=change.new_subscription.assigned_licenses)
    return None


def step_migrate_licenses(change_id: int) -> None:
    """Licensing moves the users in batches keyed by the last assignment moved; in each batch's
    short transaction every user gets the new license and loses the old one together, so nobody is
    unlicensed at any moment. The per-user disabled plans it resets are kept on the batches' audit
    events and copied onto the change once, in the transaction that ends the step (not a growing
    document rewritten per batch), for admins to re-apply. A worker that dies in between leaves whole
    batches: the next one goes on with the users still on the old subscription."""
    after: int | None = 0
    while True:
        with transaction.atomic():
            change = change_lock(change_id)
            if _is_done(change, Name.MIGRATE_LICENSES):
                return
            after = _migrate_batch(change, after=after)
            if after is None:
                return
        _renew_lease(change_id, Name.MIGRATE_LICENSES)
        _pause(settings.PLANCHANGE_STEP_DELAY)


def bill_lines(change: PlanChange, lines: list) -> dict:
    """The change's bill as billing posts it (``lines_bill``'s lines, key and number): the charge is the new
    subscription's, the credit the old one's."""
    old, new = change.subscription, change.new_subscription
    return {"lines": [line.as_invoice_line(subscription=new if line.kind == "charge" else old,
                                           idempotency_key=f"plan_change/{change.pk}/{line.kind}") for line in lines],
            "key": f"plan_change/{change.pk}", "number": f"INV-{change.effective_date:%Y%m%d}-{change.pk:06d}"}


def charged_and_credit(lines: list) -> tuple:
    """What the change's bill charges for the new subscription's period, and credits for the old one."""
    return (sum((line.amount for line in lines if line.kind == "charge"), 0),
            sum((line.amount for line in lines if line.kind == "credit"), 0))


def _bill(change: PlanChange) -> None:
    """Old billing stops and new billing starts on the effective date: the credit and the
    first charge go on one invoice (MOSA) or the billing profile's next monthly invoice (MCA)."""
    if change.invoice_id is None:
        lines = change_lines_of(change)
        old, new = change.subscription, change.new_subscription
        invoice = lines_bill(tenant=change.tenant, billing_profile=old.billing_profile, card=new.paying_card,
                             refund_card=old.paying_card, effective=change.effective_date, actor="system",
                             **bill_lines(change, lines))
        charged, credit = charged_and_credit(lines)
        if not change.into_existing:
            subscription_period_charged(subscription=new, amount=charged)
        elif any(line.kind == "charge" for line in lines):  # the period now costs the new count
            subscription_period_charged(subscription=new, amount=money(Side.of(new, offer_of(new).price)
                                                                        .period_charge))
        change.invoice = invoice
        change.credit = credit
        change.save(update_fields=["invoice", "credit"])
    _pause_inside(Name.BILL)
    _done(change, Name.BILL, invoice=change.invoice_id, credit=str(change.credit),
          **({"into": change.new_subscription_id} if change.into_existing else {}))


def cancel_reason(change: PlanChange) -> str:
    """Why billing cancels the old subscription, as its audit event says."""
    return f"replaced by plan change {change.pk}"


def _cancel_source(change: PlanChange) -> None:
    """Billing cancels the old subscription (its users have all moved)."""
    subscription_end_replaced(tenant=change.tenant, subscription_id=change.subscription_id, holder=change.holder,
                              on=change.effective_date, replaced_by=change.new_subscription_id,
                              reason=cancel_reason(change), actor="system")
    _done(change, Name.CANCEL_SOURCE)


def _complete(change: PlanChange) -> None:
    """The change is done: its subscriptions are free for edits again."""
    if change.status != PlanChange.Status.COMPLETED:
        change.status = PlanChange.Status.COMPLETED
        change.completed_at = clock.now()
        change.save(update_fields=["status", "completed_at"])
    subscriptions_release(holder=change.holder)
    bill_what_waited([change.new_subscription_id])
    _done(change, Name.COMPLETE, new_subscription=change.new_subscription_id)


def _in_its_transaction(name: str, body: Callable[[PlanChange], None]) -> Callable[[int], None]:
    """The step ``name`` as a worker runs it: in its own transaction, the change locked, unless it is done."""

    def step(change_id: int) -> None:
        with transaction.atomic():
            change = change_lock(change_id)
            if not _is_done(change, name):
                body(change)

    step.__name__ = step.__qualname__ = f"step_{name}"
    step.__doc__ = body.__doc__
    return step


class NotAtOnce(Exception):  # noqa: N818 - a way round, not an error
    """The change can't be run in one transaction (more users than one batch moves): run it step by step."""


def _migrate_in_one_batch(change: PlanChange) -> None:
    if _migrate_batch(change, after=0) is not None:
        raise NotAtOnce(change.pk)


# Each step's work, inside a transaction that holds the change's locks: the day loop's run of a scheduled change
# (``planchange.workflow.run_at_once``).
BODIES: dict[str, Callable[[PlanChange], None]] = {
    Name.VALIDATE: _validate,
    Name.PROVISION: _provision,
    Name.MIGRATE_LICENSES: _migrate_in_one_batch,
    Name.BILL: _bill,
    Name.CANCEL_SOURCE: _cancel_source,
    Name.COMPLETE: _complete,
}
# What ``planchange.workflow.run`` runs for each step, by change id, each in its own transaction(s).
step_validate = _in_its_transaction(Name.VALIDATE, _validate)
STEPS: dict[str, Callable[[int], None]] = {
    Name.VALIDATE: step_validate,
    Name.PROVISION: _in_its_transaction(Name.PROVISION, _provision),
    Name.MIGRATE_LICENSES: step_migrate_licenses,
    Name.BILL: _in_its_transaction(Name.BILL, _bill),
    Name.CANCEL_SOURCE: _in_its_transaction(Name.CANCEL_SOURCE, _cancel_source),
    Name.COMPLETE: _in_its_transaction(Name.COMPLETE, _complete),
}
BEFORE_LICENSES_MOVE = (Name.VALIDATE, Name.PROVISION)
