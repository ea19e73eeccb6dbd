from django.urls import path

from planchange import support_views

app_name = "support"
urlpatterns = [
    path("", support_views.console, name="console"),
    path("clock/", support_views.advance_clock, name="clock"),
    path("changes/<id:change_id>/", support_views.change, name="change"),
    path("changes/<id:change_id>/retry/", support_views.change_retry, name="change-retry"),
    path("changes/<id:change_id>/cancel/", support_views.change_cancel, name="change-cancel"),
    path("credit-checks/<id:check_id>/", support_views.credit_check, name="credit-check"),
    path("incidents/", support_views.incident_create, name="incident-create"),
    path("incidents/<id:incident_id>/", support_views.incident_change, name="incident-change"),
    path("subscriptions/<id:subscription_id>/provision/", support_views.provision, name="provision"),
    path("tenants/", support_views.tenants, name="tenants"),
    path("tenants/<id:tenant_id>/view/", support_views.view_as, name="view-as"),
    path("view-as/stop/", support_views.view_as_stop, name="view-as-stop"),
]
