"""Which audit events become which webhook event types, and what a delivery says.

The audit trail is the outbox: every state change already writes a ``portal.models.Event`` in the
transaction that made it, so a webhook is made from a committed event or not at all.
"""

import json

from billing.models import Invoice, Subscription
from billing.verbs import INVOICE_CREATED, SUBSCRIPTION_BOUGHT, SUBSCRIPTION_PROVISIONED
from planchange.models import PlanChange, StepName
from planchange.verbs import (
    PLAN_CHANGE_CANCELLED,
    PLAN_CHANGE_FAILED,
    PLAN_CHANGE_REQUESTED,
    PLAN_CHANGE_RUNNING,
    PLAN_CHANGE_STARTED,
    STEP_DONE,
)
from portal.models import Event

PLAN_CHANGE_TYPES = [f"plan_change.{status}" for status in
                     ("scheduled", "queued", "running", "completed", "failed", "cancelled")]
TYPES = [*PLAN_CHANGE_TYPES, "invoice.created", "subscription.created", "subscription.updated"]
TEST_TYPE = "webhook.test"

# The audit verbs that tell of a plan change's status; each names the status it moved to.
_PLAN_CHANGE_VERBS = {
    PLAN_CHANGE_STARTED: "plan_change.queued",  # a scheduled change's day came
    PLAN_CHANGE_RUNNING: "plan_change.running",
    STEP_DONE[StepName.COMPLETE]: "plan_change.completed",
    PLAN_CHANGE_FAILED: "plan_change.failed",
    PLAN_CHANGE_CANCELLED: "plan_change.cancelled",
}
_SUBSCRIPTION_CREATED = {SUBSCRIPTION_BOUGHT, SUBSCRIPTION_PROVISIONED}
# Every audit verb of a subscription makes a subscription webhook (created, or else updated).
_SUBSCRIPTION_VERB = "subscription."


def webhook_type(verb: str, data: dict | None) -> str | None:
    """The webhook event type of an audit event, or None when it makes none."""
    if verb == PLAN_CHANGE_REQUESTED:
        at_renewal = (data or {}).get("schedule") == PlanChange.Schedule.RENEWAL
        return "plan_change.scheduled" if at_renewal else "plan_change.queued"
    if verb in _PLAN_CHANGE_VERBS:
        return _PLAN_CHANGE_VERBS[verb]
    if verb == INVOICE_CREATED:
        return "invoice.created"
    if verb.startswith(_SUBSCRIPTION_VERB):
        return "subscription.created" if verb in _SUBSCRIPTION_CREATED else "subscription.updated"
    return None


def source_verbs_q():
    """The audit events that can make a webhook, as a filter (most verbs make none)."""
    from django.db.models import Q

    return (Q(verb__in=[PLAN_CHANGE_REQUESTED, INVOICE_CREATED, *_PLAN_CHANGE_VERBS])
            | Q(verb__startswith=_SUBSCRIPTION_VERB))


def _day(value):
    return value.isoformat() if value is not None else None


def _money(value):
    return str(value) if value is not None else None


def _plan_change(change: PlanChange, status: str) -> dict:
    return {
        "id": change.pk, "status": status, "subscription": change.subscription_id,
        "target_sku": change.target_product.sku, "licenses": change.licenses, "schedule": change.schedule,
        "scheduled_for": _day(change.scheduled_for), "effective_date": _day(change.effective_date),
        "new_subscription": change.new_subscription_id,
        "into_subscription": change.into_subscription_id,
        "invoice": change.invoice_id, "credit": _money(change.credit),
        "error": ({"code": change.error_code, "detail": change.error_detail} if status == PlanChange.Status.FAILED
                  else None),
    }


def _invoice(invoice: Invoice) -> dict:
    return {"id": invoice.pk, "number": invoice.number, "date": _day(invoice.date), "due_date": _day(invoice.due_date),
            "total": _money(invoice.total), "paid": _money(invoice.paid),
            "billing_profile": invoice.billing_profile_id}


def _subscription(sub: Subscription) -> dict:
    return {"id": sub.pk, "sku": sub.product.sku, "status": sub.status, "licenses": sub.licenses, "term": sub.term,
            "billing_frequency": sub.billing_frequency, "start_date": _day(sub.start_date),
            "recurring_billing": sub.recurring_billing}


def event_data(event: Event, type_: str) -> dict:
    """``data`` of a delivery: the object as it stands when the delivery is made (a plan change with the
    status of the event), and the audit event it comes from."""
    data: dict = {"event": {"id": event.pk, "verb": event.verb, "actor": event.actor, "data": event.data}}
    pk = event.object_id
    if type_.startswith("plan_change."):
        change = PlanChange.objects.select_related("target_product").filter(pk=pk).first()
        data["plan_change"] = _plan_change(change, type_.split(".", 1)[1]) if change else None
    elif type_ == "invoice.created":
        invoice = Invoice.objects.filter(pk=pk).first()
        data["invoice"] = _invoice(invoice) if invoice else None
    elif type_.startswith("subscription."):
        sub = Subscription.objects.select_related("product").filter(pk=pk).first()
        data["subscription"] = _subscription(sub) if sub else None
    return data


def body(*, message_id: str, type_: str, created_at, data: dict) -> str:
    """The JSON of a delivery: ``{id, type, created_at, data}``, compact, as signed and sent."""
    return json.dumps({"id": message_id, "type": type_, "created_at": created_at.isoformat(), "data": data},
                      separators=(",", ":"), default=str)
