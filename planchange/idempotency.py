"""Idempotency-Key for POST plan-changes/: the same key and body replay the first answer,
a different body is refused, and a request while the first is still in flight is a 409.
Keys belong to one tenant and one caller and are kept 24 hours."""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from planchange.models import IdempotencyRecord
from portal.errors import Conflict, DomainError


@dataclass
class Replay:
    status: int
    body: dict


def body_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_begin(*, tenant, user, key: str, request_hash: str) -> IdempotencyRecord | Replay:
    """Reserve the key for this request, or return the first answer to replay."""
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(tenant=tenant, user=user, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    tenant=tenant, user=user, key=key, request_hash=request_hash, created_at=now,
                    expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS))
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(tenant=tenant, user=user, key=key)
    if existing.request_hash != request_hash:
        raise DomainError(_("This Idempotency-Key was used for a different request."),
                          code="idempotency_key_reused")
    if existing.state == IdempotencyRecord.State.IN_FLIGHT:
        raise Conflict(_("A request with this Idempotency-Key is still being processed."),
                       code="request_in_progress")
    return Replay(existing.response_status, existing.response_body)


def idempotency_finish(record: IdempotencyRecord, *, status: int, body: dict) -> None:
    record.state = IdempotencyRecord.State.DONE
    record.response_status = status
    record.response_body = body
    record.save(update_fields=["state", "response_status", "response_body"])


def idempotency_abandon(record: IdempotencyRecord) -> None:
    """An unexpected failure: forget the key so the client can retry it."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
