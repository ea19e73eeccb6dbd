"""What the simulation's audit events say (their params are the events' data)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

EVENTS = {
    "clock.advanced": lambda params: gettext("The simulation clock moved from %(from)s to %(to)s.") % params,
    "tenant.loaded": _("Loaded from a scenario."),
    "support_staff.created": _("Support staff %(username)s added from a scenario."),
}
