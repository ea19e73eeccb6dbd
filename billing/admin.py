from django.contrib import admin

from billing.models import (
    AddOnProduct,
    BillingProfile,
    CreditCheck,
    Invoice,
    InvoiceLine,
    InvoicePayer,
    Offer,
    PaymentMethod,
    Product,
    ServicePlan,
    Subscription,
    SubscriptionAddOn,
)
from portal.admin_base import ReadOnlyAdmin, ReadOnlyInline


@admin.register(ServicePlan)
class ServicePlanAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "service", "level", "data_related"]


class OfferInline(ReadOnlyInline):
    model = Offer


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "sku", "family", "annual_price", "monthly_price", "max_licenses"]
    inlines = [OfferInline]


@admin.register(AddOnProduct)
class AddOnProductAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "blocks_plan_change"]


class SubscriptionAddOnInline(ReadOnlyInline):
    model = SubscriptionAddOn


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "product", "licenses", "status", "term", "billing_frequency", "start_date"]
    list_filter = ["status", "term", "billing_frequency", "source", "payment"]
    list_select_related = ["tenant", "product"]
    search_fields = ["tenant__domain", "product__sku"]
    inlines = [SubscriptionAddOnInline]


@admin.register(BillingProfile)
class BillingProfileAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant", "payment", "payment_habit", "payment_delay_days"]
    list_select_related = ["tenant"]


@admin.register(InvoicePayer)
class InvoicePayerAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "payment_habit", "payment_delay_days"]
    list_select_related = ["tenant"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "kind", "last4", "is_default"]
    list_select_related = ["tenant"]


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "tenant", "date", "due_date", "total", "paid"]
    list_select_related = ["tenant"]
    search_fields = ["number", "tenant__domain"]
    inlines = [InvoiceLineInline]


@admin.register(CreditCheck)
class CreditCheckAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "status", "requested", "decided_on"]
    list_filter = ["status"]
    list_select_related = ["tenant"]
