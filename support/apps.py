from django.apps import AppConfig


class SupportConfig(AppConfig):
    """The support console: every tenant's plan changes, credit checks, incidents and clock, for
    support staff (pages and ``/api/v1/support/``)."""

    name = "support"
