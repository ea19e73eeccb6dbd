"""What the simulation's audit events say (their params are the events' data)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from simulation.verbs import CLOCK_ADVANCED, SUPPORT_STAFF_CREATED, TENANT_LOADED

EVENTS = {
    CLOCK_ADVANCED: lambda params: gettext("The simulation clock moved from %(from)s to %(to)s.") % params,
    TENANT_LOADED: _("Loaded from a scenario."),
    SUPPORT_STAFF_CREATED: _("Support staff %(username)s added from a scenario."),
}
