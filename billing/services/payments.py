"""Paying: cards added (only their last four digits kept) and invoices paid (Pay now / Settle
balance)."""

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Invoice, PaymentKind, PaymentMethod
from billing.selectors import INVOICE_MISSING
from billing.verbs import INVOICE_PAID, PAYMENT_METHOD_ADDED
from portal import clock
from portal.errors import Conflict, DomainError
from portal.inputs import is_plain_text
from portal.selectors import object_get
from portal.services import event_record


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
    invoice.paid = invoice.total
    invoice.save(update_fields=["paid"])
    event_record(tenant=tenant, actor=actor, verb=INVOICE_PAID, obj=invoice,
                 data={"number": invoice.number, "amount": str(amount)})
    return invoice


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
