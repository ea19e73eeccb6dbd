from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("purchase/", views.purchase, name="purchase"),
    path("products/", views.your_products, name="products"),
    path("products/<id:subscription_id>/recurring-billing/", views.recurring_billing, name="recurring-billing"),
    path("products/<id:subscription_id>/licenses/", views.licenses, name="licenses"),
    path("products/<id:subscription_id>/setup/", views.subscription_setup, name="setup"),
    path("products/<id:subscription_id>/cancel/", views.cancel_subscription, name="cancel-subscription"),
    path("products/<id:subscription_id>/addons/<str:code>/add/", views.addon_add, name="addon-add"),
    path("products/<id:subscription_id>/addons/<str:code>/remove/", views.addon_remove, name="addon-remove"),
    path("products/<id:subscription_id>/trial/extend/", views.trial_extend, name="trial-extend"),
    path("products/<id:subscription_id>/trial/purchase/", views.trial_purchase, name="trial-purchase"),
    path("bills/", views.bills, name="bills"),
    path("bills/settle/", views.settle_balance, name="settle"),
    path("invoices/<id:invoice_id>/", views.invoice_detail, name="invoice"),
    path("invoices/<id:invoice_id>/pay/", views.invoice_pay_now, name="invoice-pay"),
    path("change-plans-manually/", views.change_manually, name="change-manually"),
]
