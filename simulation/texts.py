"""What the simulation's audit events say (their params are the events' data)."""

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from simulation.verbs import CLOCK_ADVANCED, SUPPORT_STAFF_CREATED, TENANT_IMPORTED, TENANT_LOADED


def _imported(params: dict) -> str:
    said = ngettext("Imported from a Microsoft Graph export: %(users)d user.",
                    "Imported from a Microsoft Graph export: %(users)d users.", params.get("users", 0)) % params
    if params.get("anonymized"):
        said += " " + gettext("Names and domains anonymized.")
    if params.get("replaced"):
        said += " " + gettext("It replaced the organization of the same domain, which was deleted whole.")
    return said


EVENTS = {
    CLOCK_ADVANCED: lambda params: gettext("The simulation clock moved from %(from)s to %(to)s.") % params,
    TENANT_LOADED: _("Loaded from a scenario."),
    TENANT_IMPORTED: _imported,
    SUPPORT_STAFF_CREATED: _("Support staff %(username)s added from a scenario."),
}
