"""What happens as the simulation's days pass (DESIGN.md "Time and the subscription lifecycle"):
one item per renewal, invoice, lifecycle move, scheduled change, credit check or provisioning,
in the order they are applied. A clock move answers the list; its dry run answers the same list
without keeping anything."""

from dataclasses import dataclass
from datetime import date

# The order of a day's happenings: what is set up and decided first, then the changes due that day
# (a change at renewal replaces the subscription before it would renew), then billing, and
# termination after billing on a boundary day.
KINDS = ("provisioned", "credit_check", "plan_change", "renewal", "invoice", "payment", "refund", "expired",
         "disabled", "deleted", "overdue")


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
