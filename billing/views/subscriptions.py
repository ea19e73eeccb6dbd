"""The edits on a subscription's page (Billing > Your products > a subscription): recurring billing,
Cancel subscription, Buy or Remove licenses, add-ons removed and added back, a trial's Extend trial and
Purchase subscription. Each passes what it got
to billing's service and goes back to the page with what happened; a refusal is kept for the page,
beside the form it came from (``portal.pages``)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from billing.money import money_text
from billing.services import (
    subscription_addon_add,
    subscription_addon_remove,
    subscription_cancel,
    subscription_licenses_change,
    subscription_licenses_keep,
    subscription_trial_extend,
    subscription_trial_purchase,
    subscription_update,
)
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import LICENSES_MAX, whole_number
from portal.pages import error_kept, refusal_kept
from portal.roles import BILLING_WRITERS

# An add-on the page named that is gone since (removed twice, a stale page): the page says so, it isn't missing.
ADDON_GONE = frozenset({"addon_not_found"})


def _page(subscription_id) -> str:
    """The subscription's page: where each edit goes back to, and the page its refusal is kept for."""
    return reverse("planchange:subscription", args=[subscription_id])


def _back(subscription_id, anchor: str = ""):
    return redirect(_page(subscription_id) + (f"#{anchor}" if anchor else ""))


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def recurring_billing(request, subscription_id):
    """Turn recurring billing on or off; on, for an Expired or Disabled subscription, reactivates it."""
    page = _page(subscription_id)
    choice = request.POST.get("enabled")
    if choice not in ("on", "off"):
        error_kept(request, page=page, form="recurring_billing",
                   message=_("Choose whether recurring billing is on or off."))
        return _back(subscription_id, "billing")
    try:
        sub = subscription_update(tenant=request.tenant, subscription_id=subscription_id,
                                  actor=request.user.get_username(), recurring_billing=choice == "on")
    except DomainError as exc:
        refusal_kept(request, exc, page=page, form="recurring_billing")
    else:
        if getattr(sub, "reactivated", False):
            messages.success(request, _("The subscription is active again: a new term starts today and its first "
                                        "billing period is invoiced now."))
        else:
            messages.success(request, _("Recurring billing is on.") if sub.recurring_billing
                             else _("Recurring billing is off: the subscription expires at the end of its term."))
    return _back(subscription_id, "billing")


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def cancel_subscription(request, subscription_id):
    """Cancel subscription (Microsoft's "Cancel your subscription"): confirmed, refused with the reason
    and what to do instead, or done with the credit it gave."""
    page = _page(subscription_id)
    if request.POST.get("confirm") != "yes":
        error_kept(request, page=page, form="cancel", message=_(
            "Confirm that users lose access and that the data is deleted after 90 days."), field="confirm")
        return _back(subscription_id)
    try:
        sub = subscription_cancel(tenant=request.tenant, subscription_id=subscription_id,
                                  actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=page, form="cancel")
    else:
        line = sub.credit_line
        if line is None:
            messages.success(request, _("The subscription is cancelled."))
        else:
            messages.success(request, _("The subscription is cancelled. A credit of %(amount)s for its unused days "
                                        "is on invoice %(number)s.") % {"amount": money_text(-line.amount),
                                                                        "number": line.invoice.number})
    return _back(subscription_id)


def _licenses_done(request, sub, *, action: str, count: int) -> None:
    """What buying or removing did, on the page: now (with the invoice of the rest of the period) or at the
    renewal."""
    if sub.licenses_effective != "now":
        text = ngettext("%(count)d license will be removed at the renewal on %(date)s; until then users keep "
                        "all %(licenses)d.", "%(count)d licenses will be removed at the renewal on %(date)s; "
                        "until then users keep all %(licenses)d.", count)
        messages.success(request, text % {"count": count, "date": sub.licenses_effective.isoformat(),
                                          "licenses": sub.licenses})
        return
    text = (ngettext("%(count)d license bought: the subscription has %(licenses)d.",
                     "%(count)d licenses bought: the subscription has %(licenses)d.", count)
            if action == "buy" else
            ngettext("%(count)d license removed: the subscription has %(licenses)d.",
                     "%(count)d licenses removed: the subscription has %(licenses)d.", count))
    text %= {"count": count, "licenses": sub.licenses}
    invoice = getattr(sub, "licenses_invoice", None)
    if invoice is not None:
        text += " " + _("The rest of the billing period is on invoice %(number)s.") % {"number": invoice.number}
    messages.success(request, text)


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def licenses(request, subscription_id):
    """Buy licenses / Remove licenses on the subscription page, or keep the licenses a removal scheduled
    for the renewal would take away."""
    page = _page(subscription_id)
    action = request.POST.get("action")
    form = f"licenses_{action}" if action in ("buy", "remove", "keep") else "licenses"
    count = whole_number(request.POST.get("count", "").strip(), min_value=1, max_value=LICENSES_MAX)
    if action not in ("buy", "remove", "keep"):
        error_kept(request, page=page, form=form, message=_("Choose whether to buy or remove licenses."))
    elif action != "keep" and count is None:
        error_kept(request, page=page, form=form, message=_("Enter a whole number of licenses from 1 to 1,000,000."),
                   field="licenses")
    else:
        try:
            if action == "keep":  # drop a removal scheduled for the renewal
                subscription_licenses_keep(tenant=request.tenant, subscription_id=subscription_id,
                                           actor=request.user.get_username())
                messages.success(request, _("No licenses will be removed at the renewal."))
            else:
                sub = subscription_licenses_change(tenant=request.tenant, subscription_id=subscription_id,
                                                   actor=request.user.get_username(),
                                                   **{"add" if action == "buy" else "remove": count})
                _licenses_done(request, sub, action=action, count=count)
        except DomainError as exc:
            refusal_kept(request, exc, page=page, form=form)
    return _back(subscription_id, "licenses")


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def addon_remove(request, subscription_id, code):
    """Remove an add-on, confirmed ("you can add it back later if you still need it")."""
    page = _page(subscription_id)
    if request.POST.get("confirm") != "yes":
        error_kept(request, page=page, form="addons", message=_("Confirm that you want to remove the add-on."),
                   field="confirm")
        return _back(subscription_id, "addons")
    try:
        subscription_addon_remove(tenant=request.tenant, subscription_id=subscription_id, code=code,
                                  actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=page, form="addons", shown=ADDON_GONE)
    else:
        messages.success(request, _("The add-on was removed. You can add it back later if you still need it."))
    return _back(subscription_id, "addons")


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def addon_add(request, subscription_id, code):
    """Add an add-on back, confirmed; refused with the reason (e.g. a change scheduled that it would stop)."""
    page = _page(subscription_id)
    if request.POST.get("confirm") != "yes":
        error_kept(request, page=page, form="addons", message=_("Confirm that you want to add the add-on back."),
                   field="confirm")
        return _back(subscription_id, "addons")
    try:
        sub = subscription_addon_add(tenant=request.tenant, subscription_id=subscription_id, code=code,
                                     actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=page, form="addons", shown=ADDON_GONE)
    else:
        addon = sub.addon_added
        if addon.blocks_plan_change:
            messages.success(request, _("%(addon)s was added back. It prevents an automatic plan change: remove it "
                                        "again before you change plans.") % {"addon": addon.name})
        else:
            messages.success(request, _("%(addon)s was added back.") % {"addon": addon.name})
    return _back(subscription_id, "addons")


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def trial_extend(request, subscription_id):
    """Extend trial: 30 more days, once; a second time is refused beside the button."""
    try:
        sub = subscription_trial_extend(tenant=request.tenant, subscription_id=subscription_id,
                                        actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=_page(subscription_id), form="trial")
    else:
        messages.success(request, _("The trial is extended by 30 days: it ends on %(date)s.") % {
            "date": sub.trial_ends_on.isoformat()})
    return _back(subscription_id, "trial")


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def trial_purchase(request, subscription_id):
    """Purchase subscription: the trial becomes a paid subscription now, billing starts today."""
    try:
        sub = subscription_trial_purchase(tenant=request.tenant, subscription_id=subscription_id,
                                          actor=request.user.get_username())
    except DomainError as exc:
        refusal_kept(request, exc, page=_page(subscription_id), form="trial")
        return _back(subscription_id, "trial")
    text = _("You bought the subscription: billing starts today.")
    if sub.trial_invoice is not None:
        text += " " + _("Its first billing period is on invoice %(number)s.") % {"number": sub.trial_invoice.number}
    messages.success(request, text)
    return _back(subscription_id)
