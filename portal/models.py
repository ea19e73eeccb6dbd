"""The admin-center shell: tenants, their admins, the simulation clock, service
incidents and the audit trail."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal import generation, tokens


class KeptQuerySet(models.QuerySet):
    """Rows web processes keep between API requests (``portal.api.kept``): a write of many rows, which sends
    no signal, draws a new generation itself (``portal.generation``; ``portal.apps`` connects the receivers
    for single rows stored and any rows deleted)."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            generation.bump(self.db)
        return rows

    def bulk_create(self, objs, *args, **kwargs):
        made = super().bulk_create(objs, *args, **kwargs)
        if made:
            generation.bump(self.db)
        return made

    def bulk_update(self, objs, fields, *args, **kwargs):
        rows = super().bulk_update(objs, fields, *args, **kwargs)
        if rows:
            generation.bump(self.db)
        return rows


class ApiTokenQuerySet(KeptQuerySet):
    def mark_used(self, now) -> int:
        """``last_used_at = now``, and no new generation: when a token was last used decides nothing a kept
        token is let through for (``portal.services.api_token_mark_used`` notes it at most once a minute)."""
        return super(KeptQuerySet, self).update(last_used_at=now)


class TenantKind(models.TextChoices):
    COMMERCIAL = "commercial", _("Commercial")
    GOVERNMENT = "government", _("Government")
    NONPROFIT = "nonprofit", _("Nonprofit")


class TenantAgreement(models.TextChoices):
    MOSA = "MOSA", _("Microsoft Online Subscription Agreement")
    MCA = "MCA", _("Microsoft Customer Agreement")


class Tenant(models.Model):
    """An organization (a Microsoft 365 tenant)."""

    Kind = TenantKind
    Agreement = TenantAgreement

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMERCIAL)
    agreement = models.CharField(
        max_length=4, choices=Agreement.choices, default=Agreement.MOSA
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = KeptQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=TenantKind.values),
                name="tenant_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(agreement__in=TenantAgreement.values),
                name="tenant_agreement_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.domain})"

    @property
    def has_billing_profile(self) -> bool:
        return self.agreement == self.Agreement.MCA


class Role(models.TextChoices):
    GLOBAL_ADMIN = "global_admin", _("Global admin")
    BILLING_ADMIN = "billing_admin", _("Billing admin")
    LICENSE_ADMIN = "license_admin", _("License admin")
    USER_ADMIN = "user_admin", _("User admin")
    GLOBAL_READER = "global_reader", _("Global reader")
    SERVICE_SUPPORT_ADMIN = "service_support_admin", _("Service support admin")


class AdminMembership(models.Model):
    """One role of one admin (a Django login) in one tenant."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)

    objects = KeptQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.role} @ {self.tenant.domain}"


class SimulationClock(models.Model):
    """The one row holding how far the simulation runs ahead of real time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    offset = models.DurationField(default=timedelta(0))
    applied_through = models.DateField(
        null=True, blank=True,
        help_text="the last simulation day whose renewals, invoices and lifecycle moves were applied",
    )
    applying_day = models.DateField(
        null=True, blank=True, help_text="the day after applied_through while its tenants are applied in turn",
    )
    applying_tenants_through = models.BigIntegerField(
        null=True, blank=True, help_text="applying_day's billing is applied for every tenant up to this id",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="clock_single_row"),
        ]

    def __str__(self):
        return f"clock offset {self.offset}"


class Service(models.TextChoices):
    """Services as grouped in CATALOG.md (a service plan belongs to one). Each is called by its one
    name, the catalog's (``billing/catalog.json`` "services"), in every language: a product or service
    name is never translated."""

    EXCHANGE = "exchange", "Exchange Online"
    EXCHANGE_ARCHIVING = "exchange_archiving", "Exchange Online Archiving"
    SHAREPOINT = "sharepoint", "SharePoint"
    ONEDRIVE = "onedrive", "OneDrive"
    VIVA_ENGAGE = "viva_engage", "Viva Engage"
    TEAMS = "teams", "Microsoft Teams"
    OFFICE_WEB = "office_web", "Office for the web"
    OFFICE_DESKTOP = "office_desktop", "Microsoft 365 Apps"
    INTUNE = "intune", "Microsoft Intune"
    ENTRA = "entra", "Microsoft Entra ID"
    DEFENDER = "defender", "Microsoft Defender for Business"


class IncidentStatus(models.TextChoices):
    # Graph's serviceHealthStatus values.
    SERVICE_OPERATIONAL = "serviceOperational", _("Healthy")
    INVESTIGATING = "investigating", _("Investigating")
    RESTORING_SERVICE = "restoringService", _("Restoring service")
    VERIFYING_SERVICE = "verifyingService", _("Verifying service")
    SERVICE_RESTORED = "serviceRestored", _("Service restored")
    POST_INCIDENT_REVIEW_PUBLISHED = (
        "postIncidentReviewPublished", _("Post-incident report published"))
    SERVICE_DEGRADATION = "serviceDegradation", _("Service degradation")
    SERVICE_INTERRUPTION = "serviceInterruption", _("Service interruption")
    EXTENDED_RECOVERY = "extendedRecovery", _("Extended recovery")
    FALSE_POSITIVE = "falsePositive", _("False positive")
    INVESTIGATION_SUSPENDED = "investigationSuspended", _("Investigation suspended")
    RESOLVED = "resolved", _("Resolved")
    MITIGATED_EXTERNAL = "mitigatedExternal", _("Mitigated (external)")
    MITIGATED = "mitigated", _("Mitigated")
    RESOLVED_EXTERNAL = "resolvedExternal", _("Resolved (external)")
    CONFIRMED = "confirmed", _("Confirmed")
    REPORTED = "reported", _("Reported")


class ServiceIncident(models.Model):
    """An incident on a service, as on Health > Service health (Graph's serviceHealthIssue)."""

    Status = IncidentStatus

    HEALTHY = frozenset({
        Status.SERVICE_OPERATIONAL, Status.SERVICE_RESTORED, Status.RESOLVED,
        Status.FALSE_POSITIVE, Status.POST_INCIDENT_REVIEW_PUBLISHED,
    })

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="incidents")
    service = models.CharField(max_length=32, choices=Service.choices)
    status = models.CharField(max_length=40, choices=Status.choices)
    title = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["tenant", "service"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service__in=Service.values), name="incident_service_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=IncidentStatus.values), name="incident_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.service}: {self.title} ({self.status})"

    @property
    def is_healthy(self) -> bool:
        return self.status in self.HEALTHY


class Event(models.Model):
    """One row of the audit trail: who did what to which object, when (simulation time)."""

    # No index of its own: (tenant, -occurred_at) below serves every read by tenant (and the cascade), and each
    # index is one more write per row of the busiest table (a clock move writes some 800 rows a busy day).
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="events", null=True, blank=True, db_index=False
    )
    actor = models.CharField(max_length=254, help_text="username, 'system' or 'scenario'")
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(help_text="simulation time")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-occurred_at"])]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor} {self.verb}"


class ApiTokenStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class ApiToken(models.Model):
    """One API token of one admin (or support staff): ``Authorization: Token <token>`` acts as that
    login, with its roles. Only the token's SHA-256 digest is stored (``portal.tokens`` says why a
    fast hash is right for random tokens); the token itself is shown once, when it is made.

    Times are real time, not the simulation clock: moving the simulation a year ahead must not
    expire every script's token, and "last used" tells when a script really ran."""

    Status = ApiTokenStatus

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=12, db_index=True,
                              help_text="pcp_ and the token's key id, or ~ and a digest's start (legacy)")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the whole token, hex")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def prefix(self) -> str:
        """What a list shows of the token: ``pcp_`` and its key id (nothing of a legacy one)."""
        return "" if self.key_id.startswith(tokens.LEGACY_MARK) else self.key_id

    def status_at(self, now) -> str:
        if self.revoked_at is not None:
            return ApiTokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return ApiTokenStatus.EXPIRED
        return ApiTokenStatus.ACTIVE


class WorkerBeat(models.Model):
    """A Celery worker's last sign of life on one queue: a task of that queue it started or finished
    (``portal.workers``). Real time, not the simulation clock; one row per worker and queue."""

    hostname = models.CharField(max_length=255, help_text="the worker's node name, e.g. worker@host")
    queue = models.CharField(max_length=100)
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["queue", "-beat_at"]
        constraints = [models.UniqueConstraint(fields=["hostname", "queue"], name="worker_beat_once_per_queue")]

    def __str__(self):
        return f"{self.hostname} {self.queue} {self.beat_at:%Y-%m-%d %H:%M:%S}"
