"""The support console: the simulation clock and plan changes across tenants."""

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from planchange.models import PlanChange
from planchange.timeline import clock_move
from portal import clock
from portal.decorators import support_page
from portal.errors import DomainError
from portal.inputs import is_iso_date, whole_number


@support_page
def console(request):
    status = request.GET.get("status", "")
    changes = (PlanChange.objects.select_related("tenant", "subscription__product", "target_product")
               .prefetch_related("steps").order_by("-requested_at", "-id"))
    if status in PlanChange.Status.values:
        changes = changes.filter(status=status)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    return render(request, "support/console.html", {
        "section": "support", "today": clock.today(), "page": page, "status": status,
        "statuses": PlanChange.Status.choices, "errors": request.session.pop("clock_errors", {}),
    })


@require_POST
@support_page
def advance_clock(request):
    how = request.POST.get("how", "days")
    raw = request.POST.get("value", "").strip()
    try:
        if how == "to":
            try:
                if not is_iso_date(raw):
                    raise ValueError(raw)
                kwargs = {"to": date.fromisoformat(raw)}
            except ValueError as exc:
                raise DomainError(_("Enter a date as YYYY-MM-DD."), field="value") from exc
        elif how in ("days", "business_days") and whole_number(raw, min_value=1, max_value=3660) is not None:
            kwargs = {how: whole_number(raw)}
        else:
            raise DomainError(_("Enter a whole number of days from 1 to 3660."), field="value")
        swept = clock_move(actor=request.user.get_username(), **kwargs)
        today = clock.today()
    except DomainError as exc:
        request.session["clock_errors"] = {"value": str(exc.detail)}
    else:
        messages.success(request, _("The simulation date is now %(date)s. Things that happened on the way: %(n)d.")
                         % {"date": today.isoformat(), "n": len(swept["events"])})
    return redirect("support:console")
