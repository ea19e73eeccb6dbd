"""What licensing's audit events say, for the one registry (``portal.texts``); their params are the
events' data."""

from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from licensing.verbs import (
    LICENSES_ASSIGNED,
    LICENSES_CHANGED,
    LICENSES_MOVED,
    LICENSES_REMOVED,
    LICENSES_REPLACED,
    LICENSES_UNASSIGNED,
    USER_CREATED,
)


def _count(params: dict) -> int:
    return params["count"] if "count" in params else len(params.get("users") or [])


def _users(message):
    """``message`` (an ``ngettext_lazy`` counting ``count``) for the number of users the event names."""
    return lambda params: message % {"count": _count(params)}


def _removed(params: dict) -> str:
    if params.get("reason") == "the subscription was deleted":
        return ngettext("%(count)d license removed from users: the subscription was deleted.",
                        "%(count)d licenses removed from users: the subscription was deleted.",
                        _count(params)) % {"count": _count(params)}
    return ngettext("%(count)d license removed from users.", "%(count)d licenses removed from users.",
                    _count(params)) % {"count": _count(params)}


def _replaced(params: dict) -> str:
    text = ngettext("%(count)d user moved here with Replace.", "%(count)d users moved here with Replace.",
                    _count(params)) % {"count": _count(params)}
    if params.get("backup_confirmed"):
        text += " " + gettext("The admin confirmed that the data was backed up.")
    return text


# The doors a change can come through besides the portal's own, as an event's ``via`` names them.
VIA = {"graph": _("via Microsoft Graph")}


def _changed(params: dict) -> str:
    added = ", ".join(a["sku"] for a in params.get("added") or []) or "—"
    removed = ", ".join(r["sku"] for r in params.get("removed") or []) or "—"
    text = gettext("Licenses of %(user)s changed: added %(added)s; removed %(removed)s.") % {
        "user": params.get("user", ""), "added": added, "removed": removed}
    if params.get("via") in VIA:
        text += " (" + str(VIA[params["via"]]) + ")"
    return text


EVENTS = {
    LICENSES_ASSIGNED: _users(ngettext_lazy("A license was assigned to %(count)d user.",
                                              "Licenses were assigned to %(count)d users.", "count")),
    LICENSES_UNASSIGNED: _users(ngettext_lazy("A license was unassigned from %(count)d user.",
                                                "Licenses were unassigned from %(count)d users.", "count")),
    LICENSES_REPLACED: _replaced,
    LICENSES_CHANGED: _changed,
    LICENSES_MOVED: _users(ngettext_lazy("%(count)d user moved here by a plan change.",
                                           "%(count)d users moved here by a plan change.", "count")),
    LICENSES_REMOVED: _removed,
    USER_CREATED: _("User %(upn)s created."),
}
