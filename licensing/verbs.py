"""The audit verbs licensing records (``portal.services.event_record``), each registered with what it says
(``licensing/texts.py`` ``EVENTS``): a verb is written here once and nowhere as a string literal."""

LICENSES_ASSIGNED = "licenses.assigned"
LICENSES_CHANGED = "licenses.changed"  # one user's licenses added and removed at once (Graph's assignLicense)
LICENSES_MOVED = "licenses.moved"
LICENSES_REMOVED = "licenses.removed"
LICENSES_REPLACED = "licenses.replaced"
LICENSES_UNASSIGNED = "licenses.unassigned"
USER_CREATED = "user.created"
