"""Told of every audit event as it is recorded (``portal.services.EVENT_LISTENERS``): when the
transaction that wrote events a webhook is made from commits, and their tenant has an endpoint, a
worker is woken to fan them out. One wake per transaction, however many events it wrote; nothing
at all for the events no webhook is made from."""

import logging
import threading

from django.db import transaction

from portal.models import Event
from webhooks.dispatch import FAN_OUT, wake
from webhooks.events import webhook_type
from webhooks.selectors import endpoints_exist

log = logging.getLogger(__name__)
_pending = threading.local()


def event_recorded(event: Event) -> None:
    if event.tenant_id is None or webhook_type(event.verb, event.data) is None:
        return
    tenants = getattr(_pending, "tenants", None)
    connection = transaction.get_connection()
    registered = tenants is not None and any(entry[1] is _flush for entry in connection.run_on_commit)
    if not registered:  # the first such event of this transaction (a rolled-back one took its callback along)
        _pending.tenants = tenants = set()
    tenants.add(event.tenant_id)
    if not registered:
        transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    tenants, _pending.tenants = getattr(_pending, "tenants", None) or set(), None
    try:
        if tenants and endpoints_exist(tenant_ids=tenants):
            wake(FAN_OUT)
    except Exception:  # committed is committed: beat's fan-out will find the events
        log.warning("could not look for webhook endpoints after a commit", exc_info=True)
