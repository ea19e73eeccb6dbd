"""What happens as the simulation's days pass (DESIGN.md "Time and the subscription lifecycle"):
one item per renewal, invoice, payment, lifecycle move, scheduled change, credit check, provisioning or trial's end,
in the order they are applied. A clock move answers the list; its dry run answers the same list
without keeping anything."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    """What happened, in the order of a day's happenings: what is set up and decided first, then the
    changes due that day (a change at renewal replaces the subscription before it would renew), then
    billing, and termination after billing on a boundary day."""

    PROVISIONED = "provisioned"
    CREDIT_CHECK = "credit_check"
    PLAN_CHANGE = "plan_change"
    TRIAL_CONVERTED = "trial_converted"  # before billing: its first period is charged the same day
    TRIAL_EXPIRED = "trial_expired"
    RENEWAL = "renewal"
    INVOICE = "invoice"
    PAYMENT = "payment"
    INVOICE_PAYMENT = "invoice_payment"  # an invoice payer pays by its habit (billing.habits)
    REFUND = "refund"
    EXPIRED = "expired"
    DISABLED = "disabled"
    DELETED = "deleted"
    OVERDUE = "overdue"


KINDS = tuple(Kind)


@dataclass(frozen=True)
class Happening:
    date: date
    kind: str
    tenant_id: int
    tenant: str  # the tenant's domain
    subject: str
    detail: str
    # what it happened to: "subscription/12", "invoice/INV-20260701-P00012", "plan_change/7", "credit_check/3",
    # "plan_change/7/new_subscription" (a subscription made on the way)
    ref: str = ""

    def as_dict(self) -> dict:
        return {"date": self.date.isoformat(), "kind": self.kind, "tenant": self.tenant_id,
                "tenant_domain": self.tenant, "subject": self.subject, "detail": self.detail, "ref": self.ref}
