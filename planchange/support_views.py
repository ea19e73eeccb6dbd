"""The support console: the simulation clock and plan changes across tenants."""

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from planchange.models import PlanChange
from planchange.timeline import clock_move
from portal import clock
from portal.decorators import support_page
from portal.errors import DomainError
from portal.inputs import is_iso_date, whole_number

KIND_LABELS = {
    "provisioned": gettext_lazy("Provisioned"),
    "credit_check": gettext_lazy("Credit check"),
    "plan_change": gettext_lazy("Scheduled change"),
    "renewal": gettext_lazy("Renewal"),
    "invoice": gettext_lazy("Invoice"),
    "payment": gettext_lazy("Card payment"),
    "refund": gettext_lazy("Refund"),
    "expired": gettext_lazy("Expired"),
    "disabled": gettext_lazy("Disabled"),
    "deleted": gettext_lazy("Deleted"),
    "overdue": gettext_lazy("Past due"),
}
SHOWN = 300  # events listed on the page; the count says how many there were


def _labelled(events: list[dict]) -> list[dict]:
    return [{**e, "kind_label": KIND_LABELS.get(e["kind"], e["kind"])} for e in events[:SHOWN]]


def _console(request, **extra):
    status = request.GET.get("status", "")
    changes = (PlanChange.objects.select_related("tenant", "subscription__product", "target_product")
               .prefetch_related("steps").order_by("-requested_at", "-id"))
    if status in PlanChange.Status.values:
        changes = changes.filter(status=status)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    moved = request.session.pop("clock_moved", None)
    if moved:
        moved["events"] = _labelled(moved["events"])
    return render(request, "support/console.html", {
        "section": "support", "today": clock.today(), "page": page, "status": status,
        "statuses": PlanChange.Status.choices, "errors": request.session.pop("clock_errors", {}),
        "moved": moved, "shown": SHOWN, **extra,
    })


@support_page
def console(request):
    return _console(request)


def _move_arguments(how: str, raw: str) -> dict:
    if how == "to":
        try:
            if not is_iso_date(raw):
                raise ValueError(raw)
            return {"to": date.fromisoformat(raw)}
        except ValueError as exc:
            raise DomainError(_("Enter a date as YYYY-MM-DD."), field="value") from exc
    if how in ("days", "business_days") and whole_number(raw, min_value=1, max_value=3660) is not None:
        return {how: whole_number(raw)}
    raise DomainError(_("Enter a whole number of days from 1 to 3660."), field="value")


@require_POST
@support_page
def advance_clock(request):
    """Preview (a dry run: what moving the clock will do, in order) or move the clock."""
    how = request.POST.get("how", "days")
    raw = request.POST.get("value", "").strip()
    action = request.POST.get("action", "preview")  # without a choice, only look
    preview = action == "preview"
    try:
        if action not in ("preview", "move"):
            raise DomainError(_("Preview the move first, then move the clock."), field="value")
        kwargs = _move_arguments(how, raw)
        result = clock_move(actor=request.user.get_username(), dry_run=preview, **kwargs)
    except DomainError as exc:
        request.session["clock_errors"] = {"value": str(exc.detail)}
        return redirect("support:console")
    if preview:
        return _console(request, preview={"how": how, "value": raw, "from": result["from"], "to": result["to"],
                                          "count": len(result["events"]), "events": _labelled(result["events"])})
    request.session["clock_moved"] = {"from": result["from"], "to": result["to"], "count": len(result["events"]),
                                      "events": result["events"][:SHOWN]}
    messages.success(request, _("The simulation date is now %(date)s. Things that happened on the way: %(n)d.")
                     % {"date": clock.today().isoformat(), "n": len(result["events"])})
    return redirect("support:console")
