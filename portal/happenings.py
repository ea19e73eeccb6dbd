"""What happens as the simulation's days pass (DESIGN.md "Time and the subscription lifecycle"):
one item per renewal, invoice, payment, lifecycle move, scheduled change, credit check, provisioning or trial's end,
in the order they are applied. A clock move answers the list; its dry run answers the same list
without keeping anything.

A happening's subject and detail are said to whoever reads the move, in their language, while the move itself runs
on a worker in no one's: each is a generated text (``portal.texts.Text``: a key and its params) or a plain string
(an invoice's number, product names). A move keeps them as ``stored`` makes them and ``shown`` renders them in the
active language when they are read (the API, the console, portalctl)."""

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
    subject: object  # a portal.texts.Text, or a str said the same in every language
    detail: object
    # what it happened to: "subscription/12", "invoice/INV-20260701-P00012", "plan_change/7", "credit_check/3",
    # "plan_change/7/new_subscription" (a subscription made on the way)
    ref: str = ""

    def as_dict(self) -> dict:
        """As said in the active language."""
        return shown(self.stored())

    def stored(self) -> dict:
        """As a move keeps it: each text as its key and params (``{"text": …, "params": …}``), to be ``shown``."""
        return {"date": self.date.isoformat(), "kind": self.kind, "tenant": self.tenant_id,
                "tenant_domain": self.tenant, "subject": _kept(self.subject), "detail": _kept(self.detail),
                "ref": self.ref}


def _kept(value):
    key, params = getattr(value, "key", None), getattr(value, "params", None)  # a Text
    return {"text": key, "params": params} if key is not None and params is not None else str(value)


def shown(kept: dict) -> dict:
    """A happening as a move kept it (``Happening.stored``, or a plain string where an older move rendered it),
    said in the active language."""
    from portal.texts import render_or

    said = dict(kept)
    for name in ("subject", "detail"):
        value = kept.get(name)
        if isinstance(value, dict):
            said[name] = render_or(value.get("text") or "", value.get("params"), "")
    return said
