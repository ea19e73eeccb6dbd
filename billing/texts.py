"""The texts billing generates, for the one registry (``portal.texts``): invoice and quote lines.

A line's params: ``product`` (the catalog's name, never translated), ``licenses``, ``days``,
``start`` and ``end`` (ISO dates, as the pages show them), ``number`` (an invoice's)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from portal.texts import Text


def subject(params: dict) -> str:
    """"Microsoft 365 Business Standard (25 licenses)": a product and its number of licenses."""
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
