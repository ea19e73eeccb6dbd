"""The tenant's people and the licenses they hold."""

from django.db import models
from django.db.models import Q

from billing.models import Product, Subscription
from portal.models import Tenant


class DirectoryUser(models.Model):
    """A person in the tenant's directory (alice@contoso.com); not a portal login."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="users")
    upn = models.CharField(max_length=254, unique=True, help_text="user principal name")
    display_name = models.CharField(max_length=200)
    usage_location = models.CharField(
        max_length=2, blank=True, default="", db_default="",  # the database's too: set-based inserts may omit it
        help_text="two-letter country code (ISO 3166-1 alpha-2) where the user uses the services (Graph's "
                  "usageLocation); empty: none yet, and no license can be assigned")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "upn"]
        indexes = [models.Index(fields=["tenant", "display_name", "upn"])]
        constraints = [
            models.CheckConstraint(condition=Q(upn__contains="@"), name="user_upn_has_at"),
            models.CheckConstraint(condition=Q(upn=models.functions.Lower("upn")), name="user_upn_lowercase"),
            models.CheckConstraint(condition=Q(usage_location=models.functions.Upper("usage_location")),
                                   name="user_usage_location_uppercase"),
        ]

    def __str__(self):
        return self.upn


class LicenseAssignment(models.Model):
    """A user's license from one subscription, with the service plans turned off for them."""

    user = models.ForeignKey(DirectoryUser, on_delete=models.CASCADE, related_name="licenses")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="assignments"
    )
    disabled_plans = models.JSONField(
        default=list, blank=True, help_text="codes of the service plans turned off"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["subscription", "user"])]
        constraints = [
            models.UniqueConstraint(fields=["user", "subscription"], name="one_license_per_user_and_subscription"),
        ]

    def __str__(self):
        return f"{self.user} ← {self.subscription_id}"


class OtherServicePlan(models.Model):
    """A service plan of a product that Microsoft's reference, as the catalog loads it, doesn't list for it
    (a Graph export's, by its servicePlanName; a scenario's ``other_plans``): the tenant's licenses of the product
    may have it turned off (``LicenseAssignment.disabled_plans`` names it), and Graph answers it by
    ``service_plan_id``: the export's own, or one the simulation makes for a name that came without
    (``licensing.plans.other_plan_id``)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=64, help_text="servicePlanName, as disabled_plans name it")
    service_plan_id = models.UUIDField(help_text="servicePlanId, as Graph answers it")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product", "name"], name="other_plan_name_once_per_product"),
            models.UniqueConstraint(fields=["tenant", "product", "service_plan_id"],
                                    name="other_plan_id_once_per_product"),
        ]

    def __str__(self):
        return f"{self.name} ({self.service_plan_id})"


class LicenseMoveBatch(models.Model):
    """A batch of users a plan change moved from one subscription to another (``licenses_move_batch``):
    how many, and the service plans each had turned off there, which the move turned back on. The change
    reads both back (its users moved, the settings it reset) from these rows."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    holder = models.CharField(max_length=64, help_text="the change that moved them (plan_change/<id>)")
    from_subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")
    to_subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")
    users = models.PositiveIntegerField()
    reset_disabled_plans = models.JSONField(default=dict, blank=True,
                                            help_text="upn → the service plans that were turned off")
    moved_at = models.DateTimeField(help_text="simulation time")

    class Meta:
        indexes = [models.Index(fields=["tenant", "holder"])]

    def __str__(self):
        return f"{self.holder}: {self.users} users {self.from_subscription_id} → {self.to_subscription_id}"
