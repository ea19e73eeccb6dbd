"""Billing > Your products, and Billing > Purchase services (the catalog and an order)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from billing.invoicing import profile_invoice_date
from billing.models import BillingFrequency, Subscription, Term
from billing.money import money, money_text
from billing.orders import order_check, order_token_new, order_token_parse
from billing.periods import renewal_date
from billing.selectors import (
    payment_method_list,
    product_list,
    subscription_first_charge,
    subscription_list,
)
from billing.services import (
    subscription_purchase,
)
from billing.texts import FREQUENCY_UNKNOWN, TERM_UNKNOWN
from billing.views.forms import card_from
from portal import clock
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import LICENSES_MAX, whole_number
from portal.pages import refusal
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
                if sub.status == Subscription.Status.ACTIVE else None
            ),
            "monthly_total": money(sub.price * sub.licenses) if sub.price is not None else None,
        })
    return render(request, "billing/your_products.html", {"rows": rows, "today": today, "section": "billing"})


# The catalog's price columns, (term, billing frequency) as the catalog sells them.
OFFER_COLUMNS = [(Term.P1M, BillingFrequency.MONTHLY), (Term.P1Y, BillingFrequency.MONTHLY),
                 (Term.P1Y, BillingFrequency.ANNUAL), (Term.P3Y, BillingFrequency.ANNUAL)]



def _catalog(products) -> list[dict]:
    rows = []
    for product in products:
        prices = {(o.term, o.billing_frequency): o.price for o in product.offers.all()}
        rows.append({"product": product, "prices": [prices.get(column) for column in OFFER_COLUMNS]})
    return rows


def _order_fields(product, data, errors: dict) -> tuple[dict, int | None]:
    """The order form's choices for ``product`` (licenses, subscription length, billing frequency) as the
    page reads them; a value it can't read is an error beside its field (the service checks the order)."""
    raw = data.get("licenses", "").strip()
    licenses = whole_number(raw, min_value=1, max_value=LICENSES_MAX) if raw else 1
    if licenses is None:
        errors["licenses"] = (_("Enter a whole number of licenses from 1 to %(max)d.")
                              % {"max": product.licenses_limit})
    term = data.get("term") or Term.P1Y
    if term not in Term.values:
        errors["term"] = TERM_UNKNOWN
    # A one-month commitment is billed monthly, whatever was chosen.
    billing_frequency = BillingFrequency.MONTHLY if term == Term.P1M else (
        data.get("billing_frequency") or BillingFrequency.MONTHLY)
    if billing_frequency not in BillingFrequency.values:
        errors["billing_frequency"] = FREQUENCY_UNKNOWN
    return {"licenses": raw or "1", "term": term, "billing_frequency": billing_frequency}, licenses


@tenant_page
@writes(BILLING_WRITERS)
def purchase(request):
    """Billing > Purchase services: the catalog with its prices per license per month; for a chosen
    product (``?sku=``) the order (licenses, subscription length, billing frequency) with its first
    billing period's total and how it is paid; Buy (Global admin, Billing admin) buys it for this
    organization, straight through the service. ``?fragment=total``: only the total, for the page's script."""
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
    choice, licenses = _order_fields(product, data, errors)
    token = order_token_parse(data.get("order_token")) if posted else None
    if posted and token is None:
        errors.setdefault("form", _("This order form has expired. Check the order and choose Buy again."))
    if posted and not errors:
        try:
            sub = subscription_purchase(
                tenant=request.tenant, sku=product.sku, licenses=licenses, term=choice["term"],
                billing_frequency=choice["billing_frequency"], order_token=token, card=card_from(request.POST),
                payment_choice=request.POST.get("payment_method", ""), actor=request.user.get_username())
        except DomainError as exc:
            errors.update(refusal(exc))
            status = exc.status
        else:
            return _bought(request, sub)
    if errors:
        status = status if status != 200 else (422 if posted else 400)
    return _purchase_page(request, context, choice=choice, licenses=licenses, token=token, status=status)



def _purchase_page(request, context: dict, *, choice, licenses, token, status):
    """The order with its first period's total (what ``order_check`` makes of it, the same rule Buy
    meets), and how it is paid."""
    product, errors, today = context["product"], context["errors"], clock.today()
    order = None
    if not errors:
        try:
            order = order_check(sku=product.sku, licenses=licenses, term=choice["term"],
                                billing_frequency=choice["billing_frequency"], day=today)
        except DomainError as exc:
            errors.update(exc.field_errors())
            status = 400 if status == 200 else status
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
            "%(product)s is being set up; it is ready in a few minutes. Its first billing period, %(amount)s, "
            "is on invoice %(number)s of %(date)s.") % {
                "product": sub.product.name, "amount": money_text(line.amount), "number": line.invoice.number,
                "date": line.invoice.date.isoformat()})
    return redirect("planchange:subscription", subscription_id=sub.pk)
