"""The sweep: what falls due as time passes. Run by Celery beat every few seconds (support
staff's clock moves run the same day loop, ``simulation.moves.clock_move``)."""

from django.db import transaction

from planchange.sweep import idempotency_records_expire, quotes_expire, stalled_changes_requeue
from portal import clock
from portal.happenings import Kind
from simulation.days import changes_started, days_run, provisioning_now
from simulation.moves import moves_abandoned_wake, moves_held


def sweep_run() -> dict:
    """What falls due now: the days real time has reached (``simulation.days``), subscriptions
    whose set-up time is up, changes nobody is working on, clock moves whose runner died, expired keys
    and quotes."""
    abandoned = moves_abandoned_wake()
    # While support's move is in a runner's hands its runner applies the days it moves the clock to, and lists what
    # they did: a day the sweep applied a part of was missing from the move's list (a hostile probe: 447 invoices). A
    # move nobody runs (no clock worker) holds nobody's days up. (A move taken up while the sweep is at a day can still
    # share that day with it.)
    days = [] if moves_held(real=True) else days_run(until=clock.today(), move_clock=False)
    happened = [h.as_dict() for h in days + provisioning_now()]
    with transaction.atomic():
        requeued = stalled_changes_requeue()
    return {
        "happened": happened,
        "scheduled_started": changes_started(happened),
        "credit_checks_completed": sum(h["kind"] == Kind.CREDIT_CHECK for h in happened),
        "requeued": requeued,
        "clock_moves_resumed": abandoned,
        "idempotency_keys_expired": idempotency_records_expire(),
        "quotes_expired": quotes_expire(),
    }
