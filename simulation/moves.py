"""Support staff move the simulation clock forward (DESIGN.md "Time and the subscription lifecycle"):
every day on the way is applied in order by the day loop (``simulation.days``), the clock ends on the
target, and the move lists what happened.

A move is background work (``simulation.models.ClockMove``): asked for, it is a row; a runner (the
worker, woken at once, or a request waiting for it when no worker takes it up) holds its lease, applies
the days, each in its own short transactions, and records on the row, in the transaction that applies
each day, what happened that day and how far it got. A runner killed anywhere leaves the lease to run
out within ``CLOCK_MOVE_LEASE`` seconds; the sweep then hands the move to a worker, which goes on from the last day
applied (the clock's row keeps it). One real move at a time: the database refuses a second.

A dry run is the same code on the dry run's own copy of the world (``simulation.shadow``): nothing is
locked that a tenant, a plan change or the sweep waits on, and what it lists is exactly what the real
move then does, if nothing else changes in between."""

import dataclasses
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.selectors import subscription_last_id
from planchange.scheduled import subscriptions_made_since
from portal import clock
from portal.errors import Conflict, DomainError
from portal.happenings import KINDS, Happening, shown
from portal.services import event_record
from portal.wake import publishing_paused, task_wake
from portal.workers import worker_beats
from simulation.days import Paused, days_run, provisioning_now
from simulation.models import ClockMove, ClockMoveHappening
from simulation.shadow import shadowed
from simulation.verbs import CLOCK_ADVANCED

log = logging.getLogger(__name__)

# One move goes at most ten years ahead.
MOVE_MAX_DAYS = 3660


def _lease() -> timedelta:
    """A runner renews its lease with every day it applies; a runner not heard of for this long is dead
    (``CLOCK_MOVE_LEASE`` seconds)."""
    return timedelta(seconds=settings.CLOCK_MOVE_LEASE)

MOVE_TASK = "simulation.clock_move"
CLOCK_QUEUE = "clock"  # its queue (CELERY_TASK_ROUTES) and workers


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


def move_under_way() -> ClockMove | None:
    """The real move not finished yet, if any."""
    return ClockMove.objects.filter(dry_run=False, status__in=ClockMove.UNFINISHED).first()


def _refused(under_way: ClockMove) -> Conflict:
    return Conflict(_("Another move of the clock is under way (to %(to)s, %(done)d of %(days)d days done); "
                      "try again when it has finished.")
                    % {"to": under_way.target.isoformat(), "done": under_way.days_done, "days": under_way.days_total},
                    code="clock_moving", move=under_way.pk)


def move_request(*, actor: str, days: int = 0, business_days: int = 0, to=None, dry_run: bool = False,
                 wake: bool = True) -> ClockMove:
    """Ask for a move (or a dry run): refused at once when it can't be made or while a real move is under
    way (409 ``clock_moving`` naming it: a preview of a world whose clock is moving would list days the move
    applies meanwhile); else a row a worker is woken for."""
    target = clock_target(days=days, business_days=business_days, to=to)
    under_way = move_under_way()
    if under_way is not None:
        raise _refused(under_way)
    try:
        with transaction.atomic():
            move = ClockMove.objects.create(actor=actor, dry_run=dry_run, start=clock.today(), target=target,
                                            first_new_subscription=subscription_last_id() + 1)
    except IntegrityError:  # another support agent's move got in first
        under_way = move_under_way()
        if under_way is None:
            raise
        raise _refused(under_way) from None
    if wake:
        transaction.on_commit(lambda: moves_wake([move.pk]), robust=True)
    return move


class LeaseLost(Exception):
    """Another runner took the move over (this one was silent longer than ``CLOCK_MOVE_LEASE``): stop here; the
    day this runner was applying rolls back and the other applies it."""


def _claim(move_id: int) -> str | None:
    """Take the move's lease (it is unfinished and nobody holds it: never taken, handed on by a runner out of time
    or woken by the sweep, or its holder is dead): the runner's name, or None."""
    machine_now = timezone.now()
    runner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with transaction.atomic():
        taken = ClockMove.objects.filter(pk=move_id, status__in=ClockMove.UNFINISHED).filter(
            Q(runner="") | Q(lease_until__isnull=True) | Q(lease_until__lt=machine_now)).update(
            lease_until=machine_now + _lease(), runner=runner, status=ClockMove.Status.RUNNING, runs=F("runs") + 1)
    return runner if taken else None


def _handed_on(moves) -> None:
    """A runner out of time hands its move on: free for the next runner to take at once (``runner`` empty), and held
    for a lease for the worker it wakes (``moves_held``: no request runs it meanwhile, nor does the sweep wake
    another)."""
    moves.update(runner="", lease_until=timezone.now() + _lease())


def moves_held(*, real: bool = False) -> bool:
    """A move of the clock (``real``: a real one) is in a runner's hands now: one at work renews its lease with every
    day it applies; one out of time hands it on with a lease of its own, for the worker it woke."""
    held = ClockMove.objects.filter(status=ClockMove.Status.RUNNING, lease_until__gt=timezone.now())
    return (held.filter(dry_run=False) if real else held).exists()


def clock_workers_answer() -> bool:
    """A clock worker answered lately (``portal.workers``), or a runner is at work on a move now: a worker busy
    with a long move beats only between its tasks."""
    since = timezone.now() - timedelta(seconds=settings.PORTAL_WORKER_SILENCE_SECONDS)
    return worker_beats(since=since).filter(queue=CLOCK_QUEUE).exists() or moves_held()


def moves_waiting_count() -> int:
    """Moves of the clock (and previews) not finished: the work a clock worker has waiting."""
    return ClockMove.objects.filter(status__in=ClockMove.UNFINISHED).count()


def moves_abandoned() -> list[int]:
    """Unfinished moves nobody runs: asked for over a lease ago and never taken up, or whose runner
    stopped renewing its lease (the sweep wakes a worker for each)."""
    machine_now = timezone.now()
    return list(ClockMove.objects.filter(status__in=ClockMove.UNFINISHED).filter(
        Q(lease_until__lt=machine_now) | Q(lease_until__isnull=True, created_at__lt=machine_now - _lease()))
        .values_list("pk", flat=True))


def moves_abandoned_wake() -> list[int]:
    """The sweep's part: a worker woken for each move nobody runs, once a lease (the sweep runs every few seconds; a
    hostile probe saw the clock's queue grow by a message a second while its workers were busy). Only the time it was
    woken is written: a runner whose lease lapsed keeps its move until another takes it."""
    machine_now = timezone.now()
    woken = []
    for move_id in moves_abandoned():
        if ClockMove.objects.filter(pk=move_id, status__in=ClockMove.UNFINISHED).filter(
                Q(woken_at__isnull=True) | Q(woken_at__lt=machine_now - _lease())).update(woken_at=machine_now):
            woken.append(move_id)
    moves_wake(woken)
    return woken


def moves_wake(move_ids: list[int]) -> None:
    """Wake a worker for each move (the database decides: the sweep finds a move nobody woke)."""
    for move_id in move_ids:
        task_wake(MOVE_TASK, [move_id], what=f"clock move {move_id}", later="the sweep", logger=log)


def _stable_refs(happened: list[Happening], *, first_new: int) -> list[Happening]:
    """A subscription made on the way (a scheduled change's) by the change that made it: a dry
    run's rows may not get the ids the real move gives them, so both name it the same way."""
    if not any(h.ref.startswith("subscription/") and int(h.ref.partition("/")[2] or 0) >= first_new
               for h in happened):
        return happened
    made = subscriptions_made_since(first_new)
    renamed = []
    for h in happened:
        kind, _sep, pk = h.ref.partition("/")
        if kind == "subscription" and pk.isdigit() and int(pk) in made:
            h = dataclasses.replace(h, ref=f"plan_change/{made[int(pk)]}/new_subscription")
        renamed.append(h)
    return renamed


def _recorder(move: ClockMove, runner: str):
    """What the day loop calls in the transaction that applies each day: the day's happenings onto the
    move, its progress, and its lease renewed (while this runner still holds it)."""

    counted = move.happenings  # so far: only the lease's holder records, and each runner starts from the row's

    def record(day, happened: list[Happening]) -> None:
        nonlocal counted
        happened = _stable_refs(happened, first_new=move.first_new_subscription)
        # One statement locks the move's row, checks the lease is still this runner's, and notes the progress.
        held = ClockMove.objects.filter(pk=move.pk, runner=runner).update(
            applied_through=day, happenings=counted + len(happened), lease_until=timezone.now() + _lease())
        if not held:
            raise LeaseLost(move.pk)
        if happened:  # one row per transaction, not per happening (a ten-year move has hundreds of thousands)
            ClockMoveHappening.objects.create(move_id=move.pk, seq=counted, data=[h.stored() for h in happened])
        counted += len(happened)  # a transaction rolled back after this ends the run: the next reads the row

    return record


def _apply(move: ClockMove, runner: str, deadline: float | None) -> None:
    """The move's days, from the last one applied, then the clock onto its target."""
    # Renewed once the runner is ready (a dry run's copy of the world may have taken a while), then each day.
    ClockMove.objects.filter(pk=move.pk, runner=runner).update(lease_until=timezone.now() + _lease())
    record = _recorder(move, runner)
    days_run(until=move.start, move_clock=False, record=record, deadline=deadline)  # what real time reached
    days_run(until=move.target, move_clock=True, record=record, deadline=deadline)
    with transaction.atomic():
        clock_advance(actor=move.actor, to=move.target, before=move.start)
        record(move.target, provisioning_now())
        ClockMove.objects.filter(pk=move.pk, status=ClockMove.Status.RUNNING).update(
            status=ClockMove.Status.DONE, finished_at=timezone.now(), lease_until=None, applied_through=move.target)


DONE, TAKEN, PAUSED = "done", "taken", "paused"
STALE_PREVIEW = "stale_preview: a real move was under way when it was taken up"  # a failed preview's error


def _real_moves_since(move: ClockMove):
    """Real moves asked for after ``move`` (a preview: what makes it stale)."""
    return ClockMove.objects.filter(dry_run=False, pk__gt=move.pk).order_by("pk")


def move_run(move_id: int, *, budget: float | None = None, whole_preview: bool = False) -> str:
    """Run the move if nobody else is (the worker's task, a waiting request, the sweep's runner): ``done``
    when this call ran it to its end (or to its failure), ``taken`` when someone else has it (or it is
    finished), ``paused`` when ``budget`` seconds ran out first (between two days; handed on, so whoever comes
    next goes on: a dry run starts over). ``whole_preview``: the budget is a real move's only (a worker's task: a dry
    run's copy of the world is its connection's own, and one handed on after every while would never end)."""
    runner = _claim(move_id)
    if runner is None:
        return TAKEN
    move = ClockMove.objects.get(pk=move_id)
    deadline = None if budget is None or (move.dry_run and whole_preview) else time.monotonic() + budget
    # A preview taken up after a real move was asked for (done or not), or with the clock past its target: a copy now
    # would be of a world half moved (asked only of previews: a real move's statements are pinned).
    if move.dry_run and (_real_moves_since(move).exists() or clock.today() > move.target):
        ClockMove.objects.filter(pk=move.pk, runner=runner).update(
            status=ClockMove.Status.FAILED, error=STALE_PREVIEW, finished_at=timezone.now(), lease_until=None)
        return DONE
    try:
        if move.dry_run:
            ClockMoveHappening.objects.filter(move=move).delete()  # a dry run interrupted starts over
            ClockMove.objects.filter(pk=move.pk).update(happenings=0, applied_through=None)
            move.happenings = 0
            with publishing_paused(), shadowed(kept={ClockMove._meta.db_table, ClockMoveHappening._meta.db_table}):
                _apply(move, runner, deadline)
        else:
            _apply(move, runner, deadline)
    except Paused:
        _handed_on(ClockMove.objects.filter(pk=move.pk, runner=runner))
        return PAUSED
    except LeaseLost:
        log.warning("clock move %s was taken over by another runner", move_id)
        return TAKEN
    except Exception as exc:
        ClockMove.objects.filter(pk=move.pk).update(status=ClockMove.Status.FAILED, error=repr(exc)[:2000],
                                                    finished_at=timezone.now(), lease_until=None)
        raise
    return DONE


def move_failed_text(move: ClockMove) -> str:
    """Why a failed move's answer is short, in the user's language (the API's 409 and the console's message)."""
    if move.error == STALE_PREVIEW:
        moved = _real_moves_since(move).first()
        if moved is not None:
            return _("The clock moved after this preview was asked for (to %(to)s by %(actor)s); preview again.") % {
                "to": moved.target.isoformat(), "actor": moved.actor}
        return _("The clock moved after this preview was asked for; preview again.")
    return _("The move of the clock stopped on %(day)s with an error; support's logs say why.") % {
        "day": (move.applied_through or move.start).isoformat()}


def move_events(move: ClockMove, *, limit: int | None = None) -> list[dict]:
    """What happened on the way, in order: by day, each day in its fixed order of kinds, then by tenant (a
    busy day is recorded a chunk of tenants at a time), then as it happened. ``limit``: the first ones only,
    read from the first days recorded (a ten-year move over a thousand tenants has hundreds of thousands)."""
    recorded: list[dict] = []
    for batch in move.happened.order_by("seq").values_list("data", flat=True).iterator(chunk_size=50):
        if limit is not None and len(recorded) >= limit and batch and batch[0]["date"] > recorded[-1]["date"]:
            break
        recorded += batch
    recorded.sort(key=lambda e: (e["date"], KINDS.index(e["kind"]), e["tenant"]))
    return [shown(e) for e in (recorded if limit is None else recorded[:limit])]  # in the reader's language


def move_result(move: ClockMove) -> dict:
    """What a move answers when it is done: today's answer of the clock API (``from``, ``to``,
    ``dry_run``, ``events`` in order)."""
    return {"from": move.start.isoformat(), "to": move.target.isoformat(), "dry_run": move.dry_run,
            "events": move_events(move)}


def move_await(move_id: int, *, wait: float, claim_wait: float) -> ClockMove:
    """Wait up to ``wait`` seconds for the move to finish (the answer of a request that waits); when no
    worker has taken it up within ``claim_wait`` seconds (none running, the broker down), run it here."""
    start = time.monotonic()
    while True:
        move = ClockMove.objects.get(pk=move_id)
        if move.finished:
            return move
        elapsed = time.monotonic() - start
        # Only when no clock worker answers (none running; a busy one has a move in hand) and no move is held (this one
        # by its runner, another by another request): three requests each running a preview in the web's processes
        # held every one of them for minutes.
        if claim_wait <= elapsed < wait and not clock_workers_answer():
            try:  # no worker took it up: run it here, for the time the request has left
                move_run(move_id, budget=wait - elapsed)
            except Exception:  # recorded on the move as failed; the answer says so
                log.exception("clock move %s failed", move_id)
            continue
        if elapsed >= wait:
            return move
        time.sleep(0.2)


def clock_move(*, actor: str, days: int = 0, business_days: int = 0, to=None, dry_run: bool = False) -> dict:
    """Move the clock here and now (tests, benchmarks, scenario tools): a move asked for and run by this
    process to its end; the answer lists what happened. ``dry_run`` answers the same list and keeps nothing."""
    move = move_request(actor=actor, days=days, business_days=business_days, to=to, dry_run=dry_run, wake=False)
    move_run(move.pk)
    move.refresh_from_db()
    return move_result(move)
