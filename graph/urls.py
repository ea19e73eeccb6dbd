"""``/graph/v1.0/``: Microsoft Graph's licensing resources (docs/graph.md). Every other path under /graph/ is
Graph's 400 for an unknown segment, never an HTML page."""

from django.urls import path, re_path

from graph import views
from graph.batch import BatchView
from graph.organization import OrganizationView

urlpatterns = [
    path("v1.0/subscribedSkus", views.SubscribedSkusView.as_view(), name="graph-subscribed-skus"),
    path("v1.0/subscribedSkus/<str:sku_id>", views.SubscribedSkusView.as_view(), name="graph-subscribed-sku"),
    path("v1.0/directory/subscriptions", views.SubscriptionsView.as_view(), name="graph-subscriptions"),
    path("v1.0/directory/subscriptions/<str:subscription_id>", views.SubscriptionsView.as_view(),
         name="graph-subscription"),
    path("v1.0/organization", OrganizationView.as_view(), name="graph-organization"),
    path("v1.0/organization/<str:organization_id>", OrganizationView.as_view(), name="graph-organization-item"),
    path("v1.0/users", views.UsersView.as_view(), name="graph-users"),
    path("v1.0/users/<str:user_id>", views.UserView.as_view(), name="graph-user"),
    path("v1.0/users/<str:user_id>/licenseDetails", views.LicenseDetailsView.as_view(), name="graph-license-details"),
    path("v1.0/users/<str:user_id>/assignLicense", views.AssignLicenseView.as_view(), name="graph-assign-license"),
    path("v1.0/$batch", BatchView.as_view(), name="graph-batch"),
    re_path(r"^.*$", views.UnsupportedView.as_view(), name="graph-unsupported"),
]
