"""The audit verbs portal records (``portal.services.event_record``), each registered with what it says
(``portal/texts.py`` ``EVENTS``): a verb is written here once and nowhere as a string literal."""

API_TOKEN_CREATED = "api_token.created"  # noqa: S105 (a verb, not a secret)
API_TOKEN_REVOKED = "api_token.revoked"  # noqa: S105 (a verb, not a secret)
INCIDENT_OPENED = "incident.opened"
INCIDENT_RESOLVED = "incident.resolved"
INCIDENT_UPDATED = "incident.updated"
