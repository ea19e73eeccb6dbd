"""The day's billing periods posted set-based (``billing.lifecycle.billing_periods_run``): every period line
of the day, for every kind of payer, in a constant number of statements whatever the number of tenants.

Each posting is what ``lines_bill(..., charge_later=True)`` then ``invoice_post_lines`` would post for it, in
the same order and to the cent: MOSA, an invoice of its own dated the period's first day (a card charged the
day after, else net 30); MCA, the billing profile's monthly invoice of the next 1st (made by the first line of
the month, joined by the others). Lines already issued are skipped (their key), account credit (the payer's
earlier credit invoices, oldest first) is taken by each invoice as ``_apply_account_credit`` takes it, re-sized
when lines join, and the audit events are the same, in the same order.

``flush`` reads the invoices involved and their payers' credit invoices (locked), the lines they hold and those
already issued, in one statement each; draws the missing invoices' ids from their sequence in one; then works the
postings out in memory in order, and writes the new invoices (with their totals), the new lines, the re-sized
credit lines, the invoices it changed and the events in one statement each. (On SQLite, where ids come from
inserting, the new invoices are inserted first and their totals written with the others'.)"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

from billing.invoicing import CARD_CHARGE_DAYS, INVOICE_NET_DAYS, profile_invoice_date
from billing.models import BillingProfile, Invoice, InvoiceLine, PaymentKind, PaymentMethod
from billing.texts import ACCOUNT_CREDIT
from billing.verbs import INVOICE_CREATED, INVOICE_LINES_ADDED
from portal import clock
from portal.bulk import ids_draw, rows_insert, rows_update
from portal.services import event_build, events_record
from portal.texts import Text

ZERO = Decimal("0.00")
_INVOICE_FIELDS = ["total", "payment_method", "refund", "refund_on", "credit_used"]


@dataclass(eq=False)
class Posting:
    """Lines for one invoice; after ``flush``, ``invoice`` is the invoice they went on."""

    tenant: object
    profile: BillingProfile | None
    card: PaymentMethod | None
    key: str
    number: str
    issue: date
    due: date
    lines: list[dict]
    at: object  # when it happened (the audit events' time)
    invoice: Invoice | None = None
    created: bool = False
    new: list[dict] = field(default_factory=list)


class PeriodInvoices:
    """The day's period lines of many subscriptions, posted in a few statements at ``flush``; ``event``
    keeps the day's other audit events in line with the invoices'."""

    def __init__(self, *, actor: str):
        self.actor = actor
        self._postings: list[Posting] = []
        self._events: list[dict | Posting] = []  # event_build's arguments, or a posting's own events

    def event(self, *, tenant, actor: str, verb: str, obj=None, data: dict | None = None) -> None:
        """``event_record``, written at the next ``flush``."""
        self._events.append({"tenant": tenant, "actor": actor, "verb": verb, "obj": obj, "data": data,
                             "occurred_at": clock.now()})

    def add(self, *, tenant, billing_profile, card: PaymentMethod | None, effective: date, key: str, number: str,
            lines: list[dict]) -> Posting:
        """``lines_bill(..., charge_later=True)``: ``key``/``number`` name a MOSA invoice; a billing profile's
        lines go on its monthly invoice."""
        if card is not None and card.kind != PaymentKind.CARD:
            card = None
        days = CARD_CHARGE_DAYS if card else INVOICE_NET_DAYS
        issue = effective
        if billing_profile is not None:
            issue = profile_invoice_date(effective)
            key, number = f"profile/{billing_profile.pk}/{issue:%Y-%m}", f"BP{billing_profile.pk}-{issue:%Y%m}"
        posting = Posting(tenant, billing_profile, card, key, number, issue, issue + timedelta(days=days), lines,
                          clock.now())
        self._postings.append(posting)
        self._events.append(posting)
        return posting

    def flush(self) -> None:
        postings, events = self._postings, self._events
        self._postings, self._events = [], []
        if postings:
            _Books(postings).post()
        built = []
        for item in events:
            if isinstance(item, dict):
                built.append(event_build(**item))
            else:
                built += _posting_events(item, actor=self.actor)
        events_record(events=built)


def _posting_events(posting: Posting, *, actor: str) -> list:
    invoice, events = posting.invoice, []
    if posting.created:
        events.append(event_build(tenant=posting.tenant, actor=actor, verb=INVOICE_CREATED, obj=invoice, data={
            "number": invoice.number, "date": invoice.date.isoformat(), "due_date": invoice.due_date.isoformat()},
            occurred_at=posting.at))
    if posting.new:
        events.append(event_build(tenant=posting.tenant, actor=actor, verb=INVOICE_LINES_ADDED, obj=invoice, data={
            "number": invoice.number, "lines": [{"description": line["description"], "amount": str(line["amount"])}
                                                for line in posting.new]}, occurred_at=posting.at))
    return events


class _Books:
    """The invoices a flush touches, in memory: read once, worked out in order, written once."""

    def __init__(self, postings: list[Posting]):
        self.postings = postings
        keys = {p.key for p in postings}
        tenants = {p.tenant.pk: p.tenant for p in postings}
        found = list(Invoice.objects.select_for_update(of=("self",))
                     .filter(Q(period_key__in=keys) | Q(tenant_id__in=tenants, total__lt=0)).order_by("pk"))
        for invoice in found:  # their tenants are the postings': one object each, not one per invoice read
            invoice.tenant = tenants[invoice.tenant_id]
        self.by_key = {invoice.period_key: invoice for invoice in found if invoice.period_key in keys}
        self.of_payer: dict[tuple, list[Invoice]] = {}
        for invoice in found:
            self.of_payer.setdefault((invoice.tenant_id, invoice.billing_profile_id), []).append(invoice)
        new = []
        for p in postings:
            if p.key not in self.by_key:
                invoice = Invoice(tenant=p.tenant, billing_profile=p.profile, number=p.number, date=p.issue,
                                  due_date=p.due, period_key=p.key)
                self.by_key[p.key] = invoice
                p.created = True
                new.append(invoice)
        # Their ids are the keys of the account credit they take: on PostgreSQL drawn now and the rows written once
        # posted, with their totals; elsewhere written now and their totals after. A billing profile's monthly
        # invoice, which a plan change's bill may make at the same moment, is written now on both, claiming its key
        # (the other waits on it and joins it) before this transaction does its work.
        self.new: list[Invoice] = []  # written by ``post``
        if ids_draw(new):
            self.new = [invoice for invoice in new if invoice.billing_profile_id is None]
            new = [invoice for invoice in new if invoice.billing_profile_id is not None]
        rows_insert(new)
        old = [invoice.pk for invoice in found]
        line_keys = [line["idempotency_key"] for p in postings for line in p.lines]
        self.lines: dict[int, list[InvoiceLine]] = {}
        self.issued = set()
        for line in InvoiceLine.objects.filter(Q(invoice_id__in=old) | Q(idempotency_key__in=line_keys)).order_by("pk"):
            self.lines.setdefault(line.invoice_id, []).append(line)
            self.issued.add(line.idempotency_key)
        self.made: list[InvoiceLine] = []
        self.resized: list[InvoiceLine] = []
        self.touched: dict[int, Invoice] = {}

    def post(self) -> None:
        for p in self.postings:
            self._post(p)
        rows_insert(self.new)
        rows_insert(self.made)
        rows_update(self.resized, ["amount"])
        written = {invoice.pk for invoice in self.new}
        rows_update([invoice for pk, invoice in self.touched.items() if pk not in written], _INVOICE_FIELDS)

    def _post(self, p: Posting) -> None:
        """``invoice_post_lines`` of one posting (``pay_by_card`` off, no card to refund)."""
        invoice = p.invoice = self.by_key[p.key]
        lines = self.lines.setdefault(invoice.pk, [])
        p.new = [line for line in p.lines if line["idempotency_key"] not in self.issued]
        for line in p.new:
            self.issued.add(line["idempotency_key"])
            made = InvoiceLine(invoice=invoice, **line)
            lines.append(made)
            self.made.append(made)
        self._take_credit(invoice, lines)
        invoice.total = sum((line.amount for line in lines), ZERO)
        if p.card is not None and invoice.payment_method_id is None:
            invoice.payment_method = p.card
        if not invoice.refunded:
            invoice.refund, invoice.refund_on = ZERO, None
        self.touched[invoice.pk] = invoice

    def _take_credit(self, invoice: Invoice, lines: list[InvoiceLine]) -> None:
        """``_apply_account_credit``: one line per credit invoice of the payer, re-sized, never above
        either side."""
        payer = self.of_payer.setdefault((invoice.tenant_id, invoice.billing_profile_id), [])
        if invoice not in payer:
            payer.append(invoice)
        for credit in sorted((c for c in payer if c.total < 0 and c is not invoice), key=lambda c: (c.date, c.pk)):
            key = f"account-credit/{credit.pk}/to/{invoice.pk}"
            line = next((line for line in lines if line.idempotency_key == key), None)
            used_here = -line.amount if line else ZERO
            available = credit.credit_left + used_here
            due = sum((other.amount for other in lines if other.idempotency_key != key), ZERO)
            use = max(min(available, due), ZERO)
            if use == used_here:
                continue
            if line:
                line.amount = -use
                if line.pk is not None and line not in self.resized:  # one made here is written as it ends up
                    self.resized.append(line)
            else:
                line = InvoiceLine(invoice=invoice, idempotency_key=key, amount=-use,
                                   **Text(ACCOUNT_CREDIT, number=credit.number).stored())
                lines.append(line)
                self.made.append(line)
            credit.credit_used += use - used_here
            self.touched[credit.pk] = credit
