"""Paying: cards added (only their last four digits kept), invoices paid (Pay now, one invoice; Settle
balance, every past-due one), and how a payer pays by habit (support staff set it)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from billing.models import (
    PAYMENT_DELAY_MAX_DAYS,
    BillingProfile,
    Invoice,
    InvoicePayer,
    PaymentHabit,
    PaymentKind,
    PaymentMethod,
)
from billing.selectors import BILLING_PROFILE_UNKNOWN, INVOICE_MISSING
from billing.verbs import INVOICE_PAID, PAYMENT_HABIT_CHANGED, PAYMENT_METHOD_ADDED
from portal import clock
from portal.errors import Conflict, DomainError
from portal.inputs import is_plain_text, whole_number
from portal.selectors import object_get
from portal.services import event_build, event_record, events_record, support_reason_clean


@transaction.atomic
def invoice_pay(*, tenant, invoice_id, actor: str) -> Invoice:
    """Pay an invoice's whole balance (Pay now / Settle balance)."""
    invoice = object_get(Invoice.objects.select_for_update().filter(tenant=tenant), invoice_id, INVOICE_MISSING)
    if invoice.date > clock.today():  # an MCA profile's monthly invoice still collects the month's lines
        raise Conflict(_("Invoice %(number)s is issued on %(date)s; it can be paid from then.")
                       % {"number": invoice.number, "date": invoice.date.isoformat()}, code="invoice_not_issued")
    if invoice.balance <= 0:
        raise Conflict(_("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number},
                       code="nothing_to_pay")
    amount = invoice.balance
    invoice.save(update_fields=invoice.paid_in_full())
    event_record(tenant=tenant, actor=actor, verb=INVOICE_PAID, obj=invoice,
                 data={"number": invoice.number, "amount": str(amount)})
    return invoice


@dataclass(frozen=True)
class Settled:
    """What Settle balance paid: the invoices (oldest due first) and the amount, all their balances."""

    invoices: list[Invoice]
    amount: Decimal


@transaction.atomic
def invoices_settle(*, tenant, actor: str) -> Settled:
    """Settle balance: pay every past-due invoice of the tenant at once, each its own payment of its
    whole balance (an ``invoice.paid`` event per invoice); 409 ``nothing_to_pay`` when none is past due."""
    today = clock.today()
    due = list(Invoice.objects.select_for_update().filter(tenant=tenant, total__gt=F("paid"), date__lte=today,
                                                          due_date__lt=today).order_by("due_date", "pk"))
    if not due:
        raise Conflict(_("Nothing is past due."), code="nothing_to_pay")
    events = [event_build(tenant=tenant, actor=actor, verb=INVOICE_PAID, obj=invoice, data={
        "number": invoice.number, "amount": str(invoice.balance), "settled": True}) for invoice in due]
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in due]).update(**Invoice.PAID_IN_FULL)  # locked: as read
    events_record(events=events)
    amount = sum((invoice.balance for invoice in due), Decimal("0.00"))
    for invoice in due:
        invoice.paid_in_full()
    return Settled(due, amount)


def _habit_clean(habit, delay_days) -> tuple[str, int]:
    """A payment habit and its delay as the rows keep them: ``late`` by 1 to 365 days; the others none."""
    if habit not in PaymentHabit.values:
        raise DomainError(_("Choose how the payer pays: on time, late or never."), code="invalid_payment_habit",
                          field="payment_habit")
    if habit != PaymentHabit.LATE:
        if delay_days not in (None, "", 0):
            raise DomainError(_("Only a payer who pays late pays a number of days after the due date."),
                              code="invalid_payment_delay", field="payment_delay_days")
        return habit, 0
    delay = whole_number(delay_days, min_value=1, max_value=PAYMENT_DELAY_MAX_DAYS)
    if delay is None:
        raise DomainError(_("Enter how many days late the payer pays: a whole number from 1 to %(max)d.")
                          % {"max": PAYMENT_DELAY_MAX_DAYS}, code="invalid_payment_delay", field="payment_delay_days")
    return habit, delay


@transaction.atomic
def payment_habit_set(*, tenant, habit, delay_days=None, billing_profile_id=None, actor: str, reason: str = "",
                      reason_required: bool = False) -> BillingProfile | InvoicePayer:
    """Support staff set how a payer pays its invoices as the days pass (``billing.habits``): one of the
    tenant's billing profiles (``billing_profile_id``), or else the tenant for its invoices without one. The
    habit applies to pay days still to come; ``reason`` goes on the audit event."""
    if billing_profile_id not in (None, ""):
        payer = object_get(BillingProfile.objects.select_for_update().filter(tenant=tenant), billing_profile_id,
                           BILLING_PROFILE_UNKNOWN)
        name = payer.name
    else:
        payer, name = InvoicePayer.objects.select_for_update().get_or_create(tenant=tenant)[0], tenant.name
    reason = support_reason_clean(reason, required=reason_required)
    habit, delay = _habit_clean(habit, delay_days)
    before = {"from": payer.payment_habit, "from_days": payer.payment_delay_days}
    payer.payment_habit, payer.payment_delay_days = habit, delay
    payer.save(update_fields=["payment_habit", "payment_delay_days"])
    event_record(tenant=tenant, actor=actor, verb=PAYMENT_HABIT_CHANGED, obj=payer, data={
        "payer": name, "habit": habit, "days": delay, **before, **({"support_reason": reason} if reason else {})})
    return payer


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def payment_chosen(*, tenant, choice: str, card: dict, actor: str):
    """The payment method an order form chose (an order page's one way, Purchase services' Buy and
    Checkout's Place order alike): one of the tenant's (``choice``: its id, checked by the order's
    service), a new card (``"new"``, added from ``card``'s number, expiry and holder_name; call it inside
    the order's transaction, so a refused order keeps no card), or none for an MCA tenant, who pays
    through its billing profile. No choice is refused beside the field (422 ``payment_method_required``)."""
    if tenant.has_billing_profile:
        return None
    if choice == "new":
        return payment_method_add_card(tenant=tenant, actor=actor, **card).pk
    if choice:
        return choice
    raise DomainError(_("Choose or add a payment method."), code="payment_method_required", field="payment_method")


@transaction.atomic
def payment_method_add_card(*, tenant, number: str, expiry: str, holder_name: str, actor: str):
    """Add a card. Only its last four digits are kept; the number itself is never stored."""
    errors = {}
    # ASCII digits only: isdigit() also takes '²' (int() refuses it) and '٤' (int() takes it).
    digits = "".join(ch for ch in number if not ch.isspace() and ch != "-")
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        errors["number"] = _("Enter a card number of 12 to 19 digits.")
    elif not _luhn_ok(digits):
        errors["number"] = _("This card number isn't valid. Check it and try again.")
    month = year = None
    parts = expiry.replace(" ", "").split("/")
    if (len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts) and len(parts[0]) <= 2
            and 1 <= int(parts[0]) <= 12 and len(parts[1]) in (2, 4)):
        month, year = int(parts[0]), int(parts[1]) + (2000 if len(parts[1]) == 2 else 0)
        today = clock.today()
        if (year, month) < (today.year, today.month):
            errors["expiry"] = _("This card has expired.")
    else:
        errors["expiry"] = _("Enter the expiry date as MM/YY.")
    if not holder_name.strip():
        errors["holder_name"] = _("Enter the name on the card.")
    elif len(holder_name.strip()) > 200:
        errors["holder_name"] = _("Enter at most 200 characters.")
    elif not is_plain_text(holder_name):
        errors["holder_name"] = _("The name can't contain control characters or text-direction overrides.")
    if errors:
        raise DomainError(_("Check the card details."), code="invalid_card", errors=errors)
    method = PaymentMethod.objects.create(
        tenant=tenant, kind=PaymentKind.CARD, last4=digits[-4:], holder_name=holder_name.strip()[:200],
        expiry_month=month, expiry_year=year,
        is_default=not PaymentMethod.objects.filter(tenant=tenant, is_default=True).exists(),
    )
    event_record(tenant=tenant, actor=actor, verb=PAYMENT_METHOD_ADDED, obj=method, data={"last4": method.last4})
    return method
