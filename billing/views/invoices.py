"""Bills & payments, an invoice, and Pay now / Settle balance."""

from django.contrib import messages
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


@tenant_page
def bills(request):
    """Bills & payments: every invoice with its lines, balance and due date."""
    today = clock.today()
    invoices = [{"invoice": inv, "status": status, "label": Invoice.Status(status).label}
                for inv in invoice_list(tenant=request.tenant) for status in [inv.status_on(today)]]
    # What is due now: an upcoming invoice still collects the month's lines and isn't payable yet.
    balance = sum((row["invoice"].balance for row in invoices if row["status"] != Invoice.Status.UPCOMING), 0)
    credit = sum((row["invoice"].credit_left for row in invoices), 0)
    past_due = sum((row["invoice"].balance for row in invoices if row["status"] == Invoice.Status.OVERDUE), 0)
    return render(request, "billing/bills.html", {
        "section": "billing", "invoices": invoices, "balance": balance, "credit": credit, "past_due": past_due,
        "payers": payers_of(tenant=request.tenant),
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
    back = back if back == reverse("billing:bills") else reverse("billing:invoice", args=[invoice_id])
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
