"""Users > Active users: search, a subscription filter, pagination, selecting users (on the page or
all that match) and the Manage product licenses pane: assign, unassign, or Replace after a review
of what changes for each user."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from billing.models import Subscription
from billing.selectors import subscription_get, subscription_list
from licensing.preview_csv import user_changes_csv, user_changes_fields
from licensing.selectors import user_list
from licensing.services import (
    license_assign,
    license_replace,
    license_replace_preview,
    license_unassign,
    license_unassign_preview,
)
from portal.decorators import tenant_page, writes
from portal.errors import DomainError
from portal.inputs import local_path, parse_id
from portal.pages import kept_errors, refusal_kept
from portal.roles import LICENSE_WRITERS

PAGE_SIZE = 50
SELECT_MAX = 10_000  # users one action may take ("all N matching" included), as the API's bound

# Microsoft's guidance for keeping data before a plan with fewer data-related services.
BACKUP_GUIDANCE = [
    (gettext_lazy("Back up data before switching plans"),
     "https://learn.microsoft.com/microsoft-365/commerce/subscriptions/back-up-data-before-switching-plans"),
    (gettext_lazy("Mail: export to an Outlook .pst file"),
     "https://support.microsoft.com/office/export-or-backup-email-contacts-and-calendar-to-an-outlook-pst-file-"
     "14252b52-3075-4e9b-be4e-ff9ef1068f91"),
    (gettext_lazy("OneDrive and SharePoint: download files and folders"),
     "https://support.microsoft.com/office/download-files-and-folders-from-onedrive-or-sharepoint-"
     "5c7397b7-19c7-4893-84fe-d02e8fa5df05"),
    (gettext_lazy("Viva Engage: export the network's data"),
     "https://learn.microsoft.com/viva/engage/manage-security-and-compliance/export-yammer-enterprise-data"),
]


def _filters(data) -> dict:
    """The list's filters as a page's query string carries them (``subscription``, ``q``)."""
    return {"subscription": data.get("subscription", ""), "q": data.get("q", "").strip()}


def _subscription_filter(request, raw):
    return subscription_get(tenant=request.tenant, id=parse_id(raw)) if raw else None


def _matching(request, filters, subscription):
    return user_list(tenant=request.tenant, search=filters["q"],
                     subscription_id=subscription.pk if subscription else None)


def _selection(request, data, filters, subscription) -> dict:
    """Who is selected: the users ticked, or every user matching the filters (``all``; ``subscription``:
    the filter's, read by the caller: one nobody has is the page's 404)."""
    if data.get("all", "") not in ("", "1"):
        raise DomainError(_("Select the users again."), code="invalid_selection")
    if data.get("all") == "1":
        upns = list(_matching(request, filters, subscription).values_list("upn", flat=True)[:SELECT_MAX + 1])
        return {"all": True, "upns": upns, "count": len(upns)}
    upns = list(dict.fromkeys(u.strip().lower() for u in data.getlist("users")))
    return {"all": False, "upns": upns, "count": len(upns)}


def _page_context(request, filters) -> dict:
    subscription = _subscription_filter(request, filters["subscription"])
    page = Paginator(_matching(request, filters, subscription), PAGE_SIZE).get_page(request.GET.get("page"))
    subscriptions = [s for s in subscription_list(tenant=request.tenant) if s.status == Subscription.Status.ACTIVE]
    return {
        "section": "users", "page": page, "search": filters["q"], "subscription": subscription,
        "subscriptions": subscriptions, "errors": list(kept_errors(request).get("licenses", {}).values()),
        "filter_query": urlencode({k: v for k, v in filters.items() if v}),
    }


@tenant_page
def active_users(request):
    filters = _filters(request.GET)
    context = _page_context(request, filters)
    if request.GET.get("pane") == "licenses":
        try:
            selection = _selection(request, request.GET, filters, context["subscription"])
        except DomainError as exc:
            context["errors"] = [*context["errors"], str(exc.detail)]
        else:
            context["pane"] = {"selection": selection, "too_many": selection["count"] > SELECT_MAX,
                               "action": request.GET.get("action", "assign")}
    context["selected"] = set(request.GET.getlist("users"))
    return render(request, "licensing/active_users.html", context)


def _back(request) -> str:
    return local_path(request.POST.get("next", ""), host=request.get_host()) or reverse("users:active")


@dataclass
class _LicensesForm:
    """Manage product licenses as posted: ids as whole numbers in ASCII digits (anything else is None,
    which the services answer "No such subscription."; int() would take '٤' as 4)."""

    action: str | None
    step: str
    reviewed: str
    subscription: int | None
    to_subscription: int | None
    filters: dict
    back: str

    @classmethod
    def of(cls, request) -> "_LicensesForm":
        post = request.POST
        return cls(action=post.get("action"), step=post.get("step", ""), reviewed=post.get("reviewed", ""),
                   subscription=parse_id(post.get("subscription")),
                   to_subscription=parse_id(post.get("to_subscription")),
                   filters={"subscription": post.get("filter_subscription", ""), "q": post.get("filter_q", "")},
                   back=_back(request))

    @property
    def done(self) -> str:
        query = urlencode({k: v for k, v in self.filters.items() if v})
        return reverse("users:active") + (f"?{query}" if query else "")


@require_POST
@tenant_page
@writes(LICENSE_WRITERS)
def manage_licenses(request):
    """Manage product licenses for the selected users: assign at once; unassign and Replace after a
    review (who loses which license; for Replace each user's change, the licenses missing and the backup
    confirmation when data would be lost). The confirmation carries the review's digest: if the users or
    their licenses changed since, nothing happens and the review is shown again."""
    form = _LicensesForm.of(request)
    listed = _subscription_filter(request, form.filters["subscription"])  # the list's filter: nobody's is a 404
    selection = None
    try:
        only, download = user_changes_fields(request.POST)  # the review's table: checked before anything is done
        selection = _selection(request, request.POST, form.filters, listed)
        if selection["count"] > SELECT_MAX:
            raise DomainError(_("Choose at most %(max)s users at a time.") % {"max": f"{SELECT_MAX:,}"},
                              code="too_many_users")
        return _licenses_act(request, form, selection, only=only, download=download)
    except DomainError as exc:
        if form.action in ("replace", "unassign") and form.step == "confirm" and selection is not None:
            try:  # the review again, with why it was refused (the backup confirmation, licenses missing, changes)
                return _review(request, form.filters, selection, form.subscription,
                               form.to_subscription if form.action == "replace" else None, form.back,
                               action=form.action, error=str(exc.detail))
            except DomainError:
                pass
        # The subscriptions are the form's fields: one that isn't there is refused beside them.
        refusal_kept(request, exc, page=form.back, form="licenses", named_in_url=False)
    return HttpResponseRedirect(form.back)


def _licenses_act(request, form: _LicensesForm, selection: dict, *, only: str | None, download: bool):
    """The action asked for: done (assign; unassign and Replace confirmed), or its review first."""
    upns, actor, action = selection["upns"], request.user.get_username(), form.action
    if action == "assign":
        count = license_assign(tenant=request.tenant, subscription_id=form.subscription, upns=upns, actor=actor)
        if count:
            messages.success(request, ngettext("A license was assigned to %(count)d user.",
                                               "Licenses were assigned to %(count)d users.", count) % {"count": count})
        else:
            messages.info(request, _("They already have a license of this product, on this subscription or "
                                     "another: nothing changed."))
        return HttpResponseRedirect(form.done)
    if action == "replace" and download:  # the review's rows, every user
        return _replace_csv(request, form, upns, only=only)
    if action in ("unassign", "replace") and form.step != "confirm":
        return _review(request, form.filters, selection, form.subscription,
                       form.to_subscription if action == "replace" else None, form.back, action=action)
    if action == "unassign":
        count = license_unassign(tenant=request.tenant, subscription_id=form.subscription, upns=upns, actor=actor,
                                 reviewed=form.reviewed or "-")
        messages.success(request, ngettext("A license was unassigned from %(count)d user.",
                                           "Licenses were unassigned from %(count)d users.", count) % {"count": count})
        return HttpResponseRedirect(form.done)
    if action == "replace":
        count = license_replace(tenant=request.tenant, from_subscription_id=form.subscription,
                                to_subscription_id=form.to_subscription, upns=upns, actor=actor,
                                backup_confirmed=_confirmed(request.POST.get("backup_confirmed", "")),
                                reviewed=form.reviewed or "-")
        messages.success(request, ngettext("%(count)d user moved to the other subscription.",
                                           "%(count)d users moved to the other subscription.", count)
                         % {"count": count})
        return HttpResponseRedirect(reverse("users:active") + f"?subscription={form.to_subscription}")
    raise DomainError(_("Choose what to do with the licenses."), field="action")


def _replace_csv(request, form: _LicensesForm, upns, *, only: str | None) -> HttpResponse:
    review = license_replace_preview(tenant=request.tenant, from_subscription_id=form.subscription,
                                     to_subscription_id=form.to_subscription, upns=upns)
    text = user_changes_csv(review, source=review.source.product.name, target=review.target.product.name, only=only)
    return HttpResponse(text, content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="replace-users.csv"'})


def _confirmed(value: str) -> bool:
    """The backup checkbox: ticked ("yes") or not (""); anything else is refused, never taken as either."""
    if value not in ("", "yes"):
        raise DomainError(_("Tick the box to confirm that you have backed up the data, or leave it empty."),
                          code="invalid_confirmation", field="backup_confirmed")
    return value == "yes"


def _review(request, filters, selection, subscription, to_subscription, back, *, action="replace", error=""):
    """The pane's review before anything happens: for Replace each user's change, for unassign who
    loses which license."""
    context = _page_context(request, filters)
    pane = {"selection": selection, "action": action, "guidance": BACKUP_GUIDANCE, "next": back}
    if action == "replace":
        pane["review"] = license_replace_preview(tenant=request.tenant, from_subscription_id=subscription,
                                                 to_subscription_id=to_subscription, upns=selection["upns"])
    else:
        pane["unassign"] = license_unassign_preview(tenant=request.tenant, subscription_id=subscription,
                                                    upns=selection["upns"])
    context["pane"] = pane
    if error:
        context["errors"] = [*context["errors"], error]
    return render(request, "licensing/active_users.html", context)
