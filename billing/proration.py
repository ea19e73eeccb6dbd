"""What a plan change costs: pure functions, used by the quote and by the bill step alike,
so a preview and the invoice for the same date match to the cent (DESIGN.md "Money").

- Credit for the old subscription = charge of the last period actually invoiced × unused
  days / days in that period, counted from the effective (completion) date; rounded once;
  never more than the period's charge (a change dated before the period began credits all of
  it), nothing for a period that was never billed.
  Trials and subscriptions prepaid with a product key get none; neither does a change at
  renewal (the old term has run out).
- The new subscription's term starts on the effective date; its first billing period is
  charged in full at the chosen offer's price.
"""

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from billing.models import Subscription
from billing.money import money
from billing.periods import add_months, billing_period, months_per_period
from billing.texts import credit_text, period_text, used_text
from portal.texts import Text

NO_CREDIT_SOURCES = (Subscription.Source.TRIAL, Subscription.Source.PRODUCT_KEY)


@dataclass(frozen=True)
class Line:
    """One line of a change's money. ``description`` is its English text (the API's, and what an
    invoice line keeps); ``text`` and ``params`` render it in the reader's language
    (``portal.texts``). A quote stored before lines had a key has none: it shows its description."""

    kind: str  # "credit" | "used" | "charge"
    description: str
    amount: Decimal
    start: date
    end: date
    text: str = ""
    params: dict = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, kind: str, text: Text, amount: Decimal, start: date, end: date) -> "Line":
        return cls(kind, text.english(), amount, start, end, text.key, text.params)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "description": self.description, "amount": str(self.amount),
                "start": self.start.isoformat(), "end": self.end.isoformat(), "text": self.text,
                "params": self.params}

    def as_invoice_line(self, **fields) -> dict:
        """The line as ``billing.invoicing`` posts it, with ``fields`` (subscription, idempotency_key)."""
        return {"description": self.description, "text": self.text, "params": self.params, "amount": self.amount,
                "start": self.start, "end": self.end, **fields}

    @classmethod
    def from_dict(cls, data: dict) -> "Line":
        return cls(kind=data["kind"], description=data["description"], amount=Decimal(data["amount"]),
                   start=date.fromisoformat(data["start"]), end=date.fromisoformat(data["end"]),
                   text=data.get("text", ""), params=data.get("params") or {})


@dataclass(frozen=True)
class Side:
    """One subscription as billing sees it."""

    product_name: str
    price: Decimal  # per license per month, the offer's
    licenses: int
    term: str
    billing_frequency: str
    start: date | None = None
    source: str = Subscription.Source.DIRECT
    billed_until: date | None = None  # the end of the last period charged (None: not tracked)
    billed_amount: Decimal | None = None  # what that period was charged (None: not tracked)

    @classmethod
    def of(cls, sub, price: Decimal) -> "Side":
        """A subscription as billing sees it, at its offer's ``price``."""
        return cls(sub.product.name, price, sub.licenses, sub.term, sub.billing_frequency, sub.start_date,
                   sub.source, sub.billed_until, sub.billed_amount)

    @property
    def months_per_period(self) -> int:
        return months_per_period(term=self.term, billing_frequency=self.billing_frequency)

    @property
    def period_charge(self) -> Decimal:
        """What one billing period costs, unrounded."""
        return self.price * self.licenses * self.months_per_period


def credit_line(old: Side, *, effective: date, at_renewal: bool) -> Line | None:
    if at_renewal or old.source in NO_CREDIT_SOURCES:
        return None
    if old.billed_until is not None:
        # Only the period actually invoiced is credited: the last one charged. A day at or after its end
        # falls in a period nobody was billed for, so there is nothing to give back.
        if effective >= old.billed_until:
            return None
        begin, end = billing_period(start=old.start, billing_frequency=old.billing_frequency, term=old.term,
                                    day=old.billed_until - timedelta(days=1))
    else:
        begin, end = billing_period(start=old.start, billing_frequency=old.billing_frequency, term=old.term,
                                    day=effective)
    days = (end - begin).days
    # A change dated before the billed period began leaves all of it unused, never more: the credit
    # is at most what the period was charged.
    unused = min((end - effective).days, days)
    if unused <= 0:
        return None
    # What the period was charged, not what the subscription would cost today: licenses added since
    # weren't billed, so they are not credited either.
    charged = old.period_charge if old.billed_amount is None else min(old.period_charge, old.billed_amount)
    amount = money(charged * unused / days)
    if amount == 0:
        return None
    return Line.of("credit", credit_text(product=old.product_name, licenses=old.licenses, days=unused),
                   -amount, max(effective, begin), end)


def used_line(old: Side, *, effective: date, at_renewal: bool) -> Line | None:
    """Days the old subscription was used and never billed: a change held it (queued or running)
    over the start of its next period, so billing waited for the change, which took effect later.
    Those days are charged at the old offer (full periods in between, the last one prorated), so
    none is given away; a change at renewal has none."""
    if at_renewal or old.billed_until is None or effective <= old.billed_until or old.source in NO_CREDIT_SOURCES:
        return None
    amount, begin = Decimal("0"), old.billed_until
    while begin < effective:
        period_begin, period_end = billing_period(start=old.start, billing_frequency=old.billing_frequency,
                                                  term=old.term, day=begin)
        until = min(period_end, effective)
        amount += old.period_charge * (until - begin).days / (period_end - period_begin).days
        begin = until
    amount = money(amount)
    if amount == 0:
        return None
    days = (effective - old.billed_until).days
    text = used_text(product=old.product_name, licenses=old.licenses, days=days, start=old.billed_until, end=effective)
    return Line.of("used", text, amount, old.billed_until, effective)


def charge_line(new: Side, *, effective: date) -> Line:
    end = add_months(effective, new.months_per_period)
    text = period_text(product=new.product_name, licenses=new.licenses, start=effective, end=end)
    return Line.of("charge", text, money(new.period_charge), effective, end)


def change_lines(old: Side, new: Side, *, effective: date, at_renewal: bool) -> list[Line]:
    credit = credit_line(old, effective=effective, at_renewal=at_renewal)
    used = used_line(old, effective=effective, at_renewal=at_renewal)
    return [*([credit] if credit else []), *([used] if used else []), charge_line(new, effective=effective)]


def join_line(into: Side, *, added: int, effective: date, at_renewal: bool = False) -> Line | None:
    """Licenses a change adds to a subscription the tenant already has, charged for the rest of the billing
    period ``effective`` falls in, as licenses bought mid-period are (``billing.services.licenses``): the
    period's charge for them × days left / days in the period, rounded once. Only for a period billed by
    then with the old count: billed already, or (a change at renewal, later) begun before that day, when the
    day loop will have billed it. A period that begins that day is billed with the new count (the day's
    scheduled changes run before its billing); one not billed yet is billed with it too."""
    if added <= 0 or into.billed_until is None:
        return None
    begin, end = billing_period(start=into.start, billing_frequency=into.billing_frequency, term=into.term,
                                day=effective)
    billed = into.billed_until >= end or (at_renewal and into.billed_until <= begin)
    if begin >= effective or not billed:
        return None
    amount = money(replace(into, licenses=added).period_charge * (end - effective).days / (end - begin).days)
    return Line.of("charge", period_text(product=into.product_name, licenses=added, start=effective, end=end),
                   amount, effective, end)


def join_lines(old: Side, into: Side, *, added: int, effective: date, at_renewal: bool) -> list[Line]:
    """A change into a subscription the tenant already has: the old one's credit (and days used), and the
    licenses it adds for the rest of that subscription's period."""
    credit = credit_line(old, effective=effective, at_renewal=at_renewal)
    used = used_line(old, effective=effective, at_renewal=at_renewal)
    join = join_line(into, added=added, effective=effective, at_renewal=at_renewal)
    return [line for line in (credit, used, join) if line is not None]


def totals(lines: list[Line]) -> tuple[Decimal, Decimal, Decimal]:
    """(credit ≤ 0, charge ≥ 0, total) of a change's lines; days of the old subscription used and
    not yet billed count with the charge."""
    credit = sum((line.amount for line in lines if line.kind == "credit"), Decimal("0.00"))
    charge = sum((line.amount for line in lines if line.kind != "credit"), Decimal("0.00"))
    return credit, charge, credit + charge
