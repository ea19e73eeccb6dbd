"""Webhook endpoints of a tenant, the messages made for them and every attempt to send one.

Times here are machine time (``timezone.now()``), not the simulation clock: retries wait for a
real server's real minutes, and moving the clock two years must not fire every retry at once.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Event, Tenant


class EndpointStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FAILING = "failing", _("Failing")


class Endpoint(models.Model):
    """A URL of the tenant's that is sent the event types it chose, signed with its secret."""

    Status = EndpointStatus

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    events = models.JSONField(default=list, help_text="the webhook event types sent to it")
    # Kept (not hashed): every delivery is signed with it. Shown to the admin once, at creation.
    secret = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=EndpointStatus.values),
                                   name="webhook_endpoint_status_valid"),
        ]

    def __str__(self):
        return f"{self.url} ({self.tenant.domain})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One message for one endpoint: its exact body (signed anew at each attempt), and where its
    attempts stand. A source event makes at most one delivery per endpoint."""

    Status = DeliveryStatus

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              help_text="the audit event it tells of (none for a test event)")
    message_id = models.CharField(max_length=40, unique=True, help_text="webhook-id: the same on every attempt")
    type = models.CharField(max_length=64)
    body = models.TextField(help_text="the JSON sent, byte for byte")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="attempts in this round (a resend starts a new one)")
    next_attempt_at = models.DateTimeField(null=True, blank=True,
                                           help_text="when it is due (or, while one is sending, its lease)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], condition=models.Q(event__isnull=False),
                                    name="webhook_delivery_once_per_event"),
            models.CheckConstraint(condition=models.Q(status__in=DeliveryStatus.values),
                                   name="webhook_delivery_status_valid"),
        ]

    def __str__(self):
        return f"{self.message_id} {self.type} → {self.endpoint.url}"


class AttemptError(models.TextChoices):
    """Why an attempt failed other than by its HTTP status (pages show this; ``error`` has the details)."""

    TIMEOUT = "timeout", _("No answer in time")
    REDIRECT = "redirect", _("Redirect not followed")
    UNRESOLVED = "unresolved", _("The host name doesn't resolve")
    PRIVATE = "private", _("Refused: a loopback, private or reserved address")
    CONNECTION = "connection", _("Couldn't connect")
    INVALID_URL = "invalid_url", _("Not a URL a webhook can go to")


class Attempt(models.Model):
    """One try at sending a delivery: the HTTP status it got, or why there was none."""

    Error = AttemptError

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_kind = models.CharField(max_length=16, choices=AttemptError.choices, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="the details, in English")
    duration_ms = models.PositiveIntegerField(default=0)
    response = models.CharField(max_length=500, blank=True, help_text="the start of the answer's body")

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_once")]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class FanOutCursor(models.Model):
    """The one row saying up to which audit event every delivery has been made."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="webhook_cursor_single_row")]

    def __str__(self):
        return f"webhooks fanned out through event {self.last_event_id}"
