"""Writes of the shell: the audit trail, admins and API tokens."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from portal import clock
from portal.errors import Conflict, DomainError, NotFound
from portal.models import Event, IncidentStatus, Service, ServiceIncident, Tenant
from portal.selectors import by_id, tenant_for_user

# Told of each event as it is recorded, inside its transaction: the apps above portal register here
# from their AppConfig.ready() (webhooks wakes its fan-out when the transaction commits), so portal
# imports none of them.
EVENT_LISTENERS: list[Callable[[Event], None]] = []


def event_record(
    *, tenant: Tenant | None, actor: str, verb: str, obj: models.Model | None = None,
    data: dict | None = None,
) -> Event:
    """Write one audit row (call inside the transaction that made the change)."""
    event = Event.objects.create(
        tenant=tenant,
        actor=actor,
        verb=verb,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
        occurred_at=clock.now(),
    )
    for listener in EVENT_LISTENERS:
        listener(event)
    return event


@transaction.atomic
def api_token_create(*, username: str, key: str | None = None) -> Token:
    """Replace the user's API token with a new one (or with ``key``)."""
    user = get_user_model().objects.get(username=username)
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user, key=key) if key else Token.objects.create(user=user)
    event_record(
        tenant=tenant_for_user(user=user), actor=username, verb="api_token.created",
        data={"username": username},
    )
    return token


@transaction.atomic
def incident_resolve(*, incident_id: int, actor: str) -> ServiceIncident:
    incident = ServiceIncident.objects.select_for_update().get(pk=incident_id)
    if incident.is_healthy:
        return incident
    incident.status = ServiceIncident.Status.RESOLVED
    incident.resolved_at = clock.now()
    incident.save(update_fields=["status", "resolved_at"])
    event_record(tenant=incident.tenant, actor=actor, verb="incident.resolved", obj=incident,
                 data={"service": incident.service, "title": incident.title})
    return incident


# One move applies every day on the way in one request: ten years at most.
MOVE_MAX_DAYS = 3660


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
    event_record(tenant=None, actor=actor, verb="clock.advanced",
                 data={"from": start.isoformat(), "to": after.isoformat()})
    return after


@transaction.atomic
def incident_open(*, tenant: Tenant, service: str, status: str, title: str, actor: str,
                  reason: str = "") -> ServiceIncident:
    """Support staff inject an incident (Health > Service health shows it; it blocks plan changes
    of plans that include the service until it is healthy again)."""
    if service not in Service.values:
        raise DomainError(_("Unknown service %(service)s.") % {"service": service}, field="service")
    if status not in IncidentStatus.values:
        raise DomainError(_("Unknown status %(status)s.") % {"status": status}, field="status")
    if not title.strip():
        raise DomainError(_("Give the incident a title."), field="title")
    if status in {s.value for s in ServiceIncident.HEALTHY}:
        raise DomainError(_("Open an incident with a status of a service that isn't healthy."), field="status",
                          code="incident_status_healthy")
    incident = ServiceIncident.objects.create(tenant=tenant, service=service, status=status,
                                              title=title.strip()[:300], opened_at=clock.now())
    event_record(tenant=tenant, actor=actor, verb="incident.opened", obj=incident,
                 data={"service": service, "status": status, "title": incident.title,
                       **({"reason": reason} if reason else {})})
    return incident


@transaction.atomic
def incident_update(*, incident_id, status: str, actor: str, reason: str = "") -> ServiceIncident:
    incident = by_id(ServiceIncident.objects.select_for_update(), incident_id)
    if incident is None:
        raise NotFound(_("No such incident."), code="incident_not_found")
    if status not in IncidentStatus.values:
        raise DomainError(_("Unknown status %(status)s.") % {"status": status}, field="status")
    if incident.is_healthy:  # a form left open on a closed incident must not reopen it
        raise Conflict(_("This incident is closed. If the service has a problem again, open a new incident."),
                       code="incident_closed")
    if incident.status == status:
        raise Conflict(_("The incident already has this status."), code="incident_unchanged")
    incident.status = status
    incident.resolved_at = clock.now() if incident.is_healthy else None
    incident.save(update_fields=["status", "resolved_at"])
    event_record(tenant=incident.tenant, actor=actor, verb="incident.updated", obj=incident,
                 data={"status": status, **({"reason": reason} if reason else {})})
    return incident
