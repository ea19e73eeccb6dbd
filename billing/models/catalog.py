"""The catalog: service plans, products, offers (product × term × billing frequency) and add-ons."""


from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.inputs import LICENSES_MAX
from portal.models import Service

# Wide enough for any order the input bounds allow (1,000,000 licenses × the dearest offer × 36
# months) summed on one invoice many times over.
MONEY = {"max_digits": 18, "decimal_places": 2}


class Term(models.TextChoices):
    P1M = "P1M", _("1 month")
    P1Y = "P1Y", _("1 year")
    P3Y = "P3Y", _("3 years")


class BillingFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    ANNUAL = "annual", _("Annual")


class PaymentKind(models.TextChoices):
    CARD = "card", _("Credit or debit card")
    INVOICE = "invoice", _("Invoice")


# --- Catalog ---------------------------------------------------------------


class ServicePlan(models.Model):
    """A service plan inside a product (Graph's servicePlanName)."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=32, choices=Service.choices)
    level = models.PositiveSmallIntegerField()
    data_related = models.BooleanField()
    includes = models.JSONField(
        default=list, blank=True,
        help_text="services this plan provides too, at their first level, as Microsoft's reference folds them in "
                  "(SharePoint comes with OneDrive, Exchange Online (Plan 2) with archiving)")

    class Meta:
        ordering = ["service", "level"]
        constraints = [
            models.UniqueConstraint(fields=["service", "level"], name="serviceplan_level_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="serviceplan_level_positive"),
        ]

    def __str__(self):
        return self.name

    def provides(self) -> list[tuple[str, int]]:
        """(service, level) of what a user with this plan has: its own service and level, and each service it
        includes at level 1."""
        return [(self.service, self.level), *((service, 1) for service in self.includes)]


class MicrosoftServicePlan(models.Model):
    """One of Microsoft's service plans as its licensing reference lists it (Graph's ``servicePlanId`` and
    ``servicePlanName``). ``plan``: the catalog's service plan (a service at a level) it counts as, the one
    of the same code; none for the many plans the catalog's service groups leave out (Forms, Sway, …)."""

    service_plan_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=64, unique=True, help_text="servicePlanName")
    friendly_name = models.CharField(max_length=200)
    plan = models.OneToOneField(ServicePlan, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="microsoft_plan")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(models.Model):
    """A product (Graph's subscribedSku): its SKU and the service plans it includes."""

    sku = models.CharField(max_length=64, unique=True, help_text="skuPartNumber")
    sku_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=64, help_text="product family, for ordering upgrades")
    # What the portal decides with (data-related services, previews): the catalog's plans among the
    # product's Microsoft service plans (``catalog_sync`` keeps them so).
    service_plans = models.ManyToManyField(ServicePlan, related_name="products")
    microsoft_plans = models.ManyToManyField(MicrosoftServicePlan, related_name="products",
                                             help_text="every service plan Graph lists for the SKU")
    annual_price = models.DecimalField(
        **MONEY, help_text="per user per month with an annual commitment (USD)")
    monthly_price = models.DecimalField(
        **MONEY, help_text="per user per month with a monthly commitment (USD)")
    max_licenses = models.PositiveIntegerField(null=True, blank=True)
    price_is_simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["family", "annual_price"]
        constraints = [
            models.CheckConstraint(condition=Q(annual_price__gt=0), name="product_price_positive"),
        ]

    def __str__(self):
        return self.name

    @property
    def licenses_limit(self) -> int:
        """The most licenses one subscription may have: the product's maximum, or the bound every
        door keeps (``portal.inputs.LICENSES_MAX``) where it has none."""
        return self.max_licenses if self.max_licenses is not None else LICENSES_MAX


class Offer(models.Model):
    """A product sold for a term and billing frequency, at a price per user per month."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="offers")
    term = models.CharField(max_length=3, choices=Term.choices)
    billing_frequency = models.CharField(max_length=8, choices=BillingFrequency.choices)
    price = models.DecimalField(**MONEY, help_text="per user per month (USD)")

    class Meta:
        ordering = ["product", "term", "billing_frequency"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "term", "billing_frequency"], name="offer_unique"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="offer_price_positive"),
        ]

    def __str__(self):
        return f"{self.product.sku} {self.term}/{self.billing_frequency} {self.price}"


ADDON_CODE = r"[A-Z0-9_]{1,64}"  # what an add-on's code is made of (the catalog's codes, the API's input)


class AddOnProduct(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    blocks_plan_change = models.BooleanField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
