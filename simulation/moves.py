"""Support staff move the simulation clock forward (DESIGN.md "Time and the subscription
lifecycle"): every day on the way is applied in order by the day loop (``simulation.days``), the
clock ends on the target, and the answer lists what happened. A dry run is the same code in a
transaction that is rolled back: what it lists is exactly what the real move then does, if
nothing else changes in between."""

import contextlib
import dataclasses
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from billing.selectors import subscription_last_id
from planchange.scheduled import subscriptions_made_since
from portal import clock
from portal.errors import Conflict, DomainError
from portal.happenings import Happening
from portal.services import event_record
from simulation.days import days_run, provisioning_now
from simulation.verbs import CLOCK_ADVANCED

# One move applies every day on the way in one request: ten years at most.
MOVE_MAX_DAYS = 3660


class _DryRun(Exception):
    """Raised to roll a dry run back."""


def clock_target(*, days: int = 0, business_days: int = 0, to=None):
    """Where a move of the simulation clock would take it: never backwards, never past
    ``clock.LAST_DAY``; a refused move changes nothing."""
    before = clock.today()
    if to is not None and to < before:
        raise DomainError(_("The clock only moves forward; today is %(today)s.") % {"today": before},
                          code="clock_backwards", field="to")
    after = to if to is not None else clock.advanced(before, days=days, business_days=business_days)
    field = "to" if to is not None else ("business_days" if business_days else "days")
    if after > clock.LAST_DAY:
        raise DomainError(_("The simulation clock goes up to %(last)s.") % {"last": clock.LAST_DAY.isoformat()},
                          code="clock_out_of_range", field=field)
    if (after - before).days > MOVE_MAX_DAYS:
        raise DomainError(_("One move goes at most %(days)d days ahead (to %(last)s); move in steps.")
                          % {"days": MOVE_MAX_DAYS, "last": (before + timedelta(days=MOVE_MAX_DAYS)).isoformat()},
                          code="clock_move_too_far", field=field)
    return after


@transaction.atomic
def clock_advance(*, actor: str, days: int = 0, business_days: int = 0, to=None, before=None):
    """Move the simulation clock forward (support staff) and audit it; ``before`` is where the move
    began when the day loop already moved it part of the way."""
    start = before or clock.today()
    after = clock_target(days=days, business_days=business_days, to=to)
    clock.set_date(after)
    event_record(tenant=None, actor=actor, verb=CLOCK_ADVANCED,
                 data={"from": start.isoformat(), "to": after.isoformat()})
    return after


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
    made = subscriptions_made_since(first_new)
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
    first_new = subscription_last_id() + 1
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
