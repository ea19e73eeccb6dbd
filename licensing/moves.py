"""Many plan changes' users moved at once (the day's scheduled changes run together: ``planchange.together``).

``licenses_move_all`` is ``licenses_move_batch`` of every user of many sources, each to its own target, in a
constant number of statements however many moves: one INSERT … SELECT makes the targets' licenses (every
service plan on; a holder of the target's product keeps that license), one query each reads the plans users had
turned off and the users named on the events, one DELETE removes the sources' licenses, one statement each
writes the counts, the batches and the audit events. Each move's outcome, batch and event are what
``licenses_move_batch`` makes of a source whose users all fit one batch.
"""

from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from billing.models import Subscription
from billing.services import subscription_require_free, subscriptions_lock_across, subscriptions_usage_add
from licensing.models import LicenseAssignment, LicenseMoveBatch
from licensing.services import EVENT_USERS, require_active, require_available
from licensing.verbs import LICENSES_MOVED
from portal import clock
from portal.bulk import rows_insert
from portal.services import event_build, events_record


@dataclass(frozen=True)
class Move:
    """Every user of ``source`` to ``target``, for the plan change ``holder`` (both held by it)."""

    source: Subscription
    target: Subscription
    holder: str


def _copy(moves: list[Move]) -> Counter:
    """The targets' new licenses, in one INSERT … SELECT: how many each target got."""
    if not moves:
        return Counter()
    table, subs = LicenseAssignment._meta.db_table, Subscription._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(moves))
    sql = (f"WITH m(source, target, product, tenant) AS (VALUES {rows}) "  # noqa: S608 - names are ours
           f"INSERT INTO {table} (user_id, subscription_id, disabled_plans, assigned_at) "
           f"SELECT s.user_id, m.target, '[]', %s FROM {table} s JOIN m ON s.subscription_id = m.source"
           # a holder of the target's product (on it, or on another of its subscriptions) keeps that license
           f" WHERE NOT EXISTS (SELECT 1 FROM {table} h JOIN {subs} hs ON hs.id = h.subscription_id"
           f" WHERE h.user_id = s.user_id AND hs.product_id = m.product AND hs.tenant_id = m.tenant"
           f" AND h.subscription_id <> m.source)")
    params = [value for move in moves for value in (move.source.pk, move.target.pk, move.target.product_id,
                                                     move.target.tenant_id)]
    params.append(connection.ops.adapt_datetimefield_value(timezone.now()))
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute(sql + " RETURNING subscription_id", params)
                made = cursor.fetchall()
        except IntegrityError:  # someone holds a target already: skip them row by row
            cursor.execute(sql + " ON CONFLICT DO NOTHING RETURNING subscription_id", params)
            made = cursor.fetchall()
    return Counter(target for (target,) in made)


def _read(sources: list[int]) -> tuple[Counter, dict, dict]:
    """Of the sources' licenses: how many each has, the plans each user had turned off (by source, by UPN), and
    the first ``EVENT_USERS`` users of each (by assignment) as the events name them."""
    held = LicenseAssignment.objects.filter(subscription_id__in=sources)
    counts = Counter(dict(held.values("subscription_id").annotate(n=Count("pk")).values_list("subscription_id", "n")))
    reset: dict[int, dict] = {}
    for source, upn, plans in held.exclude(disabled_plans=[]).values_list("subscription_id", "user__upn",
                                                                         "disabled_plans"):
        reset.setdefault(source, {})[upn] = sorted(plans)
    named: dict[int, list[str]] = {}
    first = held.annotate(n=Window(RowNumber(), partition_by=[F("subscription_id")], order_by=F("pk").asc()))
    for source, upn in first.filter(n__lte=EVENT_USERS).values_list("subscription_id", "user__upn"):
        named.setdefault(source, []).append(upn)
    return counts, reset, named


def licenses_move_all(*, moves: list[Move], actor: str) -> dict[str, dict]:
    """Move every user of each move's source to its target (inside the caller's transaction); answers, by
    holder, the plans its users had turned off (UPN → plans), as ``licenses_moved_reset`` reads them back."""
    if not moves:
        return {}
    locked = {sub.pk: sub for sub in subscriptions_lock_across(
        subscription_ids={sub.pk for move in moves for sub in (move.source, move.target)})}
    for move in moves:
        for sub in (move.source, move.target):
            subscription_require_free(locked[sub.pk], holder=move.holder)
        require_active(move.target)
    sources = [move.source.pk for move in moves]
    counts, reset, named = _read(sources)
    made = _copy([move for move in moves if counts[move.source.pk]])
    for move in moves:
        require_available(move.target, made[move.target.pk])  # checked before anything is counted
    LicenseAssignment.objects.filter(subscription_id__in=sources).delete()
    subscriptions_usage_add(subscriptions=[sub for move in moves for sub in (move.target, move.source)],
                            deltas={**{move.target.pk: made[move.target.pk] for move in moves},
                                    **{move.source.pk: -counts[move.source.pk] for move in moves}})
    moved = [move for move in moves if counts[move.source.pk]]
    now = clock.now()
    rows_insert([LicenseMoveBatch(tenant_id=move.target.tenant_id, holder=move.holder, from_subscription=move.source,
                                  to_subscription=move.target, users=counts[move.source.pk],
                                  reset_disabled_plans=reset.get(move.source.pk, {}), moved_at=now)
                 for move in moved])
    events = []
    for move in moved:
        data = {"users": sorted(named.get(move.source.pk, [])), "count": counts[move.source.pk],
                "from": move.source.pk, "to": move.target.pk, "by": move.holder}
        if reset.get(move.source.pk):
            data["reset_disabled_plans"] = reset[move.source.pk]
        events.append(event_build(tenant=move.target.tenant, actor=actor, verb=LICENSES_MOVED, obj=move.target,
                                  data=data))
    events_record(events=events)
    return {move.holder: reset.get(move.source.pk, {}) for move in moves}
