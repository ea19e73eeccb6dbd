"""Billing's models: the catalog, how a tenant pays, subscriptions, invoices and credit checks."""

from billing.models.accounts import (
    PAYMENT_DELAY_MAX_DAYS,
    BillingProfile,
    InvoicePayer,
    PaymentHabit,
    PaymentMethod,
)
from billing.models.catalog import (
    ADDON_CODE,
    MONEY,
    AddOnProduct,
    BillingFrequency,
    MicrosoftServicePlan,
    Offer,
    PaymentKind,
    Product,
    ServicePlan,
    Term,
)
from billing.models.invoices import CreditCheck, CreditCheckStatus, Invoice, InvoiceLine
from billing.models.subscriptions import (
    LicenseChange,
    RemovedAddOn,
    Subscription,
    SubscriptionAddOn,
    SubscriptionStatus,
)

__all__ = [
    "ADDON_CODE", "MONEY", "AddOnProduct", "BillingFrequency", "BillingProfile", "CreditCheck", "CreditCheckStatus",
    "Invoice", "InvoiceLine", "InvoicePayer", "LicenseChange", "MicrosoftServicePlan", "Offer",
    "PAYMENT_DELAY_MAX_DAYS", "PaymentHabit", "PaymentKind", "PaymentMethod", "Product", "RemovedAddOn",
    "ServicePlan", "Subscription", "SubscriptionAddOn", "SubscriptionStatus", "Term",
]
