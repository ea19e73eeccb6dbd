"""Change plans manually: the article's four steps as a checklist."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from billing.manual_path import manual_path_steps
from billing.selectors import (
    subscription_list,
)
from portal.decorators import tenant_page
from portal.inputs import LICENSES_MAX, parse_id, whole_number


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
