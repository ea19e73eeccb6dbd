"""The audit verbs webhooks records (``portal.services.event_record``), each registered with what it says
(``webhooks/texts.py`` ``EVENTS``): a verb is written here once and nowhere as a string literal."""

WEBHOOK_CREATED = "webhook.created"
WEBHOOK_DELETED = "webhook.deleted"
WEBHOOK_FAILING = "webhook.failing"
WEBHOOK_RECOVERED = "webhook.recovered"
WEBHOOK_RESENT = "webhook.resent"
WEBHOOK_TEST_SENT = "webhook.test_sent"
