"""The edits on a subscription's page (Billing > Your products > a subscription): recurring billing,
Cancel subscription, Buy or Remove licenses, add-ons removed and added back. Each posts to billing's
service and goes back to the page with what happened."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from billing.selectors import (
    subscription_get,
)
from billing.services import (
    subscription_addon_add,
    subscription_addon_remove,
    subscription_cancel,
    subscription_licenses_change,
    subscription_update,
)
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import LICENSES_MAX, whole_number
from portal.roles import BILLING_WRITERS


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def recurring_billing(request, subscription_id):
    """Turn recurring billing on or off; on, for an Expired or Disabled subscription, reactivates it."""
    before = subscription_get(tenant=request.tenant, subscription_id=subscription_id).status  # another's: 404
    choice = request.POST.get("enabled")
    if choice not in ("on", "off"):
        messages.error(request, _("Choose whether recurring billing is on or off."))
        return redirect("planchange:subscription", subscription_id=subscription_id)
    enabled = choice == "on"
    try:
        sub = subscription_update(tenant=request.tenant, subscription_id=subscription_id,
                                  actor=request.user.get_username(), recurring_billing=enabled)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        if before != sub.status:
            messages.success(request, _("The subscription is active again: a new term starts today and its first "
                                        "billing period is invoiced now."))
        else:
            messages.success(request, _("Recurring billing is on.") if sub.recurring_billing
                             else _("Recurring billing is off: the subscription expires at the end of its term."))
    return redirect("planchange:subscription", subscription_id=subscription_id)


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def cancel_subscription(request, subscription_id):
    """Cancel subscription (Microsoft's "Cancel your subscription"): confirmed, refused with the reason
    and what to do instead, or done with the credit it gave."""
    subscription_get(tenant=request.tenant, subscription_id=subscription_id)  # another tenant's: 404
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirm that users lose access and that the data is deleted after 90 days."))
        return redirect("planchange:subscription", subscription_id=subscription_id)
    try:
        sub = subscription_cancel(tenant=request.tenant, subscription_id=subscription_id,
                                  actor=request.user.get_username())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        line = sub.credit_line
        if line is None:
            messages.success(request, _("The subscription is cancelled."))
        else:
            messages.success(request, _("The subscription is cancelled. A credit of USD %(amount)s for its unused days "
                                        "is on invoice %(number)s.") % {"amount": -line.amount,
                                                                        "number": line.invoice.number})
    return redirect("planchange:subscription", subscription_id=subscription_id)


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def licenses(request, subscription_id):
    """Buy licenses / Remove licenses on the subscription page."""
    current = subscription_get(tenant=request.tenant, subscription_id=subscription_id)  # another tenant's: 404
    action = request.POST.get("action")
    count = whole_number(request.POST.get("count", "").strip(), min_value=1, max_value=LICENSES_MAX)
    if action == "keep":  # drop a removal scheduled for the renewal
        try:
            subscription_update(tenant=request.tenant, subscription_id=subscription_id,
                                actor=request.user.get_username(), licenses=current.licenses)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("No licenses will be removed at the renewal."))
    elif action not in ("buy", "remove"):
        messages.error(request, _("Choose whether to buy or remove licenses."))
    elif count is None:
        messages.error(request, _("Enter a whole number of licenses from 1 to 1,000,000."))
    else:
        try:
            sub = subscription_licenses_change(tenant=request.tenant, subscription_id=subscription_id,
                                               actor=request.user.get_username(),
                                               **{"add" if action == "buy" else "remove": count})
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            invoice = getattr(sub, "licenses_invoice", None)
            if sub.licenses_effective != "now":
                text = ngettext("%(count)d license will be removed at the renewal on %(date)s; until then users keep "
                                "all %(licenses)d.", "%(count)d licenses will be removed at the renewal on %(date)s; "
                                "until then users keep all %(licenses)d.", count)
                messages.success(request, text % {"count": count, "date": sub.licenses_effective.isoformat(),
                                                  "licenses": sub.licenses})
            else:
                text = (ngettext("%(count)d license bought: the subscription has %(licenses)d.",
                                 "%(count)d licenses bought: the subscription has %(licenses)d.", count)
                        if action == "buy" else
                        ngettext("%(count)d license removed: the subscription has %(licenses)d.",
                                 "%(count)d licenses removed: the subscription has %(licenses)d.", count))
                text %= {"count": count, "licenses": sub.licenses}
                if invoice is not None:
                    text += " " + _("The rest of the billing period is on invoice %(number)s.") % {
                        "number": invoice.number}
                messages.success(request, text)
    return redirect(reverse("planchange:subscription", args=[subscription_id]) + "#licenses")


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


@require_POST
@tenant_page
@writes(BILLING_WRITERS)
def addon_add(request, subscription_id, code):
    """Add an add-on back, confirmed; refused with the reason (e.g. a change scheduled that it would stop)."""
    subscription_get(tenant=request.tenant, subscription_id=subscription_id)  # another tenant's: 404
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Confirm that you want to add the add-on back."))
        return redirect("planchange:subscription", subscription_id=subscription_id)
    try:
        sub = subscription_addon_add(tenant=request.tenant, subscription_id=subscription_id, code=code,
                                     actor=request.user.get_username())
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        addon = sub.subscription_addons.select_related("addon").get(addon__code=code).addon
        if addon.blocks_plan_change:
            messages.success(request, _("%(addon)s was added back. It prevents an automatic plan change: remove it "
                                        "again before you change plans.") % {"addon": addon.name})
        else:
            messages.success(request, _("%(addon)s was added back.") % {"addon": addon.name})
    return redirect("planchange:subscription", subscription_id=subscription_id)
