"""A requested plan change, its workflow steps and its quotes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models import MONEY, BillingFrequency, PaymentMethod, Product, Subscription, Term
from portal.models import Tenant
from portal.texts import render_or


class PlanChangeStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class PlanChangeSchedule(models.TextChoices):
    NOW = "now", _("Now")
    RENEWAL = "renewal", _("At renewal")


# Under way: a change that holds its subscription or waits for its date (one per subscription at most).
LIVE_STATUSES = (PlanChangeStatus.SCHEDULED, PlanChangeStatus.QUEUED, PlanChangeStatus.RUNNING)


class PlanChange(models.Model):
    """One requested change of a subscription to another product."""

    Status = PlanChangeStatus

    Schedule = PlanChangeSchedule

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="plan_changes")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="plan_changes"
    )
    target_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    licenses = models.PositiveIntegerField()
    term = models.CharField(max_length=3, choices=Term.choices)
    billing_frequency = models.CharField(max_length=8, choices=BillingFrequency.choices)
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.NOW)
    scheduled_for = models.DateField(null=True, blank=True)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    new_subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="changes_into",
        help_text="where the users go: the subscription the change provisioned, or the one it goes into",
    )
    into_existing = models.BooleanField(
        default=False, help_text="the change goes into a subscription of the target product the tenant already "
                                 "has (new_subscription, set when it is requested); licenses: the ones it adds")
    effective_date = models.DateField(null=True, blank=True, help_text="the day billing switches")
    quote = models.ForeignKey("Quote", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credit = models.DecimalField(**MONEY, null=True, blank=True)
    blockers = models.JSONField(default=list, blank=True, help_text="codes that failed validate")
    disabled_plans_before = models.JSONField(
        default=dict, blank=True, help_text="upn → service plans that were turned off"
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_detail = models.TextField(blank=True, help_text="why it failed or was cancelled, in English (the API's)")
    error_text = models.CharField(max_length=64, blank=True, default="",
                                  help_text="the key of that reason's text in portal.texts; empty: show the detail")
    error_params = models.JSONField(default=dict, blank=True, help_text="what that text is made of")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(help_text="simulation time")
    completed_at = models.DateTimeField(null=True, blank=True)
    retried_at = models.DateTimeField(null=True, blank=True,
                                      help_text="machine time support staff last retried it (a worker was woken)")
    updated_at = models.DateTimeField(auto_now=True, help_text="machine time, for the sweep")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status"]), models.Index(fields=["status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"], condition=Q(status__in=LIVE_STATUSES),
                name="one_live_plan_change_per_subscription",
            ),
            models.CheckConstraint(condition=Q(status__in=PlanChangeStatus.values), name="planchange_status_valid"),
            models.CheckConstraint(condition=Q(licenses__gte=1) | Q(into_existing=True, licenses__gte=0),
                                   name="planchange_licenses_positive"),
            models.CheckConstraint(
                condition=~Q(schedule=PlanChangeSchedule.RENEWAL) | Q(scheduled_for__isnull=False),
                name="planchange_renewal_has_date",
            ),
        ]

    def __str__(self):
        return f"change #{self.pk} {self.subscription_id} → {self.target_product_id} ({self.status})"

    @property
    def error_message(self) -> str:
        """Why it failed or was cancelled, in the reader's language (the stored English detail when the
        reason has no text: older changes, a bug's message)."""
        return render_or(self.error_text, self.error_params, self.error_detail)

    @property
    def into_subscription_id(self) -> int | None:
        """The tenant's subscription the change goes into (its licenses grow), else None."""
        return self.new_subscription_id if self.into_existing else None

    @property
    def holder(self) -> str:
        """How billing knows this change holds a subscription read-only (``Subscription.held_by``)."""
        return f"plan_change/{self.pk}"


class StepName(models.TextChoices):
    VALIDATE = "validate", _("Validate")
    PROVISION = "provision", _("Provision the new subscription")
    MIGRATE_LICENSES = "migrate_licenses", _("Move licenses")
    BILL = "bill", _("Bill")
    CANCEL_SOURCE = "cancel_source", _("Cancel the old subscription")
    COMPLETE = "complete", _("Complete")


class PlanChangeStep(models.Model):
    """One workflow step of a change, persisted so every step can run twice safely."""

    Name = StepName

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    ORDER = [n.value for n in Name]

    plan_change = models.ForeignKey(PlanChange, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=20, choices=Name.choices)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["plan_change", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan_change", "name"], name="step_once_per_change"),
            models.UniqueConstraint(fields=["plan_change", "position"], name="step_position_unique"),
            models.CheckConstraint(condition=Q(name__in=StepName.values), name="step_name_valid"),
        ]

    def __str__(self):
        return f"{self.plan_change_id}:{self.name} {self.status}"


class Quote(models.Model):
    """A preview of a change's money, binding until it expires or its inputs change."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="quotes")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="quotes")
    target_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    licenses = models.PositiveIntegerField()
    term = models.CharField(max_length=3, choices=Term.choices)
    billing_frequency = models.CharField(max_length=8, choices=BillingFrequency.choices)
    schedule = models.CharField(max_length=8, choices=PlanChange.Schedule.choices)
    effective_date = models.DateField()
    credit = models.DecimalField(**MONEY)
    charge = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    lines = models.JSONField(default=list)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    into_subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="the subscription of the target product the change goes into (none: a new one)",
    )
    fingerprint = models.CharField(max_length=64, help_text="hash of what the quote was computed from")
    computed_from = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(credit__lte=0), name="quote_credit_not_positive"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="quote_expires_after_created"
            ),
        ]

    def __str__(self):
        return f"quote {self.pk} total {self.total}"

    @property
    def credit_delivery(self) -> dict | None:
        """How the credit reaches the payer, and when (``billing.invoicing.credit_delivery``)."""
        from billing.invoicing import credit_delivery

        return credit_delivery(subscription=self.subscription, effective=self.effective_date, credit=self.credit,
                               total=self.total)


class IdempotencyRecord(models.Model):
    """The first answer to a request made with an Idempotency-Key, kept 24 hours."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        DONE = "done", _("Done")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "key"], name="idempotency_key_once_per_caller"),
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"{self.key} ({self.state})"
