"""Changes scheduled for a renewal, as the simulation's days reach them (``simulation.days`` calls
these in each day's order): which are due, starting them, and what the day's list says of each."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from billing.services import subscriptions_hold_locked, subscriptions_lock_across
from planchange.models import PlanChange
from planchange.texts import SCHEDULED_COMPLETED, SCHEDULED_FAILED, SCHEDULED_STARTED
from planchange.verbs import PLAN_CHANGE_STARTED
from portal.happenings import Happening, Kind
from portal.services import event_build, events_record
from portal.texts import Text


def scheduled_changes_start_due(*, day: date) -> list[int]:
    """Changes scheduled for renewal on ``day`` or before: queue them, holding their subscription
    read-only from now on (locks: the subscriptions, then the changes). The day loop runs them itself,
    without waking a worker, so a change at renewal is done before the day's billing (the sweep wakes
    one for a change the loop couldn't finish).

    Set-based: the due changes, their subscriptions (locked), the changes (locked and queued), the holds
    and the audit events are read and written in one statement each, however many tenants; in the order
    of their dates, as one change after the other would."""
    due = list(PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED, scheduled_for__lte=day)
               .order_by("scheduled_for", "pk").values_list("pk", "subscription_id", "new_subscription_id"))
    if not due:
        return []
    with transaction.atomic():
        subs = {sub.pk: sub for sub in subscriptions_lock_across(
            subscription_ids={i for _pk, *ids in due for i in ids if i})}
        changes = PlanChange.objects.select_for_update(of=("self",)).select_related("tenant").in_bulk(
            [pk for pk, _sub, _into in due])
        started, holds, events = [], [], []
        for pk, subscription_id, into_id in due:
            change = changes[pk]
            if change.status != PlanChange.Status.SCHEDULED:
                continue
            holds.append((subs[subscription_id], change.holder, True))
            if change.into_existing:  # the subscription it goes into, unless another holds it: validate says why
                holds.append((subs[into_id], change.holder, False))
            events.append(event_build(tenant=change.tenant, actor="system", verb=PLAN_CHANGE_STARTED, obj=change,
                                      data={"scheduled_for": change.scheduled_for.isoformat()}))
            started.append(pk)
        subscriptions_hold_locked(holds=holds)
        PlanChange.objects.filter(pk__in=started).update(status=PlanChange.Status.QUEUED, updated_at=timezone.now())
        events_record(events=events)
    return started


def scheduled_changes_next_due(after: date) -> date | None:
    """The first day after ``after`` on which a scheduled change falls due."""
    scheduled = (PlanChange.objects.filter(status=PlanChange.Status.SCHEDULED).order_by("scheduled_for")
                 .values_list("scheduled_for", flat=True).first())
    return max(scheduled, after + timedelta(days=1)) if scheduled else None


def scheduled_changes_happenings(change_ids: list[int], day: date) -> list[Happening]:
    """What the day's list says of each scheduled change it started (in their order): completed, failed (why),
    or left to a worker. One query, however many."""
    changes = (PlanChange.objects.select_related("tenant", "subscription__product", "target_product")
               .in_bulk(change_ids))
    return [_happening(changes[pk], day) for pk in change_ids]


def _happening(change: PlanChange, day: date) -> Happening:
    subject = f"{change.subscription.product.name} → {change.target_product.name}"
    if change.status == PlanChange.Status.COMPLETED:
        detail = Text(SCHEDULED_COMPLETED, licenses=change.licenses, target=change.target_product.name)
    elif change.status == PlanChange.Status.FAILED:
        detail = Text(SCHEDULED_FAILED, blockers=list(change.blockers or []), error_text=change.error_text,
                      error_params=change.error_params, error=change.error_detail)
    else:
        detail = Text(SCHEDULED_STARTED)
    return Happening(day, Kind.PLAN_CHANGE, change.tenant_id, change.tenant.domain, subject, detail,
                     f"plan_change/{change.pk}")


def subscriptions_made_since(first_id: int) -> dict[int, int]:
    """Subscriptions with an id of at least ``first_id`` that plan changes made, by the change that
    made each (new subscription id → change id)."""
    return dict(PlanChange.objects.filter(new_subscription_id__gte=first_id, into_existing=False)
                .values_list("new_subscription_id", "pk"))
