"""What webhooks' audit events say (portal.texts: rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from webhooks.verbs import (
    WEBHOOK_CREATED,
    WEBHOOK_DELETED,
    WEBHOOK_FAILING,
    WEBHOOK_RECOVERED,
    WEBHOOK_RESENT,
    WEBHOOK_TEST_SENT,
)

EVENTS = {
    WEBHOOK_CREATED: _("Webhook added: %(url)s."),
    WEBHOOK_DELETED: _("Webhook deleted: %(url)s."),
    WEBHOOK_TEST_SENT: _("Test event %(message)s sent."),
    WEBHOOK_RESENT: _("Message %(message)s (%(type)s) sent again."),
    WEBHOOK_FAILING: _("Webhook %(url)s is failing: message %(message)s wasn't delivered after %(attempts)s "
                         "attempts."),
    WEBHOOK_RECOVERED: _("Webhook %(url)s works again: message %(message)s was delivered."),
}
