"""Writes of webhooks: endpoints made and deleted, deliveries fanned out from the audit trail,
attempts sent and logged, test events and resends.

Retries wait real (machine) time, ``PORTAL_WEBHOOKS_RETRY_SCHEDULE`` seconds after each failed
attempt; after the last, the delivery has failed and its endpoint is marked failing until one of
its deliveries gets through again."""

import base64
import secrets
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import clock
from portal.errors import Conflict, DomainError
from portal.inputs import is_plain_text
from portal.models import Event, Tenant
from portal.services import event_record
from webhooks import events as types
from webhooks.dispatch import DELIVER, wake
from webhooks.models import Attempt, Delivery, Endpoint, FanOutCursor
from webhooks.selectors import delivery_get, endpoint_get
from webhooks.sender import Sent, send
from webhooks.targets import PrivateTarget, target_check, url_parse
from webhooks.verbs import (
    WEBHOOK_CREATED,
    WEBHOOK_DELETED,
    WEBHOOK_FAILING,
    WEBHOOK_RECOVERED,
    WEBHOOK_RESENT,
    WEBHOOK_TEST_SENT,
)

ENDPOINTS_MAX = 20  # per tenant
DESCRIPTION_MAX = 500
FAN_OUT_BATCH = 500
DUE_MAX = 200  # deliveries woken per fan-out
# A countdown wake is sent for retries due within this many seconds; later ones are beat's to find
# (a message that waits hours in a broker outlives Redis' visibility timeout).
WAKE_AHEAD_MAX = 300


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _message_id() -> str:
    return "msg_" + secrets.token_hex(16)


def events_clean(events) -> list[str]:
    """The chosen event types in the catalog's order; refused when empty or unknown."""
    chosen = list(events) if isinstance(events, list | tuple) else []
    unknown = [e for e in chosen if e not in types.TYPES]
    if unknown or not chosen:
        raise DomainError(_("Choose one or more event types from the list."), code="webhook_events_invalid",
                          field="events", types=types.TYPES)
    return [t for t in types.TYPES if t in chosen]


def _description_clean(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX or not is_plain_text(description):
        raise DomainError(_("A description is at most %(max)d characters of plain text.") % {"max": DESCRIPTION_MAX},
                          code="webhook_description_invalid", field="description")
    return description


def endpoint_create(*, tenant: Tenant, user, url: str, events, description: str = "") -> Endpoint:
    """A new endpoint with a new secret (on the returned object; shown to the admin once)."""
    events = events_clean(events)
    description = _description_clean(description)
    target_check(url)  # before the transaction: it may wait on DNS
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()  # the per-tenant limit, one at a time
        if Endpoint.objects.filter(tenant=tenant).count() >= ENDPOINTS_MAX:
            raise Conflict(_("A tenant has at most %(max)d webhooks; delete one first.") % {"max": ENDPOINTS_MAX},
                           code="webhook_limit")
        endpoint = Endpoint.objects.create(tenant=tenant, url=url, events=events, description=description,
                                           secret=secret_new(), created_by=user)
        event_record(tenant=tenant, actor=user.get_username(), verb=WEBHOOK_CREATED, obj=endpoint,
                     data={"url": url, "events": events, "description": description})
    return endpoint


@transaction.atomic
def endpoint_delete(*, tenant: Tenant, endpoint_id, actor: str) -> None:
    endpoint = endpoint_get(tenant=tenant, id=endpoint_id)
    # The endpoint's lock first, as _attempt_record takes it: the cascade then locks its deliveries
    # (deleting them first and the endpoint last deadlocked a worker recording an attempt; probe2).
    Endpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    event_record(tenant=tenant, actor=actor, verb=WEBHOOK_DELETED, obj=endpoint, data={"url": endpoint.url})
    endpoint.delete()


def _wake_on_commit(delivery_id: int) -> None:
    transaction.on_commit(lambda: wake(DELIVER, [delivery_id]), robust=True)


@transaction.atomic
def endpoint_test(*, tenant: Tenant, endpoint_id, actor: str) -> Delivery:
    """"Send test event": a ``webhook.test`` delivery to this endpoint, whatever types it chose."""
    endpoint = endpoint_get(tenant=tenant, id=endpoint_id)
    message_id = _message_id()
    delivery = Delivery.objects.create(
        endpoint=endpoint, message_id=message_id, type=types.TEST_TYPE, next_attempt_at=timezone.now(),
        body=types.body(message_id=message_id, type_=types.TEST_TYPE, created_at=clock.now(),
                        data={"endpoint": endpoint.pk, "message": "A test event from Plan Change Portal."}))
    event_record(tenant=tenant, actor=actor, verb=WEBHOOK_TEST_SENT, obj=endpoint, data={"message": message_id})
    _wake_on_commit(delivery.pk)
    return delivery


@transaction.atomic
def delivery_resend(*, tenant: Tenant, endpoint_id, delivery_id, actor: str) -> Delivery:
    """"Resend": the same message (same ``webhook-id`` and body) again, with a new round of retries."""
    endpoint = endpoint_get(tenant=tenant, id=endpoint_id)
    delivery = delivery_get(endpoint=endpoint, id=delivery_id, lock=True)
    if delivery.status == Delivery.Status.PENDING:
        raise Conflict(_("This message is still being sent; it can be resent once it is delivered or has failed."),
                       code="delivery_pending")
    delivery.status = Delivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    event_record(tenant=tenant, actor=actor, verb=WEBHOOK_RESENT, obj=endpoint,
                 data={"message": delivery.message_id, "type": delivery.type})
    _wake_on_commit(delivery.pk)
    return delivery


# --- Fan-out: audit events → deliveries -------------------------------------------------------------


def fan_out() -> list[int]:
    """Make the deliveries of the audit events after the cursor (each at most once per endpoint), move
    the cursor, and answer the ids of the deliveries due now.

    On PostgreSQL an event's id is taken before its transaction commits, so a lower id can appear after
    a higher one: the events of the last ``PORTAL_WEBHOOKS_LOOKBACK_SECONDS`` are read again at every
    run and the cursor only passes events older than that (the unique delivery per endpoint and event
    makes the second reading make nothing)."""
    now = timezone.now()
    settled = now - timedelta(seconds=settings.PORTAL_WEBHOOKS_LOOKBACK_SECONDS)
    with transaction.atomic():
        FanOutCursor.objects.get_or_create(pk=1)
        cursor = FanOutCursor.objects.select_for_update().get(pk=1)
        endpoints = defaultdict(list)
        for endpoint in Endpoint.objects.only("pk", "tenant_id", "events", "created_at"):
            endpoints[endpoint.tenant_id].append(endpoint)
        position = cursor.last_event_id
        while endpoints:
            batch = list(Event.objects.filter(types.source_verbs_q(), pk__gt=position, tenant_id__in=list(endpoints))
                         .order_by("pk")[:FAN_OUT_BATCH])
            if not batch:
                break
            _deliveries_make(batch, endpoints, now)
            position = batch[-1].pk
        passed = Event.objects.filter(pk__gt=cursor.last_event_id, recorded_at__lt=settled).aggregate(last=Max("pk"))
        if passed["last"]:
            cursor.last_event_id = passed["last"]
            cursor.save(update_fields=["last_event_id"])
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:DUE_MAX])


def _deliveries_make(batch: list[Event], endpoints: dict, now) -> None:
    made = set(Delivery.objects.filter(event_id__in=[e.pk for e in batch]).values_list("endpoint_id", "event_id"))
    new = []
    for event in batch:
        type_ = types.webhook_type(event.verb, event.data)
        if type_ is None:
            continue
        data = None
        for endpoint in endpoints[event.tenant_id]:
            if (type_ not in endpoint.events or endpoint.created_at > event.recorded_at
                    or (endpoint.pk, event.pk) in made):
                continue
            data = data if data is not None else types.event_data(event, type_)
            message_id = _message_id()
            new.append(Delivery(endpoint_id=endpoint.pk, event_id=event.pk, message_id=message_id, type=type_,
                                next_attempt_at=now, body=types.body(message_id=message_id, type_=type_,
                                                                     created_at=event.occurred_at, data=data)))
    Delivery.objects.bulk_create(new, ignore_conflicts=True)  # another fan-out made them first: theirs stand


# --- Sending ----------------------------------------------------------------------------------------


def delivery_lease() -> timedelta:
    """How long a claimed delivery is its worker's to send (webhooks.tasks stops the task before then)."""
    return timedelta(seconds=settings.PORTAL_WEBHOOKS_TIMEOUT * 4 + 30)


def _loggable(text: str, limit: int) -> str:
    """What a receiver said, as a text column takes it: PostgreSQL refuses NUL characters."""
    return text.replace("\x00", "\ufffd")[:limit]


def delivery_attempt(delivery_id: int) -> tuple[str, float | None]:
    """Send a due delivery once and log the attempt. Answers what happened ("delivered", "retry",
    "failed", or "not_due"/"done" when it wasn't this caller's to send) and, for a retry, in how many
    seconds. The claim is a compare-and-set in its own transaction; nothing is locked while sending."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("endpoint")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return "done", None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not_due", None
        delivery.attempts += 1
        delivery.next_attempt_at = now + delivery_lease()
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        endpoint = delivery.endpoint
    target = url_parse(endpoint.url)
    attempted_at = timezone.now()
    if target is None:
        sent = Sent(None, "not a URL a webhook can go to", 0, "", Attempt.Error.INVALID_URL)
    else:
        try:
            sent = send(target=target, secret=endpoint.secret, message_id=delivery.message_id, body=delivery.body)
        except PrivateTarget as exc:
            with translation.override("en"):  # the details are English; pages show the kind
                sent = Sent(None, str(exc.detail)[:300], 0, "", Attempt.Error.PRIVATE)
    return _attempt_record(delivery_id, sent, attempted_at)


def _attempt_record(delivery_id: int, sent: Sent, attempted_at) -> tuple[str, float | None]:
    with transaction.atomic():
        # The lock order of every write here: the endpoint, then its delivery (a delete takes them so too).
        endpoint_id = Delivery.objects.filter(pk=delivery_id).values_list("endpoint_id", flat=True).first()
        endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if endpoint is None or delivery is None:  # the endpoint was deleted meanwhile
            return "done", None
        number = (Attempt.objects.filter(delivery=delivery).aggregate(n=Max("number"))["n"] or 0) + 1
        Attempt.objects.create(delivery=delivery, number=number, attempted_at=attempted_at,
                               status_code=sent.status_code, error_kind=sent.kind, error=_loggable(sent.error, 300),
                               duration_ms=sent.duration_ms, response=_loggable(sent.response, 500))
        ok = sent.status_code is not None and 200 <= sent.status_code < 300
        schedule = settings.PORTAL_WEBHOOKS_RETRY_SCHEDULE
        delay = None
        if ok:
            outcome, delivery.status, delivery.next_attempt_at = "delivered", Delivery.Status.DELIVERED, None
            if endpoint.status == Endpoint.Status.FAILING:
                endpoint.status, endpoint.failing_since = Endpoint.Status.ACTIVE, None
                endpoint.save(update_fields=["status", "failing_since"])
                event_record(tenant=endpoint.tenant, actor="system", verb=WEBHOOK_RECOVERED, obj=endpoint,
                             data={"url": endpoint.url, "message": delivery.message_id})
        elif delivery.attempts <= len(schedule):
            delay = float(schedule[delivery.attempts - 1])
            outcome, delivery.next_attempt_at = "retry", timezone.now() + timedelta(seconds=delay)
        else:
            outcome, delivery.status, delivery.next_attempt_at = "failed", Delivery.Status.FAILED, None
            if endpoint.status == Endpoint.Status.ACTIVE:
                endpoint.status, endpoint.failing_since = Endpoint.Status.FAILING, timezone.now()
                endpoint.save(update_fields=["status", "failing_since"])
                event_record(tenant=endpoint.tenant, actor="system", verb=WEBHOOK_FAILING, obj=endpoint,
                             data={"url": endpoint.url, "message": delivery.message_id, "attempts": number})
        delivery.save(update_fields=["status", "next_attempt_at"])
    return outcome, delay


def retry_wake(delivery_id: int, delay: float | None) -> None:
    """After a failed attempt: wake a worker when the retry is due, if that is soon."""
    if delay is not None and delay <= WAKE_AHEAD_MAX:
        wake(DELIVER, [delivery_id], countdown=delay)
