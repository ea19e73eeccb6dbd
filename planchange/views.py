"""Pages of the plan change: subscription details, Available upgrades, Checkout (MOSA),
the Change plan pane (MCA), and the change's progress."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.models import BillingFrequency, Product, Subscription, Term
from billing.periods import renewal_date
from billing.selectors import (
    addons_restorable,
    credit_check_pending,
    licenses_editable,
    licenses_remove_window,
    payment_method_list,
    service_plan_names,
    subscription_get,
    subscription_list,
)
from billing.views.forms import card_from
from licensing.preview_csv import FILTERS, user_changes_csv, user_changes_fields
from planchange.blockers import TEXTS, Code, titles
from planchange.inputs import Blocked
from planchange.models import LIVE_STATUSES, PlanChange
from planchange.progress import change_timeline, timeline_height
from planchange.selectors import (
    change_events,
    change_warnings,
    changes_failed_recently,
    completed_change_creating,
    eligibility_for,
    live_change_for,
    plan_change_get,
    quote_users,
    scheduled_change_warnings,
)
from planchange.services import (
    checkout_place_order,
    plan_change_cancel,
    plan_change_preview,
    plan_change_request,
)
from portal import clock
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import LICENSES_MAX, whole_number
from portal.pages import refusal, refusal_kept
from portal.roles import BILLING_WRITERS, may
from portal.selectors import incidents_open


def into_summary(inputs) -> dict | None:
    """Where a change into a subscription the tenant has takes the users: that subscription, its licenses
    before and after, and how many users already hold it (they keep that license)."""
    if inputs.into is None:
        return None
    into = inputs.into
    return {"subscription": into, "before": into.licenses, "after": into.licenses + inputs.licenses,
            "keeping": max(inputs.subscription.assigned_licenses - inputs.licenses, 0)}


def _failure_reasons(change, eligibility) -> list[dict]:
    """Why a change failed, in the article's words, with the fix where it still applies."""
    now = {b.code: b for b in eligibility.blockers}
    reasons = []
    for code in change.blockers or []:
        title = (titles([code]) or [code])[0]
        still = now.get(code)
        reasons.append({"code": code, "title": title, "resolution": str(TEXTS[code][1]) if code in TEXTS else "",
                        "action": still.action if still else None, "fixed": still is None})
    if not reasons:
        reasons.append({"code": change.error_code, "title": change.error_message, "resolution": "", "action": None,
                        "fixed": False})
    return reasons


def _subscription_context(eligibility) -> dict:
    """What the subscription details page shows (also behind the Change plan pane)."""
    sub = eligibility.subscription
    live = live_change_for(subscription=sub)
    failed = None if live else changes_failed_recently(tenant=sub.tenant, subscription=sub).first()
    created_by = completed_change_creating(subscription=sub)
    return {
        "live_change": live,
        "warnings": scheduled_change_warnings(live) if live and live.status == PlanChange.Status.SCHEDULED else [],
        "failed_change": failed,
        "failure_reasons": _failure_reasons(failed, eligibility) if failed else [],
        # The page already shows this subscription's own change; don't list it as a blocker too.
        "why_blockers": [b for b in eligibility.blockers if not (live and b.code == Code.CHANGE_IN_PROGRESS)],
        "created_by": created_by,
        "reset_plans": _reset_plans(created_by),
        "section": "billing",
        "sub": sub,
        "eligibility": eligibility,
        "renewal": renewal_date(start=sub.start_date, term=sub.term, today=eligibility.today)
        if sub.status == Subscription.Status.ACTIVE and sub.source != Subscription.Source.TRIAL else None,  # it ends
        "service_plans": sorted(eligibility.product.service_plans.all(), key=lambda p: (p.service, p.level)),
        "addons": list(sub.subscription_addons.all()),
        "addons_back": addons_restorable(subscription=sub) if sub.status == Subscription.Status.ACTIVE else [],
        **_licenses_context(sub, eligibility.today),
    }


def _reset_plans(change) -> list[tuple[str, list[str]]]:
    """The services a completed change turned back on, by user: the catalog's names, not the plans' codes."""
    if change is None or not change.disabled_plans_before:
        return []
    names = service_plan_names()
    return [(upn, [names.get(code, code) for code in codes]) for upn, codes in change.disabled_plans_before.items()]


def _licenses_context(sub, today) -> dict:
    """The Licenses card: whether licenses can be bought or removed now, and when a removal applies."""
    refused = licenses_editable(sub, credit_check=credit_check_pending(tenant=sub.tenant))
    active = sub.status == Subscription.Status.ACTIVE
    remove_now, renewal = licenses_remove_window(sub, today=today) if active else (False, None)
    removable = max(sub.licenses - max(sub.assigned_licenses, 1), 0)
    buy_drawn = active and not sub.change_in_progress and not refused
    return {"licenses_refused": refused, "remove_now": remove_now, "remove_on": renewal, "removable": removable,
            "buyable": max(sub.product.licenses_limit - sub.licenses, 0),
            # A refusal kept for a form the card draws is shown beside its field, else at the card's top.
            "buy_drawn": buy_drawn, "remove_drawn": buy_drawn and removable > 0}


@tenant_page
def subscription_detail(request, subscription_id):
    eligibility = eligibility_for(tenant=request.tenant, subscription_id=subscription_id)
    return render(request, "planchange/subscription_detail.html", _subscription_context(eligibility))


@tenant_page
def available_upgrades(request, subscription_id):
    eligibility = eligibility_for(tenant=request.tenant, subscription_id=subscription_id)
    return render(request, "planchange/available_upgrades.html", {
        "section": "billing", "sub": eligibility.subscription, "eligibility": eligibility,
    })




# A quote the page carried that no longer holds (expired, stale, or gone): a warning, and the page draws a
# fresh one with the numbers as they are now.
QUOTE_GONE = frozenset({"quote_stale", "quote_expired", "quote_not_found"})


@tenant_page
@writes(BILLING_WRITERS)
def checkout(request, subscription_id, sku):
    """MOSA: Checkout — Sold to, Billed to, Items in this order, payment method, Place order. Place order
    goes straight to the service (it checks everything, once); the page is drawn for a look, or again
    with what refused the order."""
    if request.tenant.has_billing_profile:  # MCA: the pane, with the plan and the offer chosen
        chosen = {"target_sku": sku, **{k: request.GET[k] for k in ("term", "billing_frequency") if request.GET.get(k)}}
        return redirect(f"{reverse('planchange:change-option', args=[subscription_id])}?{urlencode(chosen)}")
    data = request.POST if request.method == "POST" else request.GET
    term, billing_frequency = data.get("term") or None, data.get("billing_frequency") or None
    errors = {}
    if request.method == "POST":
        try:
            user_changes_fields(request.POST)  # the table's filter posts with the order: a value it knows, or none
            change = checkout_place_order(
                tenant=request.tenant, user=request.user, subscription_id=subscription_id, target_sku=sku, term=term,
                billing_frequency=billing_frequency, payment_choice=request.POST.get("payment_method", ""),
                card=card_from(request.POST), quote_id=request.POST.get("quote_id") or None)
        except DomainError as exc:
            if exc.code in QUOTE_GONE:
                messages.warning(request, exc.detail)
            elif exc.code != Code.CHANGE_IN_PROGRESS:  # a second click on Place order: the change it placed, below
                errors = refusal(exc)
        else:
            return redirect("planchange:change", change_id=change.pk)
    return _checkout_page(request, subscription_id, sku, term=term, billing_frequency=billing_frequency, errors=errors)


def _checkout_page(request, subscription_id, sku, *, term, billing_frequency, errors):
    """Checkout with its quote (stored only for a role that may order it: a Global reader's visit writes
    nothing); a change under way shows instead, and a plan that can't be ordered sends back to Available
    upgrades saying why."""
    sub = subscription_get(tenant=request.tenant, id=subscription_id)
    live = live_change_for(subscription=sub)
    if live is not None and live.status != PlanChange.Status.SCHEDULED:  # e.g. a second click on Place order
        return redirect("planchange:change", change_id=live.pk)
    try:
        quote = plan_change_preview(tenant=request.tenant, subscription_id=sub.pk, target_sku=sku, term=term,
                                    billing_frequency=billing_frequency, store=may(request.roles, BILLING_WRITERS))
    except Blocked:
        product = Product.objects.get(sku=sku)
        messages.error(request, _("%(product)s can't be ordered as an automatic change.") % {"product": product.name})
        return redirect("planchange:upgrades", subscription_id=sub.pk)
    except DomainError as exc:
        if exc.code in ("unknown_sku", "same_plan"):  # no such offer on Available upgrades
            raise Http404 from exc
        messages.error(request, exc.detail)
        return redirect("planchange:upgrades", subscription_id=sub.pk)
    return render(request, "planchange/checkout.html", {
        "section": "billing", "sub": sub, "target": quote.inputs.target_option, "quote": quote_users(quote),
        "term": quote.term, "billing_frequency": quote.billing_frequency, "errors": errors, "posted": request.POST,
        "into": into_summary(quote.inputs),
        "methods": payment_method_list(tenant=request.tenant),
        "selected_method": request.POST.get("payment_method") or str(sub.payment_method_id or ""),
    })


@tenant_page
@writes(BILLING_WRITERS)
def change_option(request, subscription_id):
    """MCA: the right-hand pane of "Change to a different subscription option". Change plan goes straight to
    the service (it checks everything, once); the pane is drawn for a look, or again with what refused it."""
    if not request.tenant.has_billing_profile:
        return redirect("planchange:upgrades", subscription_id=subscription_id)
    choice, errors = _pane_choice(request.POST if request.method == "POST" else request.GET)
    if request.method == "POST" and not errors:
        try:
            change = plan_change_request(tenant=request.tenant, user=request.user, subscription_id=subscription_id,
                                         quote_id=request.POST.get("quote_id") or None, **choice)
        except Blocked:
            pass  # the pane shows why: "Why can't I change plans?" and the target's own reasons
        except DomainError as exc:
            if exc.code in QUOTE_GONE:
                messages.warning(request, exc.detail)
            else:
                errors = refusal(exc)
        else:
            if change.status == PlanChange.Status.SCHEDULED:
                messages.success(request, _("The change is scheduled for %(date)s.")
                                 % {"date": change.scheduled_for.isoformat()})
                return redirect("planchange:subscription", subscription_id=subscription_id)
            return redirect("planchange:change", change_id=change.pk)
    return _pane_page(request, subscription_id, choice, errors)


def _pane_page(request, subscription_id, choice: dict, errors: dict):
    eligibility = eligibility_for(tenant=request.tenant, subscription_id=subscription_id)
    sub = eligibility.subscription
    recommended = [t.product.sku for t in eligibility.recommended]
    choice = {**choice, "target_sku": choice["target_sku"] or (recommended[0] if recommended else ""),
              "term": choice["term"] or sub.term, "billing_frequency": choice["billing_frequency"]
              or sub.billing_frequency}
    sent = request.POST if request.method == "POST" else request.GET
    if not sent.get("schedule") and choice["target_sku"] in {t.product.sku for t in eligibility.renewal_only}:
        choice["schedule"] = PlanChange.Schedule.RENEWAL  # a plan that costs less: the renewal only
    into = next((t.into for t in eligibility.targets if t.product.sku == choice["target_sku"] and t.into), None)
    if into is not None:  # into a subscription the tenant has: its offer, one license per user who moves
        choice = {**choice, "term": into.term, "billing_frequency": into.billing_frequency, "licenses": None}
    quote, quote_error = (None, errors["licenses"]) if "licenses" in errors else _pane_quote(request, sub, choice)
    pane = {
        "choice": choice, "quote": quote, "quote_error": quote_error, "errors": errors, "terms": Term.choices,
        "frequencies": BillingFrequency.choices,
        "pane_renewal": renewal_date(start=sub.start_date, term=sub.term, today=eligibility.today),
        "into": into_summary(quote.inputs) if quote is not None else None,
    }
    if choice["schedule"] == PlanChange.Schedule.RENEWAL and quote is not None:
        pane["warnings"] = change_warnings(eligibility=eligibility, on=quote.effective_date)
    if request.GET.get("fragment") == "quote":
        return render(request, "planchange/_pane_quote.html", pane)
    return render(request, "planchange/change_option.html", {**_subscription_context(eligibility), **pane})


def _pane_choice(data) -> tuple[dict, dict]:
    """The pane's choices as sent (the service fills in what is left out), and an error for a number of
    licenses that isn't a whole number from 1 to 1,000,000 in ASCII digits (the product's own maximum is
    the service's to check)."""
    raw = data.get("licenses", "").strip()
    licenses = whole_number(raw, min_value=1, max_value=LICENSES_MAX) if raw else None
    errors = {}
    if raw and licenses is None:
        errors["licenses"] = _("Enter a whole number of licenses from 1 to 1,000,000.")
    return {
        "target_sku": data.get("target_sku", ""), "licenses": licenses,
        "schedule": data.get("schedule") or PlanChange.Schedule.NOW,
        "term": data.get("term") or None, "billing_frequency": data.get("billing_frequency") or None,
    }, errors


def _pane_quote(request, sub, choice):
    try:
        return quote_users(plan_change_preview(tenant=request.tenant, subscription_id=sub.pk,
                                               store=may(request.roles, BILLING_WRITERS), **choice)), None
    except Blocked as exc:
        return None, "; ".join(b["title"] for b in exc.extra["blockers"])
    except DomainError as exc:
        return None, str(exc.detail)


@tenant_page
def change_detail(request, change_id):
    """The change's progress page (its steps update live)."""
    change = plan_change_get(tenant=request.tenant, id=change_id)
    return render(request, "planchange/change.html", {"section": "billing", "change": change,
                                                      **_outcome(change)})


@tenant_page
def change_progress(request, change_id):
    """The progress fragment the page polls."""
    change = plan_change_get(tenant=request.tenant, id=change_id)
    return render(request, "planchange/_progress.html", {"change": change, **_outcome(change)})


def _outcome(change) -> dict:
    blockers = [{"code": code, "title": str(TEXTS[code][0]), "resolution": str(TEXTS[code][1])}
                for code in change.blockers if code in TEXTS]
    timeline = change_timeline(change)
    return {"final": change.status not in LIVE_STATUSES, "blockers": blockers,
            "events": change_events(change=change), "timeline": timeline, "timeline_height": timeline_height(timeline)}


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def cancel_change(request, subscription_id, change_id):
    if plan_change_get(tenant=request.tenant, id=change_id).subscription_id != subscription_id:
        raise Http404  # the URL names another subscription's change
    try:
        plan_change_cancel(tenant=request.tenant, change_id=change_id, actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=reverse("planchange:subscription", args=[subscription_id]),
                     form="scheduled_change")
    else:
        messages.success(request, _("The scheduled change was cancelled."))
    return redirect("planchange:subscription", subscription_id=subscription_id)


@tenant_page
def home(request):
    """Home: the tenant at a glance, and the plan changes that need the admin (failed recently)."""
    subscriptions = list(subscription_list(tenant=request.tenant))
    failed = list(changes_failed_recently(tenant=request.tenant)[:5])
    live = list(PlanChange.objects.filter(tenant=request.tenant, status__in=LIVE_STATUSES)
                .select_related("subscription__product", "target_product").order_by("requested_at", "pk")[:10])
    recent = list(PlanChange.objects.filter(tenant=request.tenant, status=PlanChange.Status.COMPLETED,
                                            completed_at__gte=clock.now() - timedelta(days=30))
                  .select_related("subscription__product", "target_product").order_by("-completed_at", "-pk")[:5])
    active = [s for s in subscriptions if s.status == Subscription.Status.ACTIVE]
    return render(request, "portal/home.html", {
        "active_count": len(active),
        "license_total": sum(s.licenses for s in active),
        "assigned_total": sum(s.assigned_licenses for s in active),
        "open_incidents": incidents_open(tenant=request.tenant).count(),
        "failed_changes": [{"change": c, "reasons": titles(c.blockers) or [c.error_message]} for c in failed],
        "live_changes": live, "recent_changes": recent,
        "today": clock.today(),
        "section": "home",
    })


@tenant_page
def users_csv(request, subscription_id):
    """Each user's change of an automatic change to ``target_sku`` (Checkout's and the pane's "Each user"),
    every user, as CSV; ``only`` narrows it as the table's filter does. Reads, stores no quote."""
    only = request.GET.get("only") or None
    if only is not None and only not in FILTERS:
        raise Http404
    try:
        quote = quote_users(plan_change_preview(
            tenant=request.tenant, subscription_id=subscription_id, target_sku=request.GET.get("target_sku", ""),
            term=request.GET.get("term") or None, billing_frequency=request.GET.get("billing_frequency") or None,
            store=False))
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("planchange:upgrades", subscription_id=subscription_id)
    text = user_changes_csv(quote.users_preview, source=quote.subscription.product.name,
                            target=quote.target_product.name, only=only)
    return HttpResponse(text, content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="plan-change-users.csv"'})
