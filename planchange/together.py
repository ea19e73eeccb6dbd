"""The day's scheduled changes run together (``simulation.days`` calls ``changes_run_together`` with the changes it
has just started): every step of every change in one transaction, each step for all of them at once, in a
constant number of statements however many changes (issue 21: the day's work set-based).

Each change ends exactly as ``workflow.run_at_once`` would end it, step by step: the same rows, the same audit
events in the same order for its tenant, the same invoice lines to the cent (its bill posted as a billing period's
lines are, ``billing.period_invoices``; a scheduled change goes onto its billing profile's monthly invoice). A
change this can't take is left to ``run_at_once`` and answered: one into a subscription the tenant has, a second of
a tenant's (it runs after the first, as one after the other would), one whose users are more than one batch, one
that validation blocks (``run_at_once`` fails it and says why), one not queued, one without a billing profile or
with a credit (a card refund is ``invoice_post_lines``'); and all of them when anything goes wrong (rolled back).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from billing.period_invoices import PeriodInvoices
from billing.services import (
    subscriptions_end_replaced,
    subscriptions_lock_across,
    subscriptions_provision,
    subscriptions_release_all,
    subscriptions_update_charged,
)
from licensing.moves import Move, licenses_move_all
from planchange.eligibility import eligibility_checks
from planchange.inputs import Blocked, change_inputs_of, change_lines_of, into_still_holds
from planchange.models import PlanChange, PlanChangeStep
from planchange.steps import (
    bill_lines,
    bill_what_waited,
    cancel_reason,
    charged_and_credit,
    effective_date_of,
    provision_order,
    running_event,
    step_done_event,
)
from portal import clock
from portal.bulk import rows_update
from portal.errors import DomainError
from portal.services import event_build, events_record

log = logging.getLogger(__name__)
Name, Step = PlanChangeStep.Name, PlanChangeStep.Status
_CHANGE_FIELDS = ["status", "updated_at", "effective_date", "licenses", "new_subscription", "disabled_plans_before",
                  "invoice", "credit", "completed_at"]


class RefundToCard(Exception):  # noqa: N818 - a way round, not an error
    """A change's invoice ends below zero with a card to refund: run one by one (``invoice_post_lines``)."""


def changes_run_together(change_ids: list[int]) -> list[int]:
    """Run the changes (started, in this order) together where they can be, ``PLANCHANGE_TOGETHER_MOST`` per
    transaction; answers the ones left to run one by one, in their order (every one of a transaction where
    something went wrong: nothing of it is kept)."""
    if not change_ids or settings.PLANCHANGE_STEP_DELAY or settings.PLANCHANGE_PAUSE_INSIDE:
        return list(change_ids)
    try:
        firsts = _firsts(change_ids)
    except Exception:  # one by one, as before: each meets it again and records it
        log.warning("scheduled changes %s are run one by one after an error", change_ids, exc_info=True)
        return list(change_ids)
    most, ran = max(settings.PLANCHANGE_TOGETHER_MOST, 1), set()
    for start in range(0, len(firsts), most):
        chunk = firsts[start:start + most]
        try:
            with transaction.atomic():
                done = _together(chunk)
        except Exception:  # rolled back, the commit too: one by one, each meets it again and records it
            log.warning("scheduled changes %s are run one by one after an error", chunk, exc_info=True)
            continue
        ran.update(done)  # only once committed
    return [pk for pk in change_ids if pk not in ran]


def _firsts(change_ids: list[int]) -> list[int]:
    """Each tenant's first change, into a subscription of its own making (the others wait for one by one)."""
    rows = dict((pk, (tenant, into)) for pk, tenant, into in PlanChange.objects.filter(pk__in=change_ids)
                .values_list("pk", "tenant_id", "new_subscription_id"))
    seen, firsts = set(), []
    for pk in change_ids:
        if pk not in rows:  # gone meanwhile: nothing to run
            continue
        tenant, into = rows[pk]
        if tenant not in seen and into is None:
            firsts.append(pk)
        seen.add(tenant)
    return firsts


def _locked(firsts: list[int]) -> list[PlanChange]:
    """Of tenants' first changes, the ones that can run together, their subscriptions then them then their steps
    locked (the lock order)."""
    subscriptions_lock_across(subscription_ids=set(PlanChange.objects.filter(pk__in=firsts)
                                                   .values_list("subscription_id", flat=True)))
    changes = list(PlanChange.objects.select_for_update(of=("self",)).select_related(
        "tenant", "subscription__product", "subscription__billing_profile", "subscription__payment_method",
        "target_product", "quote", "payment_method").filter(pk__in=firsts).order_by("pk"))
    begun = {change_id for change_id, status in PlanChangeStep.objects.select_for_update()  # every step row locked
             .filter(plan_change__in=changes).values_list("plan_change_id", "status") if status != Step.PENDING}
    return [change for change in changes if change.status == PlanChange.Status.QUEUED and change.pk not in begun
            and not change.into_existing and change.subscription.billing_profile_id is not None
            and change.subscription.assigned_licenses <= settings.PLANCHANGE_MIGRATE_BATCH]


def _valid(changes: list[PlanChange]) -> list[tuple[PlanChange, list]]:
    """``_validate`` of each (their eligibility asked together): the ones that pass, with their bill's lines."""
    for change in changes:
        change.subscription.tenant = change.tenant
    checks = eligibility_checks(subscriptions=[change.subscription for change in changes],
                                exclude_change_ids=[change.pk for change in changes])
    valid = []
    for change, eligibility in zip(changes, checks, strict=True):
        try:
            inputs = change_inputs_of(change, eligibility=eligibility)
            inputs.require_allowed()
        except (Blocked, DomainError):
            continue  # run_at_once fails it, saying why
        if not into_still_holds(change, inputs.into):
            continue
        change.effective_date = effective_date_of(change)
        lines = change_lines_of(change)
        if any(line.amount < 0 for line in lines):
            continue  # a credit may go back to a card: invoice_post_lines does it
        valid.append((change, lines))
    return valid


def _together(firsts: list[int]) -> list[int]:
    locked = _locked(firsts)
    started, finished = {Name.VALIDATE: clock.now()}, {}  # each step's, as run_at_once records them
    valid = _valid(locked)
    if not valid:
        return []
    changes = [change for change, _lines in valid]
    _done(changes, Name.VALIDATE, lambda change: {"effective_date": change.effective_date.isoformat()}, first=[
        event_build(**running_event(change, PlanChangeStep.ORDER[0])) for change in changes])
    finished[Name.VALIDATE] = clock.now()
    for name, step, of in ((Name.PROVISION, _provision, changes), (Name.MIGRATE_LICENSES, _migrate, changes),
                           (Name.BILL, _bill, valid), (Name.CANCEL_SOURCE, _cancel, changes),
                           (Name.COMPLETE, _complete, changes)):  # the bill alone needs each change's lines
        started[name] = clock.now()
        step(of)
        finished[name] = clock.now()
    field = PlanChangeStep._meta.get_field("started_at")
    PlanChangeStep.objects.filter(plan_change__in=changes).update(
        status=Step.DONE, attempts=1, lease_until=None, error="",
        started_at=Case(*(When(name=name, then=Value(at)) for name, at in started.items()), output_field=field),
        finished_at=Case(*(When(name=name, then=Value(at)) for name, at in finished.items()), output_field=field))
    return [change.pk for change in changes]


def _cancel(changes: list[PlanChange]) -> None:
    subscriptions_end_replaced(actor="system", ends=[{
        "subscription": change.subscription, "holder": change.holder, "on": change.effective_date,
        "replaced_by": change.new_subscription_id, "reason": cancel_reason(change)}
        for change in changes])
    _done(changes, Name.CANCEL_SOURCE, lambda change: {})


def _done(changes: list[PlanChange], name: str, data, first=()) -> None:
    """The step's audit event of each change (after ``first``); the steps' rows are marked done at the end."""
    events_record(events=[*first, *(event_build(**step_done_event(change, name, **data(change)))
                                    for change in changes)])


def _provision(changes: list[PlanChange]) -> None:
    made = subscriptions_provision(actor="system", orders=[provision_order(change) for change in changes])
    for change, sub in zip(changes, made, strict=True):
        change.new_subscription = sub
    _done(changes, Name.PROVISION, lambda change: {"new_subscription": change.new_subscription_id})


def _migrate(changes: list[PlanChange]) -> None:
    reset = licenses_move_all(actor="system", moves=[
        Move(source=change.subscription, target=change.new_subscription, holder=change.holder) for change in changes])
    for change in changes:
        if reset.get(change.holder):
            change.disabled_plans_before = {**change.disabled_plans_before, **reset[change.holder]}
    _done(changes, Name.MIGRATE_LICENSES, lambda change: {"users": change.new_subscription.assigned_licenses})


def _bill(valid: list[tuple[PlanChange, list]]) -> None:
    """``steps._bill`` of each: the credit and the first charge on the billing profile's monthly invoice."""
    batch, postings = PeriodInvoices(actor="system"), []
    for change, lines in valid:
        new = change.new_subscription
        postings.append(batch.add(tenant=change.tenant, billing_profile=change.subscription.billing_profile,
                                  card=new.paying_card, effective=change.effective_date, **bill_lines(change, lines)))
        new.billed_amount, change.credit = charged_and_credit(lines)
    batch.flush()
    if any(posting.invoice.total < 0 and change.subscription.paying_card for (change, _lines), posting
           in zip(valid, postings, strict=True)):
        raise RefundToCard  # invoice_post_lines sends it back to the card: one by one
    changes = [change for change, _lines in valid]
    subscriptions_update_charged(subscriptions=[change.new_subscription for change in changes])
    for change, posting in zip(changes, postings, strict=True):
        change.invoice = posting.invoice
    _done(changes, Name.BILL, lambda change: {"invoice": change.invoice_id, "credit": str(change.credit)})


def _complete(changes: list[PlanChange]) -> None:
    now = clock.now()
    for change in changes:
        change.status, change.completed_at, change.updated_at = PlanChange.Status.COMPLETED, now, timezone.now()
    subscriptions_release_all(holders=[change.holder for change in changes])
    bill_what_waited([change.new_subscription_id for change in changes])
    rows_update(changes, _CHANGE_FIELDS)
    _done(changes, Name.COMPLETE, lambda change: {"new_subscription": change.new_subscription_id})
