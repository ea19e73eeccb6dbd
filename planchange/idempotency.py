"""Idempotency-Key for POST plan-changes/: the same key and body replay the first answer,
a different body is refused. Keys belong to one tenant and one caller and are kept 24 hours."""

import hashlib
import json
from collections.abc import Callable
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
    replayed: bool = False  # the answer of an earlier request with the key, not of this one


def body_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(*, tenant, user, key: str, request_hash: str, action: Callable[[], tuple[int, dict]]) -> Replay:
    """Answer a request made with an Idempotency-Key: the first time, run ``action`` (which
    returns the answer's status and body); afterwards, replay that answer.

    One transaction holds the key's record, everything ``action`` writes and the answer, so
    they commit together or not at all: a committed change always has its answer stored, and a
    request that fails unexpectedly leaves no key behind (the client may simply retry). A second
    request with the same key waits for the first to commit, then replays its answer.
    """
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(tenant=tenant, user=user, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant=tenant, user=user, key=key, request_hash=request_hash, created_at=now,
                    expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS))
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(tenant=tenant, user=user, key=key)
            if existing.request_hash != request_hash:
                raise DomainError(_("This Idempotency-Key was used for a different request."),
                                  code="idempotency_key_reused") from None
            if existing.state == IdempotencyRecord.State.IN_FLIGHT:  # not committed without its answer any more
                raise Conflict(_("A request with this Idempotency-Key is still being processed."),
                               code="request_in_progress") from None
            return Replay(existing.response_status, existing.response_body, replayed=True)
        status, body = action()
        record.state = IdempotencyRecord.State.DONE
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["state", "response_status", "response_body"])
    return Replay(status, body)
