"""Billing pages: Your products."""

from django.shortcuts import render

from billing.money import money
from billing.periods import renewal_date
from billing.selectors import subscription_list
from portal import clock
from portal.decorators import tenant_page


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
