"""What webhooks' audit events say (portal.texts: rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

EVENTS = {
    "webhook.created": _("Webhook added: %(url)s."),
    "webhook.deleted": _("Webhook deleted: %(url)s."),
    "webhook.test_sent": _("Test event %(message)s sent."),
    "webhook.resent": _("Message %(message)s (%(type)s) sent again."),
    "webhook.failing": _("Webhook %(url)s is failing: message %(message)s wasn't delivered after %(attempts)s "
                         "attempts."),
    "webhook.recovered": _("Webhook %(url)s works again: message %(message)s was delivered."),
}
