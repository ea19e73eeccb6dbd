"""Invoices: lines posted once each (keyed), account credit applied, cards charged or refunded.
Billing's services and the lifecycle both post through here."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceLine, PaymentKind, PaymentMethod
from billing.money import money_text
from billing.periods import add_months
from billing.texts import ACCOUNT_CREDIT
from billing.verbs import INVOICE_CREATED, INVOICE_LINES_ADDED
from portal.services import event_record
from portal.texts import Text

CARD_CHARGE_DAYS = 1  # a card is charged the day after the invoice date
INVOICE_NET_DAYS = 30
REFUND_DAYS = 5  # a net credit reaches the card this many days after the invoice


def _positive_total(invoice: Invoice, *, without_key: str | None = None) -> Decimal:
    """The sum of the invoice's lines, added as Decimals here: SQLite's SUM() answers a float
    (3.64999999999999 for 3.65), which must not leak into the amounts derived from it."""
    lines = InvoiceLine.objects.filter(invoice=invoice)
    if without_key:
        lines = lines.exclude(idempotency_key=without_key)
    return sum(lines.values_list("amount", flat=True), Decimal("0.00"))


def _apply_account_credit(invoice: Invoice) -> None:
    """Use earlier credit invoices (a net credit kept as account credit) against this one.

    One line per credit invoice, re-sized whenever lines are added, so it is never applied
    twice and never exceeds either side."""
    credits = (
        Invoice.objects.select_for_update()
        .filter(tenant=invoice.tenant, billing_profile=invoice.billing_profile, total__lt=0)
        .exclude(pk=invoice.pk).order_by("date", "pk")
    )
    for credit in credits:
        key = f"account-credit/{credit.pk}/to/{invoice.pk}"
        line = InvoiceLine.objects.filter(idempotency_key=key).first()
        used_here = -line.amount if line else Decimal("0.00")
        available = credit.credit_left + used_here
        due = _positive_total(invoice, without_key=key)
        use = max(min(available, due), Decimal("0.00"))
        if use == used_here:
            continue
        if line:
            line.amount = -use
            line.save(update_fields=["amount"])
        else:
            InvoiceLine.objects.create(invoice=invoice, idempotency_key=key, amount=-use,
                                       **Text(ACCOUNT_CREDIT, number=credit.number).stored())
        credit.credit_used += use - used_here
        credit.save(update_fields=["credit_used"])


@transaction.atomic
def invoice_post_lines(
    *, tenant, key: str, number: str, issue_date, due_date, billing_profile, lines: list[dict],
    pay_by_card: bool, actor: str, card: PaymentMethod | None = None, refund_card: PaymentMethod | None = None,
) -> Invoice:
    """Put lines on the invoice identified by ``key`` (created if needed).

    Every line carries an ``idempotency_key``: a line already issued is skipped, and the
    database refuses a second one with the same key whatever the caller does. ``card`` pays it
    (at once with ``pay_by_card``, else on its due date); a net credit goes back to
    ``refund_card`` (the card that paid what is credited) ``REFUND_DAYS`` after the invoice, or else stays as account
    credit for the next invoice."""
    invoice, created = Invoice.objects.select_for_update().get_or_create(
        period_key=key,
        defaults={"tenant": tenant, "billing_profile": billing_profile, "number": number,
                  "date": issue_date, "due_date": due_date},
    )
    if created:
        event_record(tenant=tenant, actor=actor, verb=INVOICE_CREATED, obj=invoice,
                     data={"number": invoice.number, "date": issue_date.isoformat(), "due_date": due_date.isoformat()})
    issued = set(InvoiceLine.objects.filter(idempotency_key__in=[line["idempotency_key"] for line in lines])
                 .values_list("idempotency_key", flat=True))
    new = [line for line in lines if line["idempotency_key"] not in issued]
    InvoiceLine.objects.bulk_create(InvoiceLine(invoice=invoice, **line) for line in new)
    _apply_account_credit(invoice)
    invoice.total = _positive_total(invoice)
    if card is not None and invoice.payment_method_id is None:
        invoice.payment_method = card
    if pay_by_card and invoice.total > 0:
        invoice.paid = invoice.total  # charged to the card on file
    back_to = refund_card
    if not invoice.refunded:
        if invoice.total < 0 and back_to is not None:
            invoice.payment_method = back_to
            invoice.refund = -invoice.total - invoice.credit_used
            invoice.refund_on = invoice.date + timedelta(days=REFUND_DAYS)
        else:
            invoice.refund, invoice.refund_on = Decimal("0.00"), None
    invoice.save(update_fields=["total", "paid", "payment_method", "refund", "refund_on"])
    if new:
        event_record(tenant=tenant, actor=actor, verb=INVOICE_LINES_ADDED, obj=invoice,
                     data={"number": invoice.number, "lines": [
                         {"description": line["description"], "amount": str(line["amount"])} for line in new]})
    return invoice


def profile_invoice_date(day):
    """The billing profile's monthly invoice that a charge of ``day`` goes on: the first of next month."""
    return add_months(day.replace(day=1), 1)


def lines_bill(*, tenant, billing_profile, card: PaymentMethod | None, effective, key: str, number: str,
               lines: list[dict], actor: str, charge_later: bool = False,
               refund_card: PaymentMethod | None = None) -> Invoice:
    """Where a day's charges go: without a billing profile (MOSA), an invoice of their own dated
    that day (``key``/``number``), paid by ``card`` at once (a purchase, a plan change) or the day
    after (``charge_later``: a billing period), or due in 30 days; with one (MCA), the profile's
    monthly invoice of the first of next month, due 30 days after (a card the day after)."""
    if card is not None and card.kind != PaymentKind.CARD:
        card = None
    if refund_card is not None and refund_card.kind != PaymentKind.CARD:
        refund_card = None
    if billing_profile is None:
        due = effective + timedelta(days=(CARD_CHARGE_DAYS if charge_later else 0) if card else INVOICE_NET_DAYS)
        return invoice_post_lines(tenant=tenant, key=key, number=number, issue_date=effective, due_date=due,
                                  billing_profile=None, lines=lines, pay_by_card=card is not None and not charge_later,
                                  actor=actor, card=card, refund_card=refund_card)
    issue = profile_invoice_date(effective)
    return invoice_post_lines(tenant=tenant, key=f"profile/{billing_profile.pk}/{issue:%Y-%m}",
                              number=f"BP{billing_profile.pk}-{issue:%Y%m}", issue_date=issue,
                              due_date=issue + timedelta(days=CARD_CHARGE_DAYS if card else INVOICE_NET_DAYS),
                              billing_profile=billing_profile, lines=lines, pay_by_card=False, actor=actor,
                              card=card, refund_card=refund_card)


def credit_delivery(*, subscription, effective, credit: Decimal, total: Decimal) -> dict | None:
    """How a plan change's credit reaches the payer, which depends on the old subscription's
    payment method (the article's note): it is taken off the change's invoice (MOSA: dated the
    change's day; MCA: the billing profile's invoice of the next 1st); what it leaves over goes back
    to the card ``REFUND_DAYS`` after that invoice, or stays as account credit for the next invoice."""
    if credit >= 0:
        return None
    invoice_date = effective if subscription.billing_profile_id is None else add_months(effective.replace(day=1), 1)
    card = subscription.paying_card
    refund_date = invoice_date + timedelta(days=REFUND_DAYS) if card else None
    text = _("The credit of %(credit)s is taken off the invoice of %(date)s.") % {
        "credit": money_text(-credit), "date": invoice_date.isoformat()}
    if card and total < 0:
        text += " " + _("The %(amount)s it leaves over is refunded to the card ending %(last4)s on %(refund)s.") % {
            "amount": money_text(-total), "last4": card.last4, "refund": refund_date.isoformat()}
    elif card:
        text += " " + _("Anything it leaves over would be refunded to the card ending %(last4)s, %(days)d days after "
                        "the invoice.") % {"last4": card.last4, "days": REFUND_DAYS}
    elif total < 0:
        text += " " + _("The %(amount)s it leaves over stays as account credit and is taken off your next "
                        "invoice.") % {"amount": money_text(-total)}
    else:
        text += " " + _("Anything it leaves over stays as account credit for your next invoice.")
    return {"kind": "card_refund" if card else "account_credit", "invoice_date": invoice_date,
            "refund_date": refund_date, "text": text}
