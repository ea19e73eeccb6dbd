"""Bills & payments, an invoice, and Pay now / Settle balance."""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from billing.models import Invoice
from billing.money import money_text
from billing.selectors import (
    invoice_get,
    invoice_list,
    payers_of,
)
from billing.services import (
    invoice_pay,
    invoices_settle,
)
from portal import clock
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.pages import refusal_kept
from portal.roles import BILLING_WRITERS

BILLS_PER_PAGE = 12  # a year of monthly invoices
_BILLS_PAGE = r"(\?page=[1-9][0-9]{0,5})?"  # after the page's path: which of its pages, if any


@tenant_page
def bills(request):
    """Bills & payments: the invoices with their lines, balance and due date, newest first, a year of them to a page
    (years of clock moves make hundreds); the balances are over all of them."""
    today = clock.today()
    invoices = [{"invoice": inv, "status": status, "label": Invoice.Status(status).label}
                for inv in invoice_list(tenant=request.tenant, lines=False) for status in [inv.status_on(today)]]
    # What is due now: an upcoming invoice still collects the month's lines and isn't payable yet.
    balance = sum((row["invoice"].balance for row in invoices if row["status"] != Invoice.Status.UPCOMING), 0)
    credit = sum((row["invoice"].credit_left for row in invoices), 0)
    past_due = sum((row["invoice"].balance for row in invoices if row["status"] == Invoice.Status.OVERDUE), 0)
    page = Paginator(invoices, BILLS_PER_PAGE).get_page(request.GET.get("page"))
    prefetch_related_objects([row["invoice"] for row in page], "lines")  # the lines of this page's invoices only
    return render(request, "billing/bills.html", {
        "section": "billing", "invoices": page, "page": page, "balance": balance, "credit": credit,
        "past_due": past_due, "payers": payers_of(tenant=request.tenant),
        "here": reverse("billing:bills") + (f"?page={page.number}" if page.number > 1 else ""),
    })


@tenant_page
def invoice_detail(request, invoice_id):
    invoice = invoice_get(tenant=request.tenant, id=invoice_id)
    status = invoice.status_on(clock.today())
    return render(request, "billing/invoice.html", {
        "section": "billing", "invoice": invoice, "status": status, "label": Invoice.Status(status).label,
    })


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def invoice_pay_now(request, invoice_id):
    back = request.POST.get("next", "")
    if not re.fullmatch(re.escape(reverse("billing:bills")) + _BILLS_PAGE, back):  # Bills & payments or a page of it
        back = reverse("billing:invoice", args=[invoice_id])
    try:
        invoice = invoice_pay(tenant=request.tenant, invoice_id=invoice_id, actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=back, form="pay")
    else:
        messages.success(request, _("Invoice %(number)s is paid.") % {"number": invoice.number})
    return redirect(back)


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def settle_balance(request):
    """Settle balance: every past-due invoice paid at once, one payment each."""
    try:
        settled = invoices_settle(tenant=request.tenant, actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=reverse("billing:bills"), form="settle")
    else:
        messages.success(request, ngettext("%(count)d past-due invoice is paid: %(amount)s.",
                                           "%(count)d past-due invoices are paid: %(amount)s.",
                                           len(settled.invoices))
                         % {"count": len(settled.invoices), "amount": money_text(settled.amount)})
    return redirect("billing:bills")
