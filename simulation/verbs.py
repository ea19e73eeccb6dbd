"""The audit verbs simulation records (``portal.services.event_record``), each registered with what it says
(``simulation/texts.py`` ``EVENTS``): a verb is written here once and nowhere as a string literal."""

CLOCK_ADVANCED = "clock.advanced"
SUPPORT_STAFF_CREATED = "support_staff.created"
TENANT_LOADED = "tenant.loaded"
TENANT_IMPORTED = "tenant.imported"
