"""Writes of the shell: the audit trail, admins and API tokens."""

from collections.abc import Callable
from datetime import UTC, timedelta

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import clock, tokens
from portal.bulk import rows_insert
from portal.errors import Conflict, DomainError
from portal.inputs import is_plain_text
from portal.models import ApiToken, Event, IncidentStatus, Service, ServiceIncident, Tenant
from portal.selectors import api_token_get, incident_get, tenant_for_user
from portal.verbs import API_TOKEN_CREATED, API_TOKEN_REVOKED, INCIDENT_OPENED, INCIDENT_RESOLVED, INCIDENT_UPDATED

# Told of each event as it is recorded, inside its transaction: the apps above portal register here
# from their AppConfig.ready() (webhooks wakes its fan-out when the transaction commits), so portal
# imports none of them.
EVENT_LISTENERS: list[Callable[[Event], None]] = []


def event_record(
    *, tenant: Tenant | None, actor: str, verb: str, obj: models.Model | None = None,
    data: dict | None = None,
) -> Event:
    """Write one audit row (call inside the transaction that made the change)."""
    event = event_build(tenant=tenant, actor=actor, verb=verb, obj=obj, data=data)
    event.save(force_insert=True)
    for listener in EVENT_LISTENERS:
        listener(event)
    return event


def event_build(
    *, tenant: Tenant | None, actor: str, verb: str, obj: models.Model | None = None,
    data: dict | None = None, occurred_at=None,
) -> Event:
    """One audit row, not written yet: ``events_record`` writes many in one statement (``obj`` must
    have its id by then; ``occurred_at`` defaults to now)."""
    return Event(
        tenant=tenant,
        actor=actor,
        verb=verb,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
        occurred_at=occurred_at or clock.now(),
    )


def event_build_of(*, tenant_id: int | None, actor: str, verb: str, model: type[models.Model], pk,
                   data: dict | None = None, occurred_at=None) -> Event:
    """``event_build`` for a row known by its model and id (a day's step reads its rows as values, not as
    instances): the same audit row."""
    return Event(tenant_id=tenant_id, actor=actor, verb=verb, object_type=model._meta.label_lower, object_id=str(pk),
                 data=data or {}, occurred_at=occurred_at or clock.now())


def events_record(*, events: list[Event]) -> list[Event]:
    """Write many audit rows (built by ``event_build``) in one statement, in their order, and tell the
    listeners of each as ``event_record`` does (call inside the transaction that made the changes)."""
    rows_insert(events)  # on PostgreSQL their ids stay unset: nothing asks for them
    for event in events:
        for listener in EVENT_LISTENERS:
            listener(event)
    return events


# --- Why support staff acted ----------------------------------------------------------------------

SUPPORT_REASON_MIN, SUPPORT_REASON_MAX = 3, 500


def support_reason_clean(reason, *, required: bool = False) -> str:
    """Why support staff did something, as its audit event keeps it: 3 to 500 characters of plain text,
    or nothing when not ``required`` (the API's scripts may leave it out; the console asks for it). Every
    service that acts for support staff checks its reason here, whichever door it came through."""
    text = reason.strip() if isinstance(reason, str) else None
    if text == "" and not required:
        return ""
    if text is None or not SUPPORT_REASON_MIN <= len(text) <= SUPPORT_REASON_MAX or not is_plain_text(text):
        raise DomainError(_("Say why, in %(min)d to %(max)d characters of plain text: it goes on the audit trail.")
                          % {"min": SUPPORT_REASON_MIN, "max": SUPPORT_REASON_MAX}, code="invalid_reason",
                          field="reason")
    return text


# --- API tokens (portal.tokens: their format and digest) ----------------------------------------

API_TOKEN_NAME_MAX = 100
# The longest life a token can be given; without an expiry it lives until revoked.
API_TOKEN_LIFE_MAX = timedelta(days=365)
# Live (not revoked, not expired) tokens one login may hold.
API_TOKENS_LIVE_MAX = 50
# The name of the token the command (without --name), scenario files and the move from DRF's tokens
# give: the command replaces the live ones of this name, as it replaced the one token before.
API_TOKEN_DEFAULT_NAME = "default"  # noqa: S105 (a name, not a secret)
# "Last used" is written at most this often per token: one UPDATE a minute, not one a request.
API_TOKEN_USED_EVERY = timedelta(minutes=1)


def api_token_name_clean(name) -> str:
    """The name a token would be given (spaces collapsed), or DomainError on ``name`` saying why not:
    a form checks it beside its other fields, so it can show every refusal at once."""
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise DomainError(_("Give the token a name."), code="api_token_name_required", field="name")
    if len(name) > API_TOKEN_NAME_MAX:
        raise DomainError(_("A token's name is at most %(max)d characters.") % {"max": API_TOKEN_NAME_MAX},
                          code="api_token_name_too_long", field="name")
    if not is_plain_text(name):
        raise DomainError(_("The name can't contain control characters or text-direction overrides."),
                          code="api_token_name_invalid", field="name")
    return name


def _api_token_expiry(expires_at, now, expires_by=None):
    if expires_by is not None and (expires_at is None or expires_at > expires_by):
        raise DomainError(_("A token made with an API token can't outlive it: choose an expiry up to %(last)s UTC.")
                          % {"last": expires_by.astimezone(UTC).strftime("%Y-%m-%d %H:%M")},
                          code="api_token_expiry_too_far", field="expires")
    if expires_at is None:
        return None
    if expires_at <= now:
        raise DomainError(_("Choose an expiry in the future."), code="api_token_expiry_past", field="expires")
    if expires_at > now + API_TOKEN_LIFE_MAX:
        raise DomainError(_("A token can be given at most a year: choose an expiry up to %(last)s.")
                          % {"last": (now + API_TOKEN_LIFE_MAX).date().isoformat()},
                          code="api_token_expiry_too_far", field="expires")
    return expires_at


@transaction.atomic
def api_token_create(
    *, user, name: str, expires_at=None, key: str | None = None, expires_by=None,
) -> tuple[ApiToken, str]:
    """A new token for this login: the row and the token itself, which is shown once and never
    stored (``key`` gives a fixed one, as scenario files do). Audited without the secret.

    ``expires_by``: the latest expiry allowed, when the request making it was signed in with an API
    token that expires: a token never mints one that outlives it (else a stolen 30-day token could
    be turned into one without an expiry)."""
    now = timezone.now()
    errors = {}
    for field, check in (("name", lambda: api_token_name_clean(name)),
                         ("expires", lambda: _api_token_expiry(expires_at, now, expires_by))):
        try:
            check()
        except DomainError as exc:  # both checked, so a form shows every refusal at once
            errors[field] = exc
    if len(errors) == 1:
        raise next(iter(errors.values()))
    if errors:
        raise DomainError(_("Check the token's name and expiry."), code=errors["name"].code,
                          errors={field: exc.detail for field, exc in errors.items()})
    name = api_token_name_clean(name)
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # one creator at a time per login
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=now).count()
    if live >= API_TOKENS_LIVE_MAX:
        raise Conflict(_("You have %(max)d live API tokens. Revoke one you no longer use first.")
                       % {"max": API_TOKENS_LIVE_MAX}, code="api_token_limit")
    key = key or tokens.generate()
    token = ApiToken.objects.create(user=user, name=name, key_id=tokens.key_id(key), digest=tokens.digest(key),
                                    created_at=now, expires_at=expires_at)
    event_record(tenant=tenant_for_user(user=user), actor=user.get_username(), verb=API_TOKEN_CREATED, obj=token,
                 data={"username": user.get_username(), "name": name,
                       "expires_at": expires_at.isoformat() if expires_at else None})
    return token, key


@transaction.atomic
def api_token_revoke(*, user, token_id, actor: str) -> ApiToken:
    """Revoke one of the login's own tokens: the very next request with it is refused. Revoking a
    revoked token changes nothing."""
    token = api_token_get(user=user, id=token_id)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    token.already_revoked = token.revoked_at is not None
    if token.already_revoked:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    event_record(tenant=tenant_for_user(user=user), actor=actor, verb=API_TOKEN_REVOKED, obj=token,
                 data={"username": user.get_username(), "name": token.name})
    return token


@transaction.atomic
def api_token_replace(*, username: str, name: str = API_TOKEN_DEFAULT_NAME, key: str | None = None) -> str:
    """``create_api_token USERNAME``: revoke the login's live tokens of this name and make a new
    one (or ``key``); answers the token."""
    user = get_user_model().objects.get(username=username)
    for token_id in ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).values_list("pk", flat=True):
        api_token_revoke(user=user, token_id=token_id, actor=username)
    return api_token_create(user=user, name=name, key=key)[1]


def api_token_mark_used(*, token: ApiToken) -> None:
    """Note that the token was just used: one UPDATE, at most once a minute per token (the condition
    is in the UPDATE, so concurrent requests don't write twice)."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < API_TOKEN_USED_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lte=now - API_TOKEN_USED_EVERY),
    ).mark_used(now)
    token.last_used_at = now


@transaction.atomic
def incident_resolve(*, incident_id: int, actor: str) -> ServiceIncident:
    incident = ServiceIncident.objects.select_for_update().get(pk=incident_id)
    if incident.is_healthy:
        return incident
    incident.status = ServiceIncident.Status.RESOLVED
    incident.resolved_at = clock.now()
    incident.save(update_fields=["status", "resolved_at"])
    event_record(tenant=incident.tenant, actor=actor, verb=INCIDENT_RESOLVED, obj=incident,
                 data={"service": incident.service, "title": incident.title})
    return incident


INCIDENT_TITLE_MAX = 300


@transaction.atomic
def incident_open(*, tenant: Tenant, service: str, status: str, title: str, actor: str,
                  reason: str = "", reason_required: bool = False) -> ServiceIncident:
    """Support staff inject an incident (Health > Service health shows it; it blocks plan changes
    of plans that include the service until it is healthy again)."""
    reason = support_reason_clean(reason, required=reason_required)
    if service not in Service.values:
        raise DomainError(_("Unknown service %(service)s.") % {"service": service}, field="service")
    if status not in IncidentStatus.values:
        raise DomainError(_("Unknown status %(status)s.") % {"status": status}, field="status")
    if not title.strip():
        raise DomainError(_("Give the incident a title."), field="title")
    if len(title.strip()) > INCIDENT_TITLE_MAX:
        raise DomainError(_("An incident's title is at most %(max)d characters.") % {"max": INCIDENT_TITLE_MAX},
                          field="title")
    if not is_plain_text(title):
        raise DomainError(_("The title can't contain control characters or text-direction overrides."),
                          field="title")
    if status in {s.value for s in ServiceIncident.HEALTHY}:
        raise DomainError(_("Open an incident with a status of a service that isn't healthy."), field="status",
                          code="incident_status_healthy")
    incident = ServiceIncident.objects.create(tenant=tenant, service=service, status=status,
                                              title=title.strip(), opened_at=clock.now())
    event_record(tenant=tenant, actor=actor, verb=INCIDENT_OPENED, obj=incident,
                 data={"service": service, "status": status, "title": incident.title,
                       **({"reason": reason} if reason else {})})
    return incident


@transaction.atomic
def incident_update(*, incident_id, status: str, actor: str, reason: str = "",
                    reason_required: bool = False) -> ServiceIncident:
    """Support staff move an incident's status (to a healthy one: it is closed)."""
    incident = incident_get(tenant=None, id=incident_id, lock=True)
    reason = support_reason_clean(reason, required=reason_required)
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
    event_record(tenant=incident.tenant, actor=actor, verb=INCIDENT_UPDATED, obj=incident,
                 data={"status": status, **({"reason": reason} if reason else {})})
    return incident
