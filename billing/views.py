"""Billing pages: Purchase services, Your products, Bills & payments, an invoice with Pay now,
removing an add-on, and the checklist for changing plans manually."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.invoicing import profile_invoice_date
from billing.manual_path import manual_path_steps
from billing.models import BillingFrequency, Invoice, Term
from billing.money import money
from billing.orders import order_check, order_token_new, order_token_parse
from billing.periods import renewal_date
from billing.selectors import (
    invoice_get,
    invoice_list,
    payment_method_list,
    product_list,
    subscription_first_charge,
    subscription_get,
    subscription_list,
)
from billing.services import invoice_pay, subscription_addon_remove, subscription_purchase
from portal import clock
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import LICENSES_MAX, parse_id, whole_number
from portal.roles import BILLING_WRITERS


@tenant_page
def your_products(request):
    today = clock.today()
    rows = []
    for sub in subscription_list(tenant=request.tenant):
        rows.append({
            "subscription": sub,
            "renewal_date": (
                renewal_date(start=sub.start_date, term=sub.term, today=today)
                if sub.status == "active" else None
            ),
            "monthly_total": money(sub.price * sub.licenses) if sub.price is not None else None,
        })
    return render(request, "billing/your_products.html", {"rows": rows, "today": today, "section": "billing"})


@tenant_page
def bills(request):
    """Bills & payments: every invoice with its lines, balance and due date."""
    today = clock.today()
    invoices = [{"invoice": inv, "status": status, "label": Invoice.Status(status).label}
                for inv in invoice_list(tenant=request.tenant) for status in [inv.status_on(today)]]
    # What is due now: an upcoming invoice still collects the month's lines and isn't payable yet.
    balance = sum((row["invoice"].balance for row in invoices if row["status"] != Invoice.Status.UPCOMING), 0)
    credit = sum((row["invoice"].credit_left for row in invoices), 0)
    return render(request, "billing/bills.html", {
        "section": "billing", "invoices": invoices, "balance": balance, "credit": credit,
    })


@tenant_page
def invoice_detail(request, invoice_id):
    invoice = invoice_get(tenant=request.tenant, invoice_id=invoice_id)
    status = invoice.status_on(clock.today())
    return render(request, "billing/invoice.html", {
        "section": "billing", "invoice": invoice, "status": status, "label": Invoice.Status(status).label,
    })


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def invoice_pay_now(request, invoice_id):
    try:
        invoice = invoice_pay(tenant=request.tenant, invoice_id=invoice_id, actor=request.user.get_username())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Invoice %(number)s is paid.") % {"number": invoice.number})
    back = request.POST.get("next", "")
    if back == reverse("billing:bills"):
        return redirect(back)
    return redirect("billing:invoice", invoice_id=invoice_id)


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def addon_remove(request, subscription_id, code):
    """Remove an add-on, confirmed ("you can add it back later if you still need it")."""
    subscription_get(tenant=request.tenant, subscription_id=subscription_id)  # another tenant's: 404
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirm that you want to remove the add-on."))
        return redirect("planchange:subscription", subscription_id=subscription_id)
    try:
        subscription_addon_remove(tenant=request.tenant, subscription_id=subscription_id, code=code,
                                  actor=request.user.get_username())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The add-on was removed. You can add it back later if you still need it."))
    return redirect("planchange:subscription", subscription_id=subscription_id)


# The catalog's price columns, (term, billing frequency) as the catalog sells them.
OFFER_COLUMNS = [(Term.P1M, BillingFrequency.MONTHLY), (Term.P1Y, BillingFrequency.MONTHLY),
                 (Term.P1Y, BillingFrequency.ANNUAL), (Term.P3Y, BillingFrequency.ANNUAL)]



def _catalog(products) -> list[dict]:
    rows = []
    for product in products:
        prices = {(o.term, o.billing_frequency): o.price for o in product.offers.all()}
        rows.append({"product": product, "prices": [prices.get(column) for column in OFFER_COLUMNS]})
    return rows


def _order_choice(product, data, errors: dict):
    """The order form's choices for ``product`` (licenses, subscription length, billing frequency),
    and the order they make when they hold; each refused value is an error beside its field."""
    raw = data.get("licenses", "").strip()
    licenses = whole_number(raw, min_value=1, max_value=LICENSES_MAX) if raw else 1
    if licenses is None:
        errors["licenses"] = (_("Enter a whole number of licenses from 1 to %(max)d.")
                              % {"max": product.licenses_limit})
    term = data.get("term") or Term.P1Y
    if term not in Term.values:
        errors["term"] = _("Choose a subscription length: 1 month, 1 year or 3 years.")
    # A one-month commitment is billed monthly, whatever was chosen.
    billing_frequency = BillingFrequency.MONTHLY if term == Term.P1M else (
        data.get("billing_frequency") or BillingFrequency.MONTHLY)
    if billing_frequency not in BillingFrequency.values:
        errors["billing_frequency"] = _("Choose monthly or annual billing.")
    choice = {"licenses": raw or "1", "term": term, "billing_frequency": billing_frequency}
    if errors:
        return choice, None
    try:
        return choice, order_check(sku=product.sku, licenses=licenses, term=term,
                                   billing_frequency=billing_frequency, day=clock.today())
    except DomainError as exc:
        errors.update(exc.field_errors())
        return choice, None


@tenant_page
@writes(BILLING_WRITERS)
def purchase(request):
    """Billing > Purchase services: the catalog with its prices per license per month; for a chosen
    product (``?sku=``) the order (licenses, subscription length, billing frequency) with its first
    billing period's total and how it is paid; Buy (Global admin, Billing admin) buys it for this
    organization. ``?fragment=total``: only the total, for the page's script."""
    posted = request.method == "POST"
    data = request.POST if posted else request.GET
    products = list(product_list())
    sku = data.get("sku", "")
    product = next((p for p in products if p.sku == sku), None) if sku else None
    if sku and product is None and not posted:
        raise Http404
    errors, status = {}, 200
    context = {"section": "billing", "catalog": _catalog(products), "product": product, "errors": errors}
    if product is None:
        if posted:
            errors["sku"] = _("Choose a product from the catalog.")
        return render(request, "billing/purchase.html", context, status=422 if errors else 200)
    choice, order = _order_choice(product, data, errors)
    token = order_token_parse(data.get("order_token")) if posted else None
    if posted and token is None:
        errors.setdefault("form", _("This order form has expired. Check the order and choose Buy again."))
    if posted and not errors:
        card = {"number": request.POST.get("card_number", ""), "expiry": request.POST.get("card_expiry", ""),
                "holder_name": request.POST.get("card_name", "")}
        try:
            sub = subscription_purchase(
                tenant=request.tenant, sku=product.sku, licenses=order.licenses, term=order.term,
                billing_frequency=order.billing_frequency, order_token=token, card=card,
                payment_choice=request.POST.get("payment_method", ""), actor=request.user.get_username())
        except DomainError as exc:
            errors.update(exc.field_errors())
            status = exc.status
        else:
            return _bought(request, sub)
    if errors:
        status = status if status != 200 else (422 if posted else 400)
    today = clock.today()
    profile = request.tenant.billing_profiles.order_by("pk").first() if request.tenant.has_billing_profile else None
    context.update({
        "choice": choice, "order": order, "today": today, "profile": profile,
        "profile_invoice_date": profile_invoice_date(today) if profile else None,
        "terms": [(value, label) for value, label in Term.choices
                  if any(o.term == value for o in product.offers.all())],
        "frequencies": BillingFrequency.choices,
        "order_token": str(token) if token else order_token_new(),
    })
    if request.GET.get("fragment") == "total":
        return render(request, "billing/_purchase_total.html", {**context, "fragment": True}, status=status)
    if profile is None:
        methods = list(payment_method_list(tenant=request.tenant))
        default = next((str(m.pk) for m in methods if m.is_default), "new")
        context.update({"methods": methods, "selected_method": request.POST.get("payment_method") or default,
                        "posted": request.POST})
    return render(request, "billing/purchase.html", context, status=status)


def _bought(request, sub):
    """After Buy: the new subscription's page, saying what happens and what was invoiced."""
    line = subscription_first_charge(subscription=sub)
    if sub.already_bought:
        messages.info(request, _("This order was already placed: %(product)s, bought on %(date)s. Nothing was "
                                 "bought again.") % {"product": sub.product.name, "date": sub.start_date.isoformat()})
    elif line is not None:
        messages.success(request, _(
            "%(product)s is being set up; it is ready in a few minutes. Its first billing period, USD %(amount)s, "
            "is on invoice %(number)s of %(date)s.") % {
                "product": sub.product.name, "amount": line.amount, "number": line.invoice.number,
                "date": line.invoice.date.isoformat()})
    return redirect("planchange:subscription", subscription_id=sub.pk)


def _chosen(request, name: str, subscriptions: list, errors: dict):
    """The subscription the guide's ``name`` select chose (``from``, ``to``): one of the tenant's,
    else an error beside the select (a missing and a foreign id read the same)."""
    raw = request.GET.get(name, "")
    if not raw:
        return None
    pk = parse_id(raw)
    found = next((s for s in subscriptions if s.pk == pk), None) if pk is not None else None
    if found is None:
        errors[name] = _("Choose one of your organization's subscriptions.")
    return found


@tenant_page
def change_manually(request):
    """Change plans manually, as a checklist: the admin chooses the subscription users move from
    (``?from=``; the blockers' "Change plans manually" pass it) and the one they move to (``?to=``),
    and each of the article's four steps says whether it is done for that pair, with a link to the
    page that does it. Counts come from the subscriptions (no query grows with the users)."""
    subscriptions = list(subscription_list(tenant=request.tenant))
    errors = {}
    old = _chosen(request, "from", subscriptions, errors)
    new = _chosen(request, "to", subscriptions, errors)
    if old is not None and new is not None and old.pk == new.pk:
        errors["to"] = _("Choose a different subscription from the one users move from.")
        new = None
    raw = request.GET.get("moving", "").strip()
    moving = whole_number(raw, min_value=1, max_value=LICENSES_MAX) if raw else None
    if raw and moving is None:
        errors["moving"] = _("Enter a whole number of users from 1 to 1,000,000, or leave it empty for everyone.")
    return render(request, "billing/change_manually.html", {
        "section": "billing", "subscriptions": subscriptions, "old": old, "new": new, "errors": errors,
        "moving": moving, "steps": manual_path_steps(old=old, new=new, moving=moving),
    }, status=400 if errors else 200)
