"""The texts billing generates, for the one registry (``portal.texts``): invoice and quote lines, and
the errors of an order that a plan change keeps when it fails.

A line's params: ``product`` (the catalog's name, never translated), ``licenses``, ``days``,
``start`` and ``end`` (ISO dates, as the pages show them), ``number`` (an invoice's)."""

from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from billing.models import AddOnProduct, BillingFrequency, PaymentHabit, Term
from billing.money import money_text
from billing.verbs import (
    CREDIT_CHECK_APPROVED,
    CREDIT_CHECK_REJECTED,
    INVOICE_CREATED,
    INVOICE_LINES_ADDED,
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_REFUNDED,
    PAYMENT_HABIT_CHANGED,
    PAYMENT_METHOD_ADDED,
    SUBSCRIPTION_ADDON_ADDED,
    SUBSCRIPTION_ADDON_REMOVED,
    SUBSCRIPTION_BOUGHT,
    SUBSCRIPTION_CANCELLED,
    SUBSCRIPTION_DELETED,
    SUBSCRIPTION_DISABLED,
    SUBSCRIPTION_EXPIRED,
    SUBSCRIPTION_LICENSES_CHANGED,
    SUBSCRIPTION_LICENSES_REMOVAL_CANCELLED,
    SUBSCRIPTION_LICENSES_REMOVAL_SCHEDULED,
    SUBSCRIPTION_PROVISIONED,
    SUBSCRIPTION_PROVISIONING_FINISHED,
    SUBSCRIPTION_REACTIVATED,
    SUBSCRIPTION_RECURRING_BILLING_CHANGED,
    SUBSCRIPTION_RENEWED,
    SUBSCRIPTION_TRIAL_CONVERTED,
    SUBSCRIPTION_TRIAL_EXPIRED,
    SUBSCRIPTION_TRIAL_EXTENDED,
    SUBSCRIPTION_TRIAL_PURCHASED,
)
from portal.errors import DomainError
from portal.texts import Text, reads_rows, render


def subject(params: dict) -> str:
    """A product and its number of licenses: "Microsoft 365 Business Standard (25 licenses)"."""
    return ngettext("%(product)s (%(licenses)d license)", "%(product)s (%(licenses)d licenses)",
                    params["licenses"]) % params


def _with_subject(message):
    return lambda params: message % {**params, "subject": subject(params)}


CREDIT = "line.credit"
USED = "line.used"
PERIOD = "line.period"
REVERSED = "line.reversed"
ACCOUNT_CREDIT = "line.account_credit"
CHARGES = "line.charges"

MESSAGES = {
    CREDIT: _with_subject(ngettext_lazy("Credit for %(days)d unused day of %(subject)s",
                                        "Credit for %(days)d unused days of %(subject)s", "days")),
    USED: _with_subject(ngettext_lazy("%(subject)s, %(days)d day used before the change, %(start)s to %(end)s",
                                      "%(subject)s, %(days)d days used before the change, %(start)s to %(end)s",
                                      "days")),
    PERIOD: _with_subject(_("%(subject)s, %(start)s to %(end)s")),
    REVERSED: _with_subject(_("%(subject)s, %(start)s to %(end)s: reversed")),
    ACCOUNT_CREDIT: _("Account credit from invoice %(number)s"),
    CHARGES: _("Subscription charges"),
}


def credit_text(*, product: str, licenses: int, days: int) -> Text:
    return Text(CREDIT, product=product, licenses=licenses, days=days)


def used_text(*, product: str, licenses: int, days: int, start, end) -> Text:
    return Text(USED, product=product, licenses=licenses, days=days, start=start, end=end)


def period_text(*, product: str, licenses: int, start, end) -> Text:
    return Text(PERIOD, product=product, licenses=licenses, start=start, end=end)


def reversed_text(*, product: str, licenses: int, start, end) -> Text:
    return Text(REVERSED, product=product, licenses=licenses, start=start, end=end)


# --- What a clock move tells of billing's happenings (portal.happenings), said when read ------------------------
# Their params: ``product`` and ``licenses`` (the subject), ``date``/``due``/``start``/``end`` (ISO dates), amounts as
# strings with their cents (formatted as the reader's language writes money), ``number`` and ``last4``.

HAPPENING_SUBJECT = "happening.subject"
PROVISIONED = "happening.provisioned"
INVOICED = "happening.invoiced"
RENEWED = "happening.renewed"
LICENSES_AT_RENEWAL = "happening.licenses_at_renewal"
EXPIRED = "happening.expired"
DISABLED = "happening.disabled"
DELETED = "happening.deleted"
CARD_CHARGED = "happening.card_charged"
REFUNDED = "happening.refunded"
FELL_PAST_DUE = "happening.past_due"
PAID_BY_HABIT = "happening.paid_by_habit"
CREDIT_CHECK = "happening.credit_check"
CREDIT_CHECK_PASSED = "happening.credit_check_passed"
TRIAL_CONVERTED = "happening.trial_converted"
TRIAL_EXPIRED = "happening.trial_expired"


def _with_money(message, *names):
    """A message whose params ``names`` are amounts, written as the reader's language writes money."""
    def text(params: dict) -> str:
        return str(message) % {**params, **{name: money_text(params[name]) for name in names}}
    return text


_LINE_PARAMS = ("product", "licenses", "days", "start", "end")  # a period line's own


def _invoiced(params: dict) -> str:
    """The line (its own text and params, among these: rendered, and remembered, once per distinct line, not per
    invoice), its amount and the invoice it went on."""
    line = render(params["line"], {k: params[k] for k in _LINE_PARAMS if k in params})
    return gettext("%(line)s: %(amount)s on invoice %(number)s dated %(date)s, due %(due)s.") % {
        **params, "line": line, "amount": money_text(params["amount"])}


def _paid_by_habit(params: dict) -> str:
    said = {**params, "amount": money_text(params["amount"])}
    if not params["days"]:
        return gettext("%(amount)s paid by %(payer)s on its due date.") % said
    return ngettext("%(amount)s paid by %(payer)s %(days)d day after its due date %(due)s.",
                    "%(amount)s paid by %(payer)s %(days)d days after its due date %(due)s.", params["days"]) % said


def _trial_expired(params: dict) -> str:
    if params["reason"] == "recurring_billing_off":
        return gettext("The trial ended with recurring billing off: Expired. Users keep service until %(date)s, when "
                       "it is disabled.") % params
    return gettext("The trial ended with no payment method on file: Expired. Users keep service until %(date)s, "
                   "when it is disabled.") % params


MESSAGES |= {
    HAPPENING_SUBJECT: subject,
    PROVISIONED: _("Set up: the subscription is fully provisioned."),
    INVOICED: _invoiced,
    RENEWED: _("Recurring billing is on: a new term starts %(date)s."),
    LICENSES_AT_RENEWAL: _("Licenses removed at the renewal: %(before)d → %(after)d."),
    EXPIRED: _("The term ended with recurring billing off: Expired. Users keep service until %(date)s, when it is "
               "disabled."),
    DISABLED: _("Disabled: users lose access; admins keep the data until %(date)s, when it is deleted."),
    DELETED: ngettext_lazy("Deleted: %(count)d license removed from users; the data is gone.",
                           "Deleted: %(count)d licenses removed from users; the data is gone.", "count"),
    CARD_CHARGED: _with_money(_("%(amount)s charged to the card ending %(last4)s."), "amount"),
    REFUNDED: _with_money(_("%(amount)s refunded to the card ending %(last4)s."), "amount"),
    FELL_PAST_DUE: _with_money(_("%(balance)s unpaid past its due date %(due)s: plan changes are blocked until it "
                                 "is paid."), "balance"),
    PAID_BY_HABIT: _paid_by_habit,
    CREDIT_CHECK: _("Credit check of %(date)s"),
    CREDIT_CHECK_PASSED: _("Approved: two business days passed."),
    TRIAL_CONVERTED: _("The trial ended with a payment method on file and recurring billing on: it is now a paid "
                       "subscription, billed from %(date)s."),
    TRIAL_EXPIRED: _trial_expired,
}


def happening_subject(sub) -> Text:
    """A subscription as a happening names it: "Microsoft 365 Business Standard (25 licenses)"."""
    return Text(HAPPENING_SUBJECT, product=sub.product.name, licenses=sub.licenses)


# --- Errors a plan change can fail with, kept on it to show later -------------------------------

UNKNOWN_SKU = "error.unknown_sku"
OFFER_NOT_SOLD = "error.offer_not_sold"
LICENSES_TOO_MANY = "error.licenses_too_many"


def _offer_not_sold(params: dict) -> str:
    """The offer refused ("… isn't sold for 1 year billed annually"): the subscription length by its
    label and the billing frequency by its own sentence (never a code, never a label lowercased into
    another language's sentence); values the catalog doesn't know aren't repeated."""
    term, frequency = params["term"], params["billing_frequency"]
    if term not in Term.values or frequency not in BillingFrequency.values:
        return gettext("%(product)s isn't sold with the subscription length and billing frequency chosen.") % params
    message = (gettext("%(product)s isn't sold for %(term)s billed monthly.") if frequency == BillingFrequency.MONTHLY
               else gettext("%(product)s isn't sold for %(term)s billed annually."))
    return message % {**params, "term": Term(term).label}


MESSAGES |= {
    UNKNOWN_SKU: _("Unknown plan %(sku)s."),
    OFFER_NOT_SOLD: _offer_not_sold,
    LICENSES_TOO_MANY: _("%(product)s allows at most %(max)d licenses."),
}


def offer_not_sold(*, product: str, term, billing_frequency) -> Text:
    return Text(OFFER_NOT_SOLD, product=product, term=str(term)[:8], billing_frequency=str(billing_frequency)[:16])


# --- What billing's audit events say (their params are the events' data) -------------------------

_REASONS = {  # reasons billing writes on its events, in English, shown in the reader's language
    "two business days passed": _("two business days passed"),
    "set-up time passed": _("its set-up time passed"),
    "finished by support": _("support staff finished it"),
}


def _reason(params: dict) -> str:
    reason = params.get("reason") or ""
    return str(_REASONS.get(reason, reason))


def _credit_check_approved(params: dict) -> str:
    if params.get("reason") == "two business days passed":
        return gettext("The credit check was approved: two business days passed.")
    return gettext("The credit check was approved.")


def _cancelled(params: dict) -> str:
    if str(params.get("reason", "")).startswith("replaced by plan change"):
        return gettext("Cancelled: a plan change replaced it.")
    if params.get("credit"):
        return gettext("Cancelled: disabled until %(date)s; %(credit)s credited for its unused days.") % {
            "date": params["disabled_until"], "credit": money_text(str(params["credit"]).lstrip("-"))}
    return gettext("Cancelled: disabled until %(date)s.") % {"date": params["disabled_until"]}


def _addon(message):
    """An add-on by its catalog name (the event keeps its code), read each time (the catalog's names may change)."""
    @reads_rows
    def text(params: dict) -> str:
        name = AddOnProduct.objects.filter(code=params["addon"]).values_list("name", flat=True).first()
        return message % {"addon": name or params["addon"]}
    return text


def _licenses_changed(params: dict) -> str:
    if params.get("at_renewal"):
        return gettext("Licenses removed at the renewal on %(date)s: %(from)d → %(to)d.") % {
            **params, "date": params["at_renewal"]}
    return gettext("Licenses: %(from)d → %(to)d.") % params


def _removal_scheduled(params: dict) -> str:
    if params.get("on"):
        return gettext("Licenses to remove at the renewal on %(on)s: %(from)d → %(to)d.") % params
    return gettext("Licenses to remove at the renewal: %(from)d → %(to)d.") % params


def _invoice_paid(params: dict) -> str:
    params = {**params, "amount": money_text(params["amount"])}
    if params.get("card"):
        return gettext("Invoice %(number)s paid: %(amount)s charged to the card ending %(card)s.") % params
    if params.get("payer") and params.get("days_late"):  # by the payer's habit (billing.habits)
        return ngettext("Invoice %(number)s paid by %(payer)s: %(amount)s, %(days_late)d day after its due date.",
                        "Invoice %(number)s paid by %(payer)s: %(amount)s, %(days_late)d days after its due date.",
                        params["days_late"]) % params
    if params.get("payer"):
        return gettext("Invoice %(number)s paid by %(payer)s on its due date: %(amount)s.") % params
    if params.get("settled"):
        return gettext("Invoice %(number)s paid with Settle balance: %(amount)s.") % params
    return gettext("Invoice %(number)s paid: %(amount)s.") % params


def _habit_changed(params: dict) -> str:
    if params.get("habit") == PaymentHabit.LATE:
        return ngettext("%(payer)s now pays its invoices %(days)d day after the due date.",
                        "%(payer)s now pays its invoices %(days)d days after the due date.", params["days"]) % params
    if params.get("habit") == PaymentHabit.NEVER:
        return gettext("%(payer)s now never pays its invoices: they wait for Pay now or Settle balance.") % params
    return gettext("%(payer)s now pays its invoices on the due date.") % params


def _lines_added(params: dict) -> str:
    count = len(params.get("lines") or [])
    return ngettext("%(count)d line added to invoice %(number)s.", "%(count)d lines added to invoice %(number)s.",
                    count) % {"count": count, "number": params["number"]}


def _reactivated(params: dict) -> str:
    if params.get("resumed"):
        return gettext("Reactivated: it resumes within the period already paid, until %(date)s.") % {
            "date": params["billed_until"]}
    return gettext("Reactivated: a new term started %(date)s.") % {"date": params["term_start"]}


def _provisioning_finished(params: dict) -> str:
    return gettext("Set up: the subscription is fully provisioned (%(reason)s).") % {"reason": _reason(params)}


EVENTS = {
    CREDIT_CHECK_APPROVED: _credit_check_approved,
    CREDIT_CHECK_REJECTED: _("The credit check was rejected."),
    SUBSCRIPTION_PROVISIONED: ngettext_lazy("Set up with %(licenses)d license for a plan change.",
                                              "Set up with %(licenses)d licenses for a plan change.", "licenses"),
    SUBSCRIPTION_PROVISIONING_FINISHED: _provisioning_finished,
    SUBSCRIPTION_BOUGHT: ngettext_lazy("Bought with %(licenses)d license.", "Bought with %(licenses)d licenses.",
                                         "licenses"),
    SUBSCRIPTION_CANCELLED: _cancelled,
    SUBSCRIPTION_ADDON_REMOVED: _addon(_("Add-on removed: %(addon)s.")),
    SUBSCRIPTION_ADDON_ADDED: _addon(_("Add-on added back: %(addon)s.")),
    SUBSCRIPTION_LICENSES_CHANGED: _licenses_changed,
    SUBSCRIPTION_LICENSES_REMOVAL_SCHEDULED: _removal_scheduled,
    SUBSCRIPTION_LICENSES_REMOVAL_CANCELLED: ngettext_lazy(
        "No license will be removed at the renewal: it keeps its %(licenses)d license.",
        "No licenses will be removed at the renewal: it keeps all %(licenses)d.", "licenses"),
    SUBSCRIPTION_RECURRING_BILLING_CHANGED: lambda params: str(
        _("Recurring billing turned on.") if params["recurring_billing"] else _("Recurring billing turned off.")),
    SUBSCRIPTION_REACTIVATED: _reactivated,
    SUBSCRIPTION_RENEWED: _("Renewed: a new term starts %(term_start)s."),
    SUBSCRIPTION_EXPIRED: _("Expired on %(on)s: users keep service until %(disabled_on)s."),
    SUBSCRIPTION_DISABLED: _("Disabled on %(on)s: admins keep the data until %(deleted_on)s."),
    SUBSCRIPTION_DELETED: ngettext_lazy("Deleted on %(on)s: %(licenses_removed)d license removed from users.",
                                          "Deleted on %(on)s: %(licenses_removed)d licenses removed from users.",
                                          "licenses_removed"),
    SUBSCRIPTION_TRIAL_CONVERTED: _("The trial ended on %(on)s and became a paid subscription: billing started that "
                                    "day."),
    SUBSCRIPTION_TRIAL_EXPIRED: _("The trial ended on %(on)s: Expired, users keep service until %(disabled_on)s."),
    SUBSCRIPTION_TRIAL_EXTENDED: _("Trial extended by 30 days: it ends on %(trial_ends_on)s."),
    SUBSCRIPTION_TRIAL_PURCHASED: _("Bought from the trial: billing started %(on)s."),
    INVOICE_CREATED: _("Invoice %(number)s dated %(date)s, due %(due_date)s."),
    INVOICE_PAID: _invoice_paid,
    INVOICE_REFUNDED: _with_money(_("%(amount)s of invoice %(number)s refunded to the card ending %(card)s."),
                                  "amount"),
    INVOICE_OVERDUE: _with_money(_("Invoice %(number)s is past due: %(balance)s was due %(due)s."), "balance"),
    INVOICE_LINES_ADDED: _lines_added,
    PAYMENT_METHOD_ADDED: _("Card ending %(last4)s added."),
    PAYMENT_HABIT_CHANGED: _habit_changed,
}


# A subscription length or billing frequency that isn't one of the catalog's words (the order pages and
# a plan change alike).
TERM_UNKNOWN = _("Choose a subscription length: 1 month, 1 year or 3 years.")
FREQUENCY_UNKNOWN = _("Choose monthly or annual billing.")


def offer_choice_check(*, term, billing_frequency) -> None:
    """Refuse a subscription length or billing frequency that doesn't exist (422, beside its field); ``None``
    (not chosen) passes."""
    if term not in (None, "") and term not in Term.values:
        raise DomainError(TERM_UNKNOWN, code="invalid_term", field="term")
    if billing_frequency not in (None, "") and billing_frequency not in BillingFrequency.values:
        raise DomainError(FREQUENCY_UNKNOWN, code="invalid_billing_frequency", field="billing_frequency")
