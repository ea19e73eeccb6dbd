"""The support console's pages: the simulation clock, plan changes across tenants and support's actions
on them, credit checks, incidents, and every tenant with its problems."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from billing.lifecycle import subscription_provisioning_finish
from billing.models import CreditCheck, PaymentHabit, ServicePlan, Subscription
from billing.selectors import payers_of, subscriptions_all
from billing.services import credit_check_decide, payment_habit_set
from planchange.blockers import titles
from planchange.models import PlanChange, PlanChangeStep
from planchange.progress import change_timeline, timeline_height
from planchange.services import plan_change_cancel, plan_change_retry
from portal import clock
from portal.decorators import support_page
from portal.errors import DomainError
from portal.happenings import Kind
from portal.inputs import is_iso_date, local_path, parse_id, whole_number
from portal.models import Service, ServiceIncident, Tenant
from portal.pages import error_kept, kept_errors, refusal_kept
from portal.selectors import tenant_get
from portal.services import incident_open, incident_update
from simulation.models import ClockMove
from simulation.moves import move_await, move_events, move_failed_text, move_request, move_under_way
from support.selectors import (
    STALLED,
    STUCK,
    change_correlation,
    change_trail,
    change_users_moved,
    support_actions,
    support_change_get,
    support_changes,
    support_tenant_list,
    support_tenants,
)

KIND_LABELS = {
    Kind.PROVISIONED: gettext_lazy("Provisioned"),
    Kind.CREDIT_CHECK: gettext_lazy("Credit check"),
    Kind.PLAN_CHANGE: gettext_lazy("Scheduled change"),
    Kind.TRIAL_CONVERTED: gettext_lazy("Trial converted"),
    Kind.TRIAL_EXPIRED: gettext_lazy("Trial expired"),
    Kind.RENEWAL: gettext_lazy("Renewal"),
    Kind.INVOICE: gettext_lazy("Invoice"),
    Kind.PAYMENT: gettext_lazy("Card payment"),
    Kind.INVOICE_PAYMENT: gettext_lazy("Invoice paid by habit"),
    Kind.REFUND: gettext_lazy("Refund"),
    Kind.EXPIRED: gettext_lazy("Expired"),
    Kind.DISABLED: gettext_lazy("Disabled"),
    Kind.DELETED: gettext_lazy("Deleted"),
    Kind.OVERDUE: gettext_lazy("Past due"),
}
SHOWN = 300  # events listed on the page; the count says how many there were


def _kept_by_form(request, drawn: set[str]) -> dict:
    """The errors kept for this page: each drawn form's beside it (``form_errors``), and those of a form the
    page no longer draws (a credit check decided meanwhile) at its top (``errors_elsewhere``)."""
    kept = kept_errors(request)
    return {"form_errors": {form: errors for form, errors in kept.items() if form in drawn},
            "errors_elsewhere": [errors for form, errors in kept.items() if form not in drawn]}


def _action_forms(request) -> dict:
    """What support can act on (credit checks pending, incidents open, subscriptions being set up), each with
    its form's kept errors."""
    checks = list(CreditCheck.objects.filter(status=CreditCheck.Status.PENDING).select_related("tenant")
                  .order_by("requested", "pk"))
    incidents = [i for i in ServiceIncident.objects.select_related("tenant").order_by("-opened_at", "-pk")[:50]
                 if not i.is_healthy]
    provisioning = list(subscriptions_all().filter(provisioning=Subscription.Provisioning.PROVISIONING)
                        .select_related("tenant", "product")[:50])
    drawn = {"clock", "incident", *(f"credit-{c.pk}" for c in checks), *(f"incident-{i.pk}" for i in incidents),
             *(f"provision-{s.pk}" for s in provisioning)}
    return {"credit_checks": checks, "incidents": incidents, "provisioning": provisioning,
            **_kept_by_form(request, drawn)}


def _labelled(events: list[dict]) -> list[dict]:
    return [{**e, "kind_label": KIND_LABELS.get(e["kind"], e["kind"])} for e in events[:SHOWN]]


def _console(request, **extra):
    status = request.GET.get("status", "")
    tenant_id = parse_id(request.GET.get("tenant", ""))
    older = whole_number(request.GET.get("older", "").strip(), min_value=1, max_value=3660)
    search = request.GET.get("q", "").strip()[:100]
    changes = support_changes(status=status, tenant_id=tenant_id, older_than_days=older, search=search)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    for change in page:  # errors in words: the article's titles of the blockers it met
        change.reasons = " ".join(titles(change.blockers)) or change.error_message
    typed = request.session.pop("clock_typed", None)  # what a refused move had typed, drawn again beside its error
    return render(request, "support/console.html", {
        "section": "support", "today": clock.today(), "page": page, "status": status,
        "statuses": [*PlanChange.Status.choices, (STALLED, _("Stalled")), (STUCK, _("Stuck on a failed step"))],
        "tenant_id": tenant_id, "older": older,
        "search": search, "tenants": Tenant.objects.order_by("name"),
        "shown": SHOWN,
        **_action_forms(request), "services": Service.choices, "incident_statuses": ServiceIncident.Status.choices,
        "support_actions": support_actions(), "clock_form": typed or {},
        **_move_followed(request), **extra,
    })


@support_page
def console(request):
    return _console(request)


CLOCK_TYPED_MAX = 40  # characters of a refused value drawn again in the clock form


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


# How long the page waits for a move before it shows the move's progress instead (it follows it live).
CLOCK_PAGE_WAIT = 5.0


@require_POST
@support_page
def advance_clock(request):
    """Preview (a dry run: what moving the clock will do, in order) or move the clock. The move runs on a
    worker; the page waits a few seconds for it, then follows its progress."""
    how = request.POST.get("how", "days")
    raw = request.POST.get("value", "").strip()
    action = request.POST.get("action", "preview")  # without a choice, only look
    try:
        if action not in ("preview", "move"):
            raise DomainError(_("Preview the move first, then move the clock."), field="value")
        move = move_request(actor=request.user.get_username(), dry_run=action == "preview",
                            **_move_arguments(how, raw))
    except DomainError as exc:
        refusal_kept(request, exc, page=reverse("support:console"), form="clock")
        request.session["clock_typed"] = {"how": how, "value": raw[:CLOCK_TYPED_MAX]}
        return redirect("support:console")
    move_await(move.pk, wait=CLOCK_PAGE_WAIT, claim_wait=settings.CLOCK_MOVE_CLAIM_WAIT)
    request.session["clock_following"] = {"move": move.pk, "how": how, "value": raw[:CLOCK_TYPED_MAX]}
    if move.dry_run:  # drawn at once when it is done, with the button that makes it real
        return _console(request)
    return redirect("support:console")


def _move_followed(request) -> dict:
    """The move this agent asked for: its progress while it runs, then what it did (once), or the move
    another agent has under way."""
    following = request.session.get("clock_following") or {}
    move = ClockMove.objects.filter(pk=following.get("move")).first()
    if move is None or not move.finished:
        move = move or move_under_way()
        return {"progress": move} if move is not None else {}
    del request.session["clock_following"]
    if move.status == ClockMove.Status.FAILED:
        messages.error(request, move_failed_text(move))
        return {}
    events = _labelled(move_events(move, limit=SHOWN))
    result = {"from": move.start.isoformat(), "to": move.target.isoformat(), "count": move.happenings,
              "events": events}
    if move.dry_run:
        typed = {"how": following.get("how"), "value": following.get("value")}
        return {"clock_form": typed, "preview": {**typed, **result}}
    messages.success(request, _("The simulation date is now %(date)s. Things that happened on the way: %(n)d.")
                     % {"date": move.target.isoformat(), "n": move.happenings})
    return {"moved": result}


# --- One plan change: its timeline, its trail, and support's actions on it ----------------------------


@support_page
def change(request, change_id):
    """A change as support sees it: the steps on a timeline (start, end, duration, attempts, errors in
    words, stalled), the quote and invoice, the users moved and their reset settings, its audit trail under
    one correlation id, and what support can do about it."""
    found = support_change_get(id=change_id)
    timeline = change_timeline(found)
    names = dict(ServicePlan.objects.values_list("code", "name"))  # the catalog's names, not plan codes
    failed_step = next((line.step for line in timeline if line.step.status == PlanChangeStep.Status.FAILED), None)
    stalled_step = next((line.step for line in timeline if line.stalled), None)
    retryable = found.status == PlanChange.Status.RUNNING and (failed_step or stalled_step) is not None
    drawn = {"retry"} if retryable else {"cancel"} if found.status == PlanChange.Status.SCHEDULED else set()
    return render(request, "support/change.html", {
        "section": "support", "change": found, "timeline": timeline, "events": change_trail(found),
        "correlation": change_correlation(found), "blocker_titles": titles(found.blockers),
        "timeline_height": timeline_height(timeline),
        "reset_named": [(upn, [names.get(code, code) for code in codes])
                        for upn, codes in sorted((found.disabled_plans_before or {}).items())],
        "retryable": retryable, "failed_step": failed_step, "stalled_step": stalled_step,
        "moved": change_users_moved(found), **_kept_by_form(request, drawn),
    })


def _back(request, default: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(local_path(request.POST.get("next", ""), host=request.get_host()) or default)


def _act(request, default_back: str, action, done: str, form: str, *, named_in_url: bool = True):
    """Run one of support's actions: confirmed on the page, with the reason the console asks for (the
    service checks it, ``reason_required``); a refusal is kept for the page, with its form."""
    back = _back(request, default_back)
    if request.POST.get("confirm") != "yes":
        error_kept(request, page=back.url, form=form, message=_("Tick the box to confirm."), field="confirm")
        return back
    try:
        action(request.POST.get("reason", ""))
    except DomainError as exc:
        refusal_kept(request, exc, page=back.url, form=form, named_in_url=named_in_url)
    else:
        messages.success(request, done)
    return back


@require_POST
@support_page
def change_retry(request, change_id):
    actor = request.user.get_username()
    return _act(request, reverse("support:change", args=[change_id]),
                lambda reason: plan_change_retry(change_id=change_id, actor=actor, reason=reason,
                                                 reason_required=True),
                _("The change goes on from the step where it stopped."), "retry")


@require_POST
@support_page
def change_cancel(request, change_id):
    actor = request.user.get_username()
    return _act(request, reverse("support:change", args=[change_id]),
                lambda reason: plan_change_cancel(tenant=None, change_id=change_id, actor=actor, reason=reason,
                                                   by_support=True, reason_required=True),
                _("The scheduled change is cancelled."), "cancel")


@require_POST
@support_page
def credit_check(request, check_id):
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        back = _back(request, reverse("support:console"))
        error_kept(request, page=back.url, form=f"credit-{check_id}", message=_("Choose approve or reject."),
                   field="decision")
        return back
    actor = request.user.get_username()
    return _act(request, reverse("support:console"),
                lambda reason: credit_check_decide(check_id=check_id, approve=decision == "approve", actor=actor,
                                                   reason=reason, reason_required=True),
                _("The credit check is approved.") if decision == "approve" else _("The credit check is rejected."),
                f"credit-{check_id}")


@require_POST
@support_page
def incident_create(request):
    actor = request.user.get_username()

    def open_it(reason):
        incident_open(tenant=tenant_get(id=request.POST.get("tenant", "")), service=request.POST.get("service", ""),
                      status=request.POST.get("status", ""), title=request.POST.get("title", ""), actor=actor,
                      reason=reason, reason_required=True)

    # The organization is the form's own field: one that isn't there is refused beside it, not a missing page.
    return _act(request, reverse("support:console"), open_it, _("The incident is open."), "incident",
                named_in_url=False)


@require_POST
@support_page
def incident_change(request, incident_id):
    actor = request.user.get_username()
    status = request.POST.get("status", "")
    return _act(request, reverse("support:console"),
                lambda reason: incident_update(incident_id=incident_id, status=status, actor=actor, reason=reason,
                                               reason_required=True),
                _("The incident is updated."), f"incident-{incident_id}")


@require_POST
@support_page
def provision(request, subscription_id):
    actor = request.user.get_username()
    return _act(request, reverse("support:console"),
                lambda reason: subscription_provisioning_finish(subscription_id=subscription_id, actor=actor,
                                                                reason=reason, reason_required=True),
                _("The subscription is set up."), f"provision-{subscription_id}")


# --- Tenants, and a tenant's view as its Global reader sees it -----------------------------------------


@support_page
def tenants(request):
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(support_tenant_list(search=search), 50).get_page(request.GET.get("page"))
    return render(request, "support/tenants.html", {"section": "support", "rows": support_tenants(tenants=page),
                                                    "page": page, "search": search, "today": clock.today()})


@support_page
def tenant_payments(request, tenant_id):
    """How a tenant's payers pay their invoices as the days pass (``billing.habits``), each with its form."""
    tenant = tenant_get(id=tenant_id)
    payers = [(payer, f"habit-{payer.billing_profile_id or 'tenant'}") for payer in payers_of(tenant=tenant)]
    return render(request, "support/payments.html", {
        "section": "support", "tenant": tenant, "payers": payers, "habits": PaymentHabit.choices,
        **_kept_by_form(request, {form for _payer, form in payers})})


@require_POST
@support_page
def payment_habit(request, tenant_id):
    tenant, actor = tenant_get(id=tenant_id), request.user.get_username()
    profile = request.POST.get("billing_profile", "")
    return _act(request, reverse("support:tenant-payments", args=[tenant.pk]),
                lambda reason: payment_habit_set(
                    tenant=tenant, billing_profile_id=profile or None, habit=request.POST.get("payment_habit", ""),
                    delay_days=request.POST.get("payment_delay_days", "").strip() or None, actor=actor, reason=reason,
                    reason_required=True),
                _("The payment habit is set."), f"habit-{profile or 'tenant'}")


@require_POST
@support_page
def view_as(request, tenant_id):
    """Look at a tenant's admin center as its Global reader would (read-only; a banner says so)."""
    request.session["view_as_tenant"] = tenant_get(id=tenant_id).pk
    return redirect("home")


@require_POST
@support_page
def view_as_stop(request):
    request.session.pop("view_as_tenant", None)
    return redirect("support:tenants")
