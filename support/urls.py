from django.urls import path

from support import imports, views

app_name = "support"
urlpatterns = [
    path("", views.console, name="console"),
    path("clock/", views.advance_clock, name="clock"),
    path("changes/<id:change_id>/", views.change, name="change"),
    path("changes/<id:change_id>/retry/", views.change_retry, name="change-retry"),
    path("changes/<id:change_id>/cancel/", views.change_cancel, name="change-cancel"),
    path("credit-checks/<id:check_id>/", views.credit_check, name="credit-check"),
    path("incidents/", views.incident_create, name="incident-create"),
    path("incidents/<id:incident_id>/", views.incident_change, name="incident-change"),
    path("subscriptions/<id:subscription_id>/provision/", views.provision, name="provision"),
    path("tenants/", views.tenants, name="tenants"),
    path("tenants/import/", imports.tenant_import_page, name="tenant-import"),
    path("tenants/<id:tenant_id>/view/", views.view_as, name="view-as"),
    path("tenants/<id:tenant_id>/payments/", views.tenant_payments, name="tenant-payments"),
    path("tenants/<id:tenant_id>/payments/habit/", views.payment_habit, name="payment-habit"),
    path("view-as/stop/", views.view_as_stop, name="view-as-stop"),
]
