"""Time passing for every tenant: the day loop (DESIGN.md "Time and the subscription lifecycle").

The clock's row keeps the last day applied. ``days_run(until)`` applies every day after it up
to ``until`` on which something falls due, in date order, and each day in one fixed order
(``portal.happenings.KINDS``): provisioning and credit checks, then the plan changes scheduled
for that day (run here, so a change at renewal replaces its subscription before it would
renew), then billing periods and renewals, card charges and refunds, then the lifecycle
(termination after billing on a boundary day), then invoices falling past due. Days on which
nothing falls due are skipped with a handful of queries in all, whatever the number of
tenants; every effect is keyed by its own date, so a jump of two years equals 730 jumps of a
day. A move of the clock sets the clock to each such day in turn, so the audit trail and the
workflow see the day they happen on; the beat's sweep applies days real time has reached.

A dry run is the same code in a transaction that is rolled back: what it lists is exactly
what the real move then does, if nothing else changes in between.
"""

import contextlib
import dataclasses
import logging
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.lifecycle import (
    billing_periods_run,
    card_charges_run,
    lifecycle_run,
    next_due,
    overdue_run,
    provisioning_finish_due,
    refunds_run,
    subscription_delete,
)
from billing.models import Subscription
from billing.services import credit_checks_complete_due, credit_checks_next_due, subscription_hold, subscription_lock
from licensing.services import licenses_remove_all
from planchange import workflow
from planchange.blockers import titles
from planchange.models import PlanChange
from portal import clock
from portal.errors import Conflict
from portal.happenings import KINDS, Happening
from portal.services import clock_advance, clock_target, event_record

log = logging.getLogger(__name__)


class _DryRun(Exception):
    """Raised to roll a dry run back."""


def scheduled_changes_start_due(*, day: date) -> list[int]:
    """Changes scheduled for renewal on ``day`` or before: queue them, holding their subscription
    read-only from now on (locks: the subscription, then the change). The day loop runs them itself,
    without waking a worker, so a change at renewal is done before the day's billing (the sweep wakes
    one for a change the loop couldn't finish)."""
    started = []
    due = PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED, scheduled_for__lte=day).order_by(
        "scheduled_for", "pk")
    for change_id, tenant_id, subscription_id in due.values_list("pk", "tenant_id", "subscription_id"):
        with transaction.atomic():
            subscription_lock(tenant=tenant_id, subscription_id=subscription_id)
            change = PlanChange.objects.select_for_update().get(pk=change_id)
            if change.status != PlanChange.Status.SCHEDULED:
                continue
            change.status = PlanChange.Status.QUEUED
            change.save(update_fields=["status", "updated_at"])
            subscription_hold(tenant=tenant_id, subscription_id=subscription_id, holder=change.holder)
            event_record(tenant=change.tenant, actor="system", verb="plan_change.started", obj=change,
                         data={"scheduled_for": change.scheduled_for.isoformat()})
            started.append(change.pk)
    return started


def provisioning_now() -> list[Happening]:
    """Subscriptions whose set-up time is up by now (the beat, between days)."""
    with transaction.atomic():
        return provisioning_finish_due(day=clock.today(), until=clock.now())


def day_next(after: date) -> date | None:
    """The first day after ``after`` on which anything falls due."""
    scheduled = (PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED).order_by("scheduled_for")
                 .values_list("scheduled_for", flat=True).first())
    candidates = [next_due(after), credit_checks_next_due(after),
                  max(scheduled, after + timedelta(days=1)) if scheduled else None]
    due = [d for d in candidates if d is not None]
    return min(due) if due else None


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(
        microseconds=1)


def _change_happening(change_id: int, day: date) -> Happening:
    change = PlanChange.objects.select_related("tenant", "subscription__product", "target_product").get(pk=change_id)
    subject = f"{change.subscription.product.name} → {change.target_product.name}"
    if change.status == PlanChange.Status.COMPLETED:
        detail = ngettext("The change scheduled for renewal completed: %(licenses)d license of %(target)s.",
                          "The change scheduled for renewal completed: %(licenses)d licenses of %(target)s.",
                          change.licenses) % {"licenses": change.licenses, "target": change.target_product.name}
    elif change.status == PlanChange.Status.FAILED:
        why = titles(change.blockers) or [change.error_message]
        detail = _("The change scheduled for renewal failed: %(why)s") % {"why": " ".join(why)}
    else:
        detail = _("The change scheduled for renewal started; a worker finishes it.")
    return Happening(day, "plan_change", change.tenant_id, change.tenant.domain, subject, detail,
                     f"plan_change/{change.pk}")


def day_apply(day: date, *, since: date) -> list[Happening]:
    """Apply what falls due on ``day`` (the previous day applied was ``since``), in the day's order."""
    happened: list[Happening] = []
    until = clock.now() if day >= clock.today() else _end_of(day)
    # Each transaction first locks the clock's row: one applier at a time (the beat's sweep and a support
    # move may reach the same day), and a day already applied is skipped. When taken, that row comes
    # before the subscriptions in the lock order.
    with transaction.atomic():
        applied = clock.applied_lock()
        if applied is not None and applied >= day:
            return []
        happened += provisioning_finish_due(day=day, until=until)
        happened += credit_checks_complete_due(day=day)
        started = scheduled_changes_start_due(day=day)
    for change_id in started:
        try:
            workflow.run(change_id)
        except workflow.TRANSIENT:  # the sweep wakes a worker for it within seconds
            log.warning("scheduled change %s hit a transient error; a worker will finish it", change_id)
        happened.append(_change_happening(change_id, day))
    with transaction.atomic():
        applied = clock.applied_lock()
        if applied is not None and applied >= day:
            return happened
        since = max(since, applied or since)  # another applier may have gone part of the way
        with clock.offset_pinned():  # the clock's row is locked: read its offset once, not per event
            happened += billing_periods_run(day=day)
            happened += card_charges_run(day=day)
            happened += refunds_run(day=day)
            moved, to_delete = lifecycle_run(day=day)
            happened += moved
            for sub in to_delete:
                removed = licenses_remove_all(tenant=sub.tenant, subscription_id=sub.pk, actor="system",
                                              reason="the subscription was deleted")
                happened.append(subscription_delete(sub, removed=removed))
            happened += overdue_run(day=day, since=since)
        clock.mark_applied(day)
    happened.sort(key=lambda h: KINDS.index(h.kind))  # the day's order; stable within a kind
    return happened


def days_run(*, until: date, move_clock: bool) -> list[Happening]:
    """Apply every day up to ``until`` on which something falls due. With ``move_clock`` the clock
    is set to each such day first (a support move); without, it is where real time has it."""
    with transaction.atomic():
        applied = clock.applied_lock()
        if applied is None:  # the first sweep of a new portal: time starts today, nothing earlier is replayed
            applied = min(clock.today(), until) - timedelta(days=1)
            clock.mark_applied(applied)
    happened: list[Happening] = []
    while True:
        day = day_next(applied)
        if day is None or day > until:
            break
        if move_clock and day > clock.today():
            clock.set_date(day)
        happened += day_apply(day, since=applied)
        applied = day
    if applied < until:
        with transaction.atomic():
            if (clock.applied_lock() or applied) < until:
                clock.mark_applied(until)
    return happened


def changes_started(events: list[dict]) -> list[int]:
    """The ids of the scheduled changes the day loop started, from its list of events."""
    return [int(e["ref"].split("/")[1]) for e in events if e["kind"] == "plan_change"]


def clock_move(*, actor: str, days: int = 0, business_days: int = 0, to=None, dry_run: bool = False) -> dict:
    """Support staff move the simulation clock forward: every day on the way is applied in order,
    the clock ends on the target, and the answer lists what happened. ``dry_run`` answers the same
    list and keeps nothing."""
    if not clock.move_begin():
        raise Conflict(_("Another move of the clock is under way; try again when it has finished."),
                       code="clock_moving")
    try:
        return _clock_move(actor=actor, days=days, business_days=business_days, to=to, dry_run=dry_run)
    finally:
        clock.move_end()


def _stable_refs(happened: list[Happening], *, first_new: int) -> list[Happening]:
    """A subscription made on the way (a scheduled change's) by the change that made it: a dry
    run's rolled-back rows never get the ids it would show (PostgreSQL's sequences don't roll
    back), so both runs name it the same way."""
    made = dict(PlanChange.objects.filter(new_subscription_id__gte=first_new)
                .values_list("new_subscription_id", "pk"))
    if not made:
        return happened
    renamed = []
    for h in happened:
        kind, _sep, pk = h.ref.partition("/")
        if kind == "subscription" and pk.isdigit() and int(pk) in made:
            h = dataclasses.replace(h, ref=f"plan_change/{made[int(pk)]}/new_subscription")
        renamed.append(h)
    return renamed


def _clock_move(*, actor: str, days: int, business_days: int, to, dry_run: bool) -> dict:
    before = clock.today()
    first_new = (Subscription.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    target = clock_target(days=days, business_days=business_days, to=to)
    result: dict = {}
    try:
        # A dry run is one transaction rolled back; a real move commits day by day.
        with transaction.atomic() if dry_run else contextlib.nullcontext():
            happened = days_run(until=before, move_clock=False)  # anything real time already reached
            happened += days_run(until=target, move_clock=True)
            clock_advance(actor=actor, to=target, before=before)
            happened += provisioning_now()
            happened = _stable_refs(happened, first_new=first_new)
            result = {"from": before.isoformat(), "to": target.isoformat(), "dry_run": dry_run,
                      "events": [h.as_dict() for h in happened]}
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result
