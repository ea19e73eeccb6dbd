"""The simulation clock: the only source of business time.

``now()`` is real time plus an offset stored in the database, so the web server and
every worker agree on it. Support staff move it forward; tests set it.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from portal import generation

# The simulation's time ends here: every date the portal computes from it (renewals years
# ahead, billing periods) stays representable, and support can't strand a tenant past it.
LAST_DAY = date(2099, 12, 31)


# Set by ``offset_pinned``: the offset read once for a block that holds the clock's row locked.
_pinned: ContextVar[timedelta | None] = ContextVar("clock_offset_pinned", default=None)


def _offset() -> timedelta:
    from django.db import connection

    from portal.models import SimulationClock

    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    # Inside a transaction the offset is read once (many events and steps ask for now() in one): kept on the
    # connection beside the transaction's list of commit hooks, which Django replaces at every commit and
    # rollback (a savepoint's too), so a cached offset never outlives the transaction that read it.
    transaction_of = connection.run_on_commit if connection.in_atomic_block else None
    cached = getattr(connection, "_clock_offset", None)
    if transaction_of is not None and cached is not None and cached[0] is transaction_of:
        return cached[1]
    # Outside a transaction, in an API request that read the generation's stamp (portal.generation): the offset
    # this connection read under that stamp, good for every request that reads the same one (moving the clock
    # draws a new stamp). Kept on the connection, as a dry run's copy of the tables is the connection's own.
    stamp = generation.current() if transaction_of is None else None
    kept = getattr(connection, "_clock_offset_kept", None)
    if stamp is not None and kept is not None and kept[0] == stamp:
        return kept[1]
    offset = SimulationClock.objects.filter(pk=1).values_list("offset", flat=True).first() or timedelta(0)
    if transaction_of is not None:
        connection._clock_offset = (transaction_of, offset)
    elif stamp is not None:
        connection._clock_offset_kept = (stamp, offset)
    return offset


def offset_forget() -> None:
    """The offset may have changed other than through ``set_date`` (the clock's row stored, a dry run's copy
    of the tables put in place or taken away): the next ``now()`` reads it again."""
    from django.db import connection

    connection._clock_offset = connection._clock_offset_kept = None


@contextmanager
def offset_pinned():
    """Inside, ``now()`` reads the offset once, not once per call: only for a block nobody else can move the clock
    in, a transaction that holds the clock's row locked (``applied_lock``: the day loop applying a day writes an
    event per invoice, payment and renewal of every tenant) or a day of a clock move (the move alone moves it
    while it runs). Don't move the clock inside."""
    token = _pinned.set(_offset())
    try:
        yield
    finally:
        _pinned.reset(token)


def now() -> datetime:
    """The simulation's current aware datetime (UTC)."""
    return timezone.now() + _offset()


def today() -> date:
    """The simulation's current date."""
    return now().date()


def _store(offset: timedelta) -> None:
    from portal.models import SimulationClock

    offset_forget()
    SimulationClock.objects.update_or_create(pk=1, defaults={"offset": offset})
    offset_forget()
    generation.bump()  # every process's kept offset is the old one


def applied_through() -> date | None:
    """The last day whose renewals, invoices and lifecycle moves were applied (None before the
    first sweep); the day loop (``simulation.days``) keeps it."""
    from portal.models import SimulationClock

    return SimulationClock.objects.filter(pk=1).values_list("applied_through", flat=True).first()


def applied_lock() -> date | None:
    """Inside a transaction: lock the clock's row (one applier of days at a time) and answer the
    last day applied."""
    return _row_lock("applied_through")[0]


def mark_applied(day: date) -> None:
    from portal.models import SimulationClock

    SimulationClock.objects.filter(pk=1).update(applied_through=day, applying_day=None, applying_tenants_through=None)


def day_progress_lock() -> tuple[date | None, date | None, int | None]:
    """Inside a transaction: lock the clock's row and answer the last day applied, and the day being applied
    tenant by tenant with the last tenant id done (a busy day is applied in several transactions)."""
    return _row_lock("applied_through", "applying_day", "applying_tenants_through")


def _row_lock(*fields: str) -> tuple:
    """Inside a transaction: lock the clock's row (made first on a new portal) and answer ``fields`` of it. One
    statement when the row is there (the day loop locks it in each of its transactions)."""
    from portal.models import SimulationClock

    locked = SimulationClock.objects.select_for_update().filter(pk=1).values_list(*fields)
    row = next(iter(locked), None)
    if row is None:
        SimulationClock.objects.get_or_create(pk=1)
        row = locked.get()
    return row


def mark_tenants_applied(day: date, through: int) -> None:
    """``day``'s billing is applied for every tenant up to id ``through`` (inside the locking transaction)."""
    from portal.models import SimulationClock

    SimulationClock.objects.filter(pk=1).update(applying_day=day, applying_tenants_through=through)


def has_been_set() -> bool:
    """Whether the simulation's time has started (a scenario or support set the clock)."""
    from portal.models import SimulationClock

    return SimulationClock.objects.filter(pk=1).exists()


@transaction.atomic
def set_date(day: date) -> None:
    """Make ``today()`` return ``day``, keeping the real time of day (tests and scenarios;
    support staff move it through ``simulation.moves.clock_advance``)."""
    if day > LAST_DAY:
        raise ValueError(f"the simulation clock goes up to {LAST_DAY.isoformat()}")
    real_today = timezone.now().date()
    _store(timedelta(days=(day - real_today).days))


@transaction.atomic
def advance(*, days: int = 0, business_days: int = 0) -> date:
    """Move the clock forward; it never goes back. Returns the new date."""
    if days < 0 or business_days < 0:
        raise ValueError("the clock only moves forward")
    target = advanced(today(), days=days, business_days=business_days)
    set_date(target)
    return target


def advanced(day: date, *, days: int = 0, business_days: int = 0) -> date:
    """``day`` moved forward by business days, then days (never past the end of time + 1)."""
    target = add_business_days(day, business_days)
    return target + timedelta(days=min(days, (LAST_DAY - target).days + 1))


def is_business_day(day: date) -> bool:
    """Monday to Friday."""
    return day.weekday() < 5


def add_business_days(start: date, count: int) -> date:
    """The date ``count`` business days (Mon–Fri) after ``start``."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


def latest_start_due(day: date, count: int) -> date:
    """The latest start date whose ``count`` business days have all passed by ``day``
    (what was started on or before it is due)."""
    start = day
    while add_business_days(start, count) > day:
        start -= timedelta(days=1)
    return start
