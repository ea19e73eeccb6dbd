"""Billing pages: Purchase services, Your products, a subscription's edits, Bills & payments, and the
checklist for changing plans manually."""

from billing.views.invoices import bills, invoice_detail, invoice_pay_now, settle_balance
from billing.views.manual import change_manually
from billing.views.products import purchase, your_products
from billing.views.setup import subscription_setup
from billing.views.subscriptions import (
    addon_add,
    addon_remove,
    cancel_subscription,
    licenses,
    recurring_billing,
    trial_extend,
    trial_purchase,
)

__all__ = ["addon_add", "addon_remove", "bills", "cancel_subscription", "change_manually", "invoice_detail",
           "invoice_pay_now", "licenses", "purchase", "recurring_billing", "settle_balance", "subscription_setup",
           "trial_extend", "trial_purchase", "your_products"]
